package replication_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aku-project/aku/altisim"
	"github.com/aku-project/aku/altisim/driver"
	"github.com/aku-project/aku/replication"
)

const (
	host0 = "altibase-sts-0.altibase-svc"
	host1 = "altibase-sts-1.altibase-svc"
)

// sleeps records the waits a Policy asks for, without waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) got() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// newCluster starts an in-process cluster with a server on host0 and one
// on host1, and a Dialer for it with the given policy.
func newCluster(t *testing.T, p replication.Policy) (*altisim.Cluster, *replication.Dialer) {
	t.Helper()
	name := strings.NewReplacer("/", "_", ";", "_").Replace(t.Name())
	c := altisim.NewCluster(name, altisim.ClusterOptions{Port: 20300})
	t.Cleanup(func() { c.Close() })
	for _, h := range []string{host0, host1} {
		if _, err := c.AddServer(h, altisim.Options{ReplicationPort: 20301, Properties: map[string]int64{"ADMIN_MODE": 1}}); err != nil {
			t.Fatal(err)
		}
	}
	return c, &replication.Dialer{
		Driver:   "altisim",
		Template: driver.Template(name, 300*time.Millisecond),
		Port:     20300,
		User:     "SYS",
		Password: "manager",
		Policy:   p,
	}
}

// connect opens a session that the test closes at its end.
func connect(t *testing.T, d *replication.Dialer, host string) *replication.Session {
	t.Helper()
	s, err := d.Connect(context.Background(), host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConnectUnreachable(t *testing.T) {
	tests := []struct {
		name  string
		fault altisim.HostFault
		host  string
		cause error
	}{
		{"no such host", altisim.HostAbsent, host1, altisim.ErrNoSuchHost},
		{"refused", altisim.HostRefused, host1, altisim.ErrConnectionRefused},
		{"blackhole until the connect timeout", altisim.HostBlackhole, host1, altisim.ErrConnectTimeout},
		{"unknown pod", altisim.HostOK, "altibase-sts-5.altibase-svc", altisim.ErrNoSuchHost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, d := newCluster(t, replication.Policy{})
			c.SetHostFault(tt.host, tt.fault)
			start := time.Now()
			s, err := d.Connect(context.Background(), tt.host)
			took := time.Since(start)
			if err == nil {
				s.Close()
				t.Fatal("connected")
			}
			if !errors.Is(err, replication.ErrUnreachable) || !errors.Is(err, tt.cause) {
				t.Errorf("error %v does not wrap ErrUnreachable and %v", err, tt.cause)
			}
			if want := "connecting to " + tt.host + ":20300: server unreachable: "; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error %q does not start with %q", err, want)
			}
			if took > 2*time.Second {
				t.Errorf("took %s, want at most the connect timeout 0.3s", took)
			}
		})
	}
}

// A connect that hangs past the caller's deadline returns at the deadline,
// even with no connect timeout in the connection string (docs/odbc.md,
// "Connects ignore contexts").
func TestConnectHonoursContext(t *testing.T) {
	c, d := newCluster(t, replication.Policy{})
	d.Template = strings.Replace(d.Template, ";CONNECT_TIMEOUT=0.3", "", 1)
	c.SetHostFault(host1, altisim.HostBlackhole)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := d.Connect(ctx, host1)
	took := time.Since(start)
	if !errors.Is(err, replication.ErrUnreachable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v does not wrap ErrUnreachable and DeadlineExceeded", err)
	}
	if took > time.Second {
		t.Errorf("took %s, want about 200ms", took)
	}
}

func TestConnectSysdbaBusy(t *testing.T) {
	c, d := newCluster(t, replication.Policy{})
	release := c.Server(host0).Faults().HoldSysdba()
	_, err := d.Connect(context.Background(), host0)
	if !errors.Is(err, replication.ErrSysdbaBusy) {
		t.Fatalf("error %v does not wrap ErrSysdbaBusy", err)
	}
	want := "connecting to " + host0 + ":20300 as SYSDBA: another SYSDBA session is already running (ERR-41041): close the other SYSDBA session, e.g. an operator's isql -sysdba, and run aku again"
	if err.Error() != want {
		t.Errorf("error\n%s\nwant\n%s", err, want)
	}
	release()
	s := connect(t, d, host0)
	// aku's own session holds the slot: a second one is refused, and
	// closing the first frees it.
	if _, err := d.Connect(context.Background(), host0); !errors.Is(err, replication.ErrSysdbaBusy) {
		t.Fatalf("second session: error %v does not wrap ErrSysdbaBusy", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	connect(t, d, host0)
}

// A server that answers and says no is reachable: a wrong password is
// ErrRefused with the server's code, not ErrUnreachable.
func TestConnectRefused(t *testing.T) {
	_, d := newCluster(t, replication.Policy{})
	d.Password = "wrong"
	_, err := d.Connect(context.Background(), host0)
	if !errors.Is(err, replication.ErrRefused) || errors.Is(err, replication.ErrUnreachable) {
		t.Fatalf("error %v: want ErrRefused and not ErrUnreachable", err)
	}
	code, ok := replication.CodeOf(err, nil)
	if !ok {
		t.Fatalf("error %v carries no Altibase code", err)
	}
	want := fmt.Sprintf("connecting to %s:20300 as SYS: server refused the session (ERR-%05X): ", host0, code)
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error\n%s\nwant prefix\n%s", err, want)
	}
}

func TestExecTimeout(t *testing.T) {
	c, d := newCluster(t, replication.Policy{QueryTimeout: 300 * time.Millisecond, RetryCount: 3})
	s := connect(t, d, host0)
	if err := c.Server(host0).Faults().Add(altisim.Fault{Pattern: "REPLICATION_DDL_ENABLE", Action: altisim.FaultHang, Nth: 1}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err := s.Exec(context.Background(), "ALTER SYSTEM SET REPLICATION_DDL_ENABLE = 1")
	took := time.Since(start)
	if !errors.Is(err, replication.ErrTimeout) {
		t.Fatalf("error %v does not wrap ErrTimeout", err)
	}
	want := "on " + host0 + ": ALTER SYSTEM SET REPLICATION_DDL_ENABLE = 1: statement timed out: cancelled after AKU_QUERY_TIMEOUT 300ms (context deadline exceeded)"
	if err.Error() != want {
		t.Errorf("error\n%s\nwant\n%s", err, want)
	}
	if took < 300*time.Millisecond || took > 2*time.Second {
		t.Errorf("took %s, want about the 300ms timeout (and no retry)", took)
	}
	// The cancelled statement did not run, and the session still works.
	if v, err := s.Property(context.Background(), "REPLICATION_DDL_ENABLE"); err != nil || v != 0 {
		t.Errorf("REPLICATION_DDL_ENABLE = %d, %v after the cancel; want 0", v, err)
	}
}

// The caller's deadline, shorter than AKU_QUERY_TIMEOUT, also cancels.
func TestExecCallerDeadline(t *testing.T) {
	c, d := newCluster(t, replication.Policy{QueryTimeout: time.Hour})
	s := connect(t, d, host0)
	if err := c.Server(host0).Faults().Add(altisim.Fault{Pattern: "ADMIN_MODE", Action: altisim.FaultHang}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := s.Exec(ctx, "ALTER SYSTEM SET ADMIN_MODE = 0")
	if !errors.Is(err, replication.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v does not wrap ErrTimeout and DeadlineExceeded", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	err = s.Exec(ctx, "ALTER SYSTEM SET ADMIN_MODE = 0")
	if !errors.Is(err, context.Canceled) || errors.Is(err, replication.ErrTimeout) || errors.Is(err, replication.ErrStatement) {
		t.Fatalf("cancelled: error %v, want context.Canceled and no class", err)
	}
}

func TestExecRetries(t *testing.T) {
	const stmt = "ALTER SYSTEM SET REPLICATION_DDL_ENABLE = 1"
	tests := []struct {
		name    string
		code    uint32
		fail    int // tries that fail; -1 = all
		retries int64
		wantErr string // "" = success
		tries   int    // statements the server saw
	}{
		{name: "handshake cured by retries", code: replication.CodeHandshake, fail: 2, retries: 3, tries: 3},
		{name: "lock timeout cured", code: replication.CodeLockTimeout, fail: 1, retries: 1, tries: 2},
		{name: "retries exhausted", code: replication.CodeHandshake, fail: -1, retries: 2, tries: 3,
			wantErr: "on " + host0 + ": " + stmt + ": ERR-6100D : injected (tried 3 times)"},
		{name: "no retry configured", code: replication.CodeDeadlock, fail: 1, retries: 0, tries: 1,
			wantErr: "on " + host0 + ": " + stmt + ": ERR-11041 : injected"},
		{name: "not retryable fails at once", code: replication.CodeDuplicateName, fail: 1, retries: 5, tries: 1,
			wantErr: "on " + host0 + ": " + stmt + ": ERR-61100 : injected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sl sleeps
			c, d := newCluster(t, replication.Policy{RetryCount: tt.retries, RetryDelay: 250 * time.Millisecond, Sleep: sl.sleep})
			srv := c.Server(host0)
			s := connect(t, d, host0)
			if tt.fail < 0 {
				if err := srv.Faults().Add(altisim.Fault{Pattern: "REPLICATION_DDL_ENABLE", Action: altisim.FaultFail, Code: tt.code, Message: "injected"}); err != nil {
					t.Fatal(err)
				}
			}
			for n := 1; n <= tt.fail; n++ {
				if err := srv.Faults().Add(altisim.Fault{Pattern: "REPLICATION_DDL_ENABLE", Action: altisim.FaultFail, Nth: n, Code: tt.code, Message: "injected"}); err != nil {
					t.Fatal(err)
				}
			}
			before := len(srv.StatementLog())
			err := s.Exec(context.Background(), stmt)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
			} else {
				if !errors.Is(err, replication.ErrStatement) {
					t.Fatalf("error %v does not wrap ErrStatement", err)
				}
				if err.Error() != tt.wantErr {
					t.Errorf("error\n%s\nwant\n%s", err, tt.wantErr)
				}
				var se *replication.StatementError
				if !errors.As(err, &se) || se.Code != tt.code || se.Tries != tt.tries {
					t.Errorf("StatementError %+v, want code %#x after %d tries", se, tt.code, tt.tries)
				}
			}
			var seen []string
			for _, l := range srv.StatementLog()[before:] {
				seen = append(seen, l.SQL)
			}
			if len(seen) != tt.tries {
				t.Errorf("server saw %d statements %q, want %d tries", len(seen), seen, tt.tries)
			}
			want := make([]time.Duration, tt.tries-1)
			for i := range want {
				want[i] = 250 * time.Millisecond
			}
			if got := sl.got(); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("slept %v, want %v", got, want)
			}
		})
	}
}

// Retrying waits RetryDelay for real when no Sleep seam is set, and stops
// waiting when the caller's context ends.
func TestRetryDelayRealClock(t *testing.T) {
	c, d := newCluster(t, replication.Policy{RetryCount: 1, RetryDelay: 150 * time.Millisecond})
	s := connect(t, d, host0)
	if err := c.Server(host0).Faults().Add(altisim.Fault{Pattern: "ADMIN_MODE", Action: altisim.FaultFail, Nth: 1, Code: replication.CodeHandshake}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := s.Exec(context.Background(), "ALTER SYSTEM SET ADMIN_MODE = 0"); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 150*time.Millisecond {
		t.Errorf("retried after %s, want at least the 150ms delay", took)
	}

	d.Policy = replication.Policy{RetryCount: 5, RetryDelay: time.Hour}
	s2 := connect(t, d, host1)
	if err := c.Server(host1).Faults().Add(altisim.Fault{Pattern: "ADMIN_MODE", Action: altisim.FaultFail, Code: replication.CodeHandshake}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := s2.Exec(ctx, "ALTER SYSTEM SET ADMIN_MODE = 0")
	if !errors.Is(err, replication.ErrStatement) || !strings.Contains(err.Error(), "ERR-6100D") {
		t.Errorf("error %v, want the statement's own ERR-6100D", err)
	}
}

// A connection lost after the statement ran leaves its outcome unknown: it
// is not retried, and the session refuses further statements.
func TestExecLostConnection(t *testing.T) {
	c, d := newCluster(t, replication.Policy{RetryCount: 5, Sleep: new(sleeps).sleep})
	srv := c.Server(host0)
	s := connect(t, d, host0)
	if err := srv.Faults().Add(altisim.Fault{Pattern: "REPLICATION_DDL_ENABLE", Action: altisim.FaultDrop, After: true, Nth: 1}); err != nil {
		t.Fatal(err)
	}
	before := len(srv.StatementLog())
	err := s.Exec(context.Background(), "ALTER SYSTEM SET REPLICATION_DDL_ENABLE = 1")
	if !errors.Is(err, replication.ErrUnreachable) || errors.Is(err, replication.ErrStatement) {
		t.Fatalf("error %v, want ErrUnreachable only", err)
	}
	want := "on " + host0 + ": ALTER SYSTEM SET REPLICATION_DDL_ENABLE = 1: connection lost, the statement may or may not have run: driver: bad connection"
	if err.Error() != want {
		t.Errorf("error\n%s\nwant\n%s", err, want)
	}
	if n := len(srv.StatementLog()) - before; n != 1 {
		t.Errorf("server saw %d statements, want 1 (no retry)", n)
	}
	if err := s.Exec(context.Background(), "ALTER SYSTEM SET ADMIN_MODE = 0"); !errors.Is(err, replication.ErrUnreachable) {
		t.Errorf("after the loss: error %v, want ErrUnreachable", err)
	}
	// It did run: a new session sees the change.
	s.Close()
	s2 := connect(t, d, host0)
	if v, err := s2.Property(context.Background(), "REPLICATION_DDL_ENABLE"); err != nil || v != 1 {
		t.Errorf("REPLICATION_DDL_ENABLE = %d, %v; want 1", v, err)
	}
}
