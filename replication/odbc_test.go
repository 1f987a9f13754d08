//go:build cgo && !noodbc

package replication_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexbrainman/odbc"

	"github.com/aku-project/aku/altisim"
	"github.com/aku-project/aku/altisim/pgwire"
	"github.com/aku-project/aku/altisim/pgwire/pgwiretest"
	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/replication"
)

// These tests run Sessions through the production path — database/sql,
// alexbrainman/odbc, unixODBC, psqlODBC — against an altisim engine served
// over pgwire, to check the driver gotchas of docs/odbc.md where they
// bite: ExecContext is not cancellable (Exec goes through QueryContext and
// must take "Stmt did not create a result set" as success), codes arrive
// as SQLSTATE, and a lost connection is driver.ErrBadConn.

// odbcDiagnostics is what cmd/aku passes as Dialer.Diagnose.
func odbcDiagnostics(err error) (string, int, bool) {
	var e *odbc.Error
	if !errors.As(err, &e) || len(e.Diag) == 0 {
		return "", 0, false
	}
	return e.Diag[0].State, e.Diag[0].NativeError, true
}

// wireDialer serves a fresh engine on a loopback port for the test and
// returns it with a Dialer that reaches it through psqlODBC.
func wireDialer(t *testing.T, p replication.Policy) (*altisim.Server, *replication.Dialer) {
	t.Helper()
	pgwiretest.PinODBC(t)
	engine, port := pgwiretest.Serve(t, altisim.Options{Properties: map[string]int64{"ADMIN_MODE": 1}})
	return engine, &replication.Dialer{
		Driver:   "odbc",
		Template: pgwire.PsqlODBCTemplate,
		Port:     port,
		User:     "SYS",
		Password: "manager",
		Diagnose: odbcDiagnostics,
		Policy:   p,
	}
}

func TestODBCSession(t *testing.T) {
	engine, d := wireDialer(t, replication.Policy{QueryTimeout: 500 * time.Millisecond, RetryCount: 2, Sleep: new(sleeps).sleep})
	ctx := context.Background()
	s, err := d.Connect(ctx, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	// Statements without rows succeed through QueryContext.
	mustExec(t, s,
		"CREATE TABLE SYS.T1 (ID INTEGER PRIMARY KEY, V VARCHAR(20))",
		"INSERT INTO SYS.T1 VALUES (1, 'one')",
		"ALTER SYSTEM SET REPLICATION_DDL_ENABLE = 1")
	if v, err := s.Property(ctx, "REPLICATION_DDL_ENABLE"); err != nil || v != 1 {
		t.Errorf("REPLICATION_DDL_ENABLE = %d, %v; want 1", v, err)
	}
	rows, err := s.Query(ctx, "SELECT ID, V FROM SYS.T1")
	if err != nil || len(rows) != 1 {
		t.Fatalf("rows %v, %v", rows, err)
	}
	if got := fmt.Sprint(rows[0]...); got != "1one" {
		t.Errorf("row %#v, want 1, one", rows[0])
	}

	// State queries read the meta tables through the wire's types.
	mustExec(t, s, build(t)(replication.CreateReplication("AKU_REP_01", "altibase-sts-1.altibase-svc", 20301, []conf.Item{{User: "SYS", Table: "T1"}})))
	states, err := s.Replications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []replication.State{{Name: "AKU_REP_01", XSN: -1, ItemCount: 1, PeerHost: "altibase-sts-1.altibase-svc", PeerPort: 20301, Items: []conf.Item{{User: "SYS", Table: "T1"}}}}
	if fmt.Sprint(states) != fmt.Sprint(want) {
		t.Errorf("states %+v, want %+v", states, want)
	}

	// A rejected statement carries its Altibase code through SQLSTATE.
	err = s.Exec(ctx, "DROP REPLICATION AKU_REP_09")
	var se *replication.StatementError
	if !errors.As(err, &se) || se.Code != replication.CodeUndefinedName || !errors.Is(err, replication.ErrStatement) {
		t.Fatalf("error %v, want ERR-6111B", err)
	}
	if !strings.HasPrefix(err.Error(), "on 127.0.0.1: DROP REPLICATION AKU_REP_09: ERR-6111B : ") {
		t.Errorf("error text %q", err)
	}

	// A retryable code is retried.
	if err := engine.Faults().Add(altisim.Fault{Pattern: "ADMIN_MODE", Action: altisim.FaultFail, Nth: 1, Code: replication.CodeHandshake}); err != nil {
		t.Fatal(err)
	}
	mustExec(t, s, "ALTER SYSTEM SET ADMIN_MODE = 0")

	// A hung statement is cancelled at the timeout (SQLCancel through the
	// wire's CancelRequest) and the session stays usable.
	if err := engine.Faults().Add(altisim.Fault{Pattern: "REPLICATION_DDL_ENABLE = 0", Action: altisim.FaultHang, Nth: 1}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = s.Exec(ctx, "ALTER SYSTEM SET REPLICATION_DDL_ENABLE = 0")
	if !errors.Is(err, replication.ErrTimeout) {
		t.Fatalf("hung statement: %v, want ErrTimeout", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("cancel took %s", took)
	}
	if v, err := s.Property(ctx, "REPLICATION_DDL_ENABLE"); err != nil || v != 1 {
		t.Errorf("after the cancel: %d, %v; want 1 (the hung statement did not run)", v, err)
	}

	// The SYSDBA slot is ours: a second session is refused with advice.
	if _, err := d.Connect(ctx, "127.0.0.1"); !errors.Is(err, replication.ErrSysdbaBusy) {
		t.Errorf("second SYSDBA session: %v, want ErrSysdbaBusy", err)
	}

	// A dropped connection is ErrUnreachable, never retried.
	if err := engine.Faults().Add(altisim.Fault{Pattern: "INSERT", Action: altisim.FaultDrop, After: true, Nth: 1}); err != nil {
		t.Fatal(err)
	}
	err = s.Exec(ctx, "INSERT INTO SYS.T1 VALUES (2, 'two')")
	if !errors.Is(err, replication.ErrUnreachable) {
		t.Fatalf("dropped: %v, want ErrUnreachable", err)
	}
	s.Close()
	s2, err := d.Connect(ctx, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	rows, err = s2.Query(ctx, "SELECT ID FROM SYS.T1")
	if err != nil || len(rows) != 2 {
		t.Errorf("rows after the drop: %v, %v; want 2 (the INSERT ran once)", rows, err)
	}
}

func TestODBCConnectRefused(t *testing.T) {
	_, d := wireDialer(t, replication.Policy{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d.Port = ln.Addr().(*net.TCPAddr).Port
	ln.Close() // a closed local port: refused
	_, err = d.Connect(context.Background(), "127.0.0.1")
	if !errors.Is(err, replication.ErrUnreachable) {
		t.Fatalf("error %v, want ErrUnreachable", err)
	}
}

// partitionProxy forwards TCP connections to a backend until partition is
// called; from then on nothing is forwarded either way and new connections
// are accepted and left hanging, like a network partition between aku and
// a server. Everything is closed when the test ends.
type partitionProxy struct {
	ln          net.Listener
	partitioned atomic.Bool
	mu          sync.Mutex
	conns       []net.Conn
}

func startProxy(t *testing.T, backend string) *partitionProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &partitionProxy{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.track(c)
			if p.partitioned.Load() {
				continue
			}
			b, err := net.Dial("tcp", backend)
			if err != nil {
				c.Close()
				continue
			}
			p.track(b)
			go p.pipe(c, b)
			go p.pipe(b, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, c := range p.conns {
			c.Close()
		}
	})
	return p
}

func (p *partitionProxy) track(c net.Conn) {
	p.mu.Lock()
	p.conns = append(p.conns, c)
	p.mu.Unlock()
}

// pipe copies src to dst, dropping everything once partitioned.
func (p *partitionProxy) pipe(src, dst net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			dst.Close()
			return
		}
		if p.partitioned.Load() {
			continue
		}
		if _, err := dst.Write(buf[:n]); err != nil {
			return
		}
	}
}

func (p *partitionProxy) port() int { return p.ln.Addr().(*net.TCPAddr).Port }

// A partition in the middle of a session: the driver's cancel is never
// answered (psqlODBC's cancel request hangs too), and Exec still returns
// ErrTimeout shortly after the timeout, giving the session up.
func TestODBCPartitionedSession(t *testing.T) {
	defer replication.SetCancelGrace(300 * time.Millisecond)()
	_, d := wireDialer(t, replication.Policy{QueryTimeout: 300 * time.Millisecond})
	p := startProxy(t, "127.0.0.1:"+strconv.Itoa(d.Port))
	d.Port = p.port()
	ctx := context.Background()
	s, err := d.Connect(ctx, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, s, "ALTER SYSTEM SET REPLICATION_DDL_ENABLE = 1")

	p.partitioned.Store(true)
	start := time.Now()
	err = s.Exec(ctx, "ALTER SYSTEM SET ADMIN_MODE = 0")
	took := time.Since(start)
	if !errors.Is(err, replication.ErrTimeout) {
		t.Fatalf("error %v, want ErrTimeout", err)
	}
	want := "on 127.0.0.1: ALTER SYSTEM SET ADMIN_MODE = 0: statement timed out: cancelled after AKU_QUERY_TIMEOUT 300ms (context deadline exceeded, and the server did not answer the cancel within 300ms: session given up)"
	if err.Error() != want {
		t.Errorf("error\n%s\nwant\n%s", err, want)
	}
	if took > 3*time.Second {
		t.Errorf("took %s, want about timeout + grace = 600ms", took)
	}
	if err := s.Exec(ctx, "ALTER SYSTEM SET ADMIN_MODE = 0"); !errors.Is(err, replication.ErrUnreachable) {
		t.Errorf("after giving up: %v, want ErrUnreachable", err)
	}
	start = time.Now()
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("Close took %s", took)
	}
}

// A driver the driver manager cannot use is this pod's configuration
// error (ErrDriver), reported at once with the library at fault, never an
// unreachable server: a library that does not exist, and one that exists
// but is no ODBC driver.
func TestODBCDriverUnusable(t *testing.T) {
	pgwiretest.PinODBC(t)
	for _, lib := range []string{"/nonexistent/libaltibase_odbc-64bit-ul64.so", "/usr/lib/x86_64-linux-gnu/libc.so.6"} {
		d := &replication.Dialer{Driver: "odbc", Template: "DRIVER=" + lib + ";SERVER={host};PORT={port};UID={user};PWD={password}",
			Port: 20300, User: "SYS", Password: "manager", Diagnose: odbcDiagnostics}
		start := time.Now()
		_, err := d.Connect(context.Background(), "127.0.0.1")
		if !errors.Is(err, replication.ErrDriver) || errors.Is(err, replication.ErrUnreachable) {
			t.Errorf("driver %s: %v, want ErrDriver only", lib, err)
		}
		if err != nil && lib[:4] == "/non" && !strings.Contains(err.Error(), lib) {
			t.Errorf("error %q does not name the library", err)
		}
		if time.Since(start) > 2*time.Second {
			t.Errorf("driver %s: took %v", lib, time.Since(start))
		}
	}
}
