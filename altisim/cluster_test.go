package altisim_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/aku-project/aku/altisim"
	"github.com/aku-project/aku/altisim/driver"
)

// newCluster returns a registered cluster closed when the test ends.
func newCluster(t *testing.T, o altisim.ClusterOptions) *altisim.Cluster {
	t.Helper()
	c := altisim.NewCluster(t.Name(), o)
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("closing cluster: %v", err)
		}
	})
	return c
}

func TestClusterConnectHostFaults(t *testing.T) {
	c := newCluster(t, altisim.ClusterOptions{})
	if _, err := c.AddServer("sts-0", altisim.Options{ReplicationPort: 20301}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		host    string
		fault   altisim.HostFault
		want    error
		minWait time.Duration
	}{
		{"running server", "sts-0", altisim.HostOK, nil, 0},
		{"unknown host", "sts-9", altisim.HostOK, altisim.ErrNoSuchHost, 0},
		{"absent", "sts-0", altisim.HostAbsent, altisim.ErrNoSuchHost, 0},
		{"refused", "sts-0", altisim.HostRefused, altisim.ErrConnectionRefused, 0},
		{"blackhole waits for the connect timeout", "sts-0", altisim.HostBlackhole, altisim.ErrConnectTimeout, 200 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.SetHostFault(tt.host, tt.fault)
			defer c.SetHostFault(tt.host, altisim.HostOK)
			start := time.Now()
			sess, err := c.Connect(context.Background(), tt.host, 20300, 200*time.Millisecond, altisim.ConnectOptions{User: "SYS", Password: "manager"})
			took := time.Since(start)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Connect error = %v, want %v", err, tt.want)
			}
			if err == nil {
				sess.Close()
			}
			if took < tt.minWait || took > tt.minWait+2*time.Second {
				t.Errorf("Connect took %v, want about %v", took, tt.minWait)
			}
		})
	}
}

func TestClusterBlackholeHonoursContext(t *testing.T) {
	c := newCluster(t, altisim.ClusterOptions{})
	c.SetHostFault("sts-1", altisim.HostBlackhole)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Connect(ctx, "sts-1", 20300, 0, altisim.ConnectOptions{User: "SYS", Password: "manager"})
	if !errors.Is(err, altisim.ErrConnectTimeout) {
		t.Fatalf("Connect error = %v, want ErrConnectTimeout", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Connect took %v after a 100ms context", took)
	}
}

func TestClusterServerLifecycle(t *testing.T) {
	c := newCluster(t, altisim.ClusterOptions{})
	dir := t.TempDir()
	if _, err := c.AddServer("sts-0", altisim.Options{DataDir: dir, ReplicationPort: 20301}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddServer("sts-0", altisim.Options{}); err == nil {
		t.Fatal("a second AddServer on a running host succeeded")
	}
	connect := func() error {
		s, err := c.Connect(context.Background(), "sts-0", 20300, time.Second, altisim.ConnectOptions{User: "SYS", Password: "manager"})
		if err == nil {
			s.Close()
		}
		return err
	}
	steps := []struct {
		name string
		do   func() error
		want error
	}{
		{"crash refuses connects", func() error { return c.Crash("sts-0") }, altisim.ErrConnectionRefused},
		{"start serves again", func() error { _, err := c.Start("sts-0"); return err }, nil},
		{"stop refuses connects", func() error { return c.Stop("sts-0") }, altisim.ErrConnectionRefused},
		{"restart of a stopped host serves", func() error { _, err := c.Restart("sts-0"); return err }, nil},
		{"remove makes the name unknown", func() error { return c.RemoveServer("sts-0") }, altisim.ErrNoSuchHost},
		{"add again on the same data directory", func() error {
			_, err := c.AddServer("sts-0", altisim.Options{DataDir: dir, ReplicationPort: 20301})
			return err
		}, nil},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if err := connect(); !errors.Is(err, st.want) {
			t.Fatalf("%s: connect error = %v, want %v", st.name, err, st.want)
		}
	}
	if got := c.Server("sts-0"); got == nil || got.Name() != "sts-0" {
		t.Fatalf("Server(sts-0) = %v, want the running server named sts-0", got)
	}
}

func TestClusterTransportDial(t *testing.T) {
	c := newCluster(t, altisim.ClusterOptions{})
	if _, err := c.AddServer("sts-0", altisim.Options{ReplicationPort: 20301}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddServer("sts-norepl", altisim.Options{}); err != nil {
		t.Fatal(err)
	}
	tr := c.Transport()
	tests := []struct {
		name string
		host string
		port int
		want error
	}{
		{"replication port", "sts-0", 20301, nil},
		{"wrong port", "sts-0", 20300, altisim.ErrConnectionRefused},
		{"replication disabled", "sts-norepl", 0, altisim.ErrConnectionRefused},
		{"unknown host", "sts-7", 20301, altisim.ErrNoSuchHost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := tr.Dial(context.Background(), tt.host, tt.port)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Dial error = %v, want %v", err, tt.want)
			}
			if err == nil {
				l.Close()
			}
		})
	}
}

func TestClusterLinkBreaksWhenPeerCrashes(t *testing.T) {
	c := newCluster(t, altisim.ClusterOptions{})
	if _, err := c.AddServer("sts-1", altisim.Options{ReplicationPort: 20301}); err != nil {
		t.Fatal(err)
	}
	l, err := c.Transport().Dial(context.Background(), "sts-1", 20301)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := c.Crash("sts-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Send(context.Background(), &altisim.ReplMessage{Kind: "handshake", Replication: "R", From: "sts-0"}); !errors.Is(err, altisim.ErrConnectionReset) {
		t.Fatalf("Send after crash: error = %v, want ErrConnectionReset", err)
	}
}

func TestClusterConnectLatency(t *testing.T) {
	c := newCluster(t, altisim.ClusterOptions{ConnectLatency: 50 * time.Millisecond})
	if _, err := c.AddServer("sts-0", altisim.Options{}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	s, err := c.Connect(context.Background(), "sts-0", 20300, time.Second, altisim.ConnectOptions{User: "SYS", Password: "manager"})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if took := time.Since(start); took < 50*time.Millisecond {
		t.Errorf("connect took %v, want at least the 50ms latency", took)
	}
}

func TestClusterRegistry(t *testing.T) {
	c := altisim.NewCluster(t.Name(), altisim.ClusterOptions{})
	if got := altisim.LookupCluster(t.Name()); got != c {
		t.Fatalf("LookupCluster = %p, want %p", got, c)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if got := altisim.LookupCluster(t.Name()); got != nil {
		t.Fatalf("LookupCluster after Close = %p, want nil", got)
	}
}

// sysConn opens a pinned SYSDBA connection to host of cluster c through
// the altisim driver.
func sysConn(t *testing.T, c *altisim.Cluster, host string) *sql.Conn {
	t.Helper()
	db, err := sql.Open(driver.DriverName, "CLUSTER="+c.Name()+";HOST="+host+";PORT=20300;UID=SYS;PWD=manager;PRIVILEGE=SYSDBA;CONNECT_TIMEOUT=1")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxIdleConns(0)
	t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatalf("connecting to %s: %v", host, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func run(t *testing.T, c *sql.Conn, q string) {
	t.Helper()
	if _, err := c.ExecContext(context.Background(), q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func rowCount(t *testing.T, c *sql.Conn) int64 {
	t.Helper()
	var n int64
	if err := c.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM T1").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestClusterReplication: the in-process transport carries replication
// between the cluster's servers by host name: START needs the peer's object
// (docs/altisim.md, "Replication objects": ERR-6100D), SYNC copies rows,
// FLUSH ships the rest;
// a crashed peer restarted on its data directory keeps its rows.
func TestClusterReplication(t *testing.T) {
	c := newCluster(t, altisim.ClusterOptions{})
	for _, h := range []string{"sts-0", "sts-1"} {
		if _, err := c.AddServer(h, altisim.Options{DataDir: t.TempDir(), ReplicationPort: 20301, ReplicationLag: time.Second}); err != nil {
			t.Fatal(err)
		}
	}
	a, b := sysConn(t, c, "sts-0"), sysConn(t, c, "sts-1")
	run(t, a, "CREATE TABLE T1 (I1 INTEGER PRIMARY KEY, I2 INTEGER)")
	run(t, b, "CREATE TABLE T1 (I1 INTEGER PRIMARY KEY, I2 INTEGER)")
	run(t, a, "CREATE REPLICATION R1 WITH 'sts-1', 20301 FROM SYS.T1 TO SYS.T1")
	_, err := a.ExecContext(context.Background(), "ALTER REPLICATION R1 START")
	var ae *altisim.Error
	if !errors.As(err, &ae) || ae.SQLState() != "6100D" {
		t.Fatalf("START without the peer's object: %v, want ERR-6100D", err)
	}
	run(t, b, "CREATE REPLICATION R1 WITH 'sts-0', 20301 FROM SYS.T1 TO SYS.T1")
	run(t, a, "INSERT INTO T1 VALUES (1, 1)")
	run(t, a, "ALTER REPLICATION R1 SYNC")
	if n := rowCount(t, b); n != 1 {
		t.Fatalf("peer rows after SYNC = %d, want 1", n)
	}
	run(t, a, "INSERT INTO T1 VALUES (2, 2)")
	if n := rowCount(t, b); n != 1 {
		t.Fatalf("peer rows before FLUSH = %d, want 1 (lag of a second)", n)
	}
	run(t, a, "ALTER REPLICATION R1 FLUSH")
	if n := rowCount(t, b); n != 2 {
		t.Fatalf("peer rows after FLUSH = %d, want 2", n)
	}
	if err := c.Crash("sts-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Start("sts-1"); err != nil {
		t.Fatal(err)
	}
	b = sysConn(t, c, "sts-1")
	if n := rowCount(t, b); n != 2 {
		t.Fatalf("peer rows after crash and restart = %d, want 2", n)
	}
	// The origin restarts too: its started replication starts again on its
	// own (REPLICATION_SENDER_AUTO_START; docs/altisim.md, "Replication
	// objects"), dialling the peer through the cluster while the cluster
	// starts it.
	if err := c.Crash("sts-0"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Start("sts-0"); err != nil {
		t.Fatal(err)
	}
	a = sysConn(t, c, "sts-0")
	run(t, a, "INSERT INTO T1 VALUES (3, 3)")
	run(t, a, "ALTER REPLICATION R1 FLUSH")
	if n := rowCount(t, b); n != 3 {
		t.Fatalf("peer rows after the origin's restart and FLUSH = %d, want 3", n)
	}
}
