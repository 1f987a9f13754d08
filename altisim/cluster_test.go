package altisim_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aku-project/aku/altisim"
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
