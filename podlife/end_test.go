package podlife

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aku-project/aku/altisim"
	"github.com/aku-project/aku/replication"
)

// loggedMessages returns the msg= values of a text log, in order.
func loggedMessages(log string) []string {
	var msgs []string
	for _, line := range strings.Split(log, "\n") {
		if i := strings.Index(line, "msg="); i >= 0 {
			m := line[i+4:]
			if strings.HasPrefix(m, `"`) {
				m = m[1 : strings.Index(m[1:], `"`)+1]
			} else if j := strings.IndexByte(m, ' '); j >= 0 {
				m = m[:j]
			}
			msgs = append(msgs, m)
		}
	}
	return msgs
}

// The manual's end (docs/behaviour.md, "end"): every FLUSH, then STOP on
// every pod, then RESET on every pod; its messages in that order. Checked
// on the servers' statement logs (when each statement ran) and in the log.
func TestEndPhaseOrder(t *testing.T) {
	tc := newTestCluster(t, flowConfig(4))
	tc.startAll(t, 4)
	tc.logs.Reset()
	t0 := time.Now()
	tc.mustRun(t, 2, ActionEnd)

	type span struct{ first, last time.Time }
	spans := map[string]*span{}
	for q := 0; q < 4; q++ {
		for _, e := range tc.c.Server(tc.host(q)).StatementLog() {
			if e.Start.Before(t0) {
				continue
			}
			for _, verb := range []string{"FLUSH", "STOP", "RESET"} {
				if !strings.Contains(e.SQL, " "+verb) || !strings.HasPrefix(e.SQL, "ALTER REPLICATION") {
					continue
				}
				sp := spans[verb]
				if sp == nil {
					sp = &span{first: e.Start, last: e.Start.Add(e.Duration)}
					spans[verb] = sp
				}
				if e.Start.Before(sp.first) {
					sp.first = e.Start
				}
				if end := e.Start.Add(e.Duration); end.After(sp.last) {
					sp.last = end
				}
			}
		}
	}
	for _, verb := range []string{"FLUSH", "STOP", "RESET"} {
		if spans[verb] == nil {
			t.Fatalf("no %s ran", verb)
		}
	}
	if spans["STOP"].first.Before(spans["FLUSH"].last) {
		t.Errorf("a STOP began at %s, before the last FLUSH ended at %s", spans["STOP"].first, spans["FLUSH"].last)
	}
	if spans["RESET"].first.Before(spans["STOP"].last) {
		t.Errorf("a RESET began at %s, before the last STOP ended at %s", spans["RESET"].first, spans["STOP"].last)
	}

	want := []string{"Flush replications.", "Replication flush has ended.", "Reset replications.", "Replication reset has ended."}
	var got []string
	stopsAfterFlush, flushEnded := 0, false
	for _, m := range loggedMessages(tc.logs.String()) {
		for _, w := range want {
			if m == w {
				got = append(got, m)
			}
		}
		if m == want[1] {
			flushEnded = true
		}
		if m == "Replication stopped." {
			if !flushEnded || len(got) > 2 {
				t.Errorf("a STOP was logged outside the flush and reset phases:\n%s", tc.logs.String())
			}
			stopsAfterFlush++
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("phase messages = %q, want %q\nlogs:\n%s", got, want, tc.logs.String())
	}
	if stopsAfterFlush != 6 { // AKU_REP_02, _12, _23 on both sides
		t.Errorf("%d STOPs logged, want 6", stopsAfterFlush)
	}
}

// end never throws rows away (docs/behaviour.md, "end"): when a FLUSH is
// skipped (the master does not answer, or answers its state read too
// slowly) or fails, no replication is reset, the run fails with
// ErrRestartPointsKept, and the next start rejoins and flushes, so every
// row written on the leaving pod ends up on every pod.
func TestEndKeepsRestartPointsWhenNotFlushed(t *testing.T) {
	tests := []struct {
		name  string
		fault func(t *testing.T, tc *testCluster) (undo func())
	}{
		{"master refuses connections", func(t *testing.T, tc *testCluster) func() {
			tc.c.SetHostFault(tc.host(0), altisim.HostRefused)
			return func() { tc.c.SetHostFault(tc.host(0), altisim.HostOK) }
		}},
		{"master hangs its state read", func(t *testing.T, tc *testCluster) func() {
			mustFault(t, tc, 0, altisim.Fault{Pattern: "SYS_REPLICATIONS_", Action: altisim.FaultHang, Nth: 1})
			return func() {}
		}},
		{"a running peer above this pod holds its SYSDBA session", func(t *testing.T, tc *testCluster) func() {
			return tc.c.Server(tc.host(2)).Faults().HoldSysdba()
		}},
		{"flush fails", func(t *testing.T, tc *testCluster) func() {
			mustFault(t, tc, 1, altisim.Fault{Pattern: "AKU_REP_01 FLUSH", Action: altisim.FaultFail, Code: 0x61027, Nth: 0})
			return func() { tc.c.Server(tc.host(1)).Faults().Clear() }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := flowConfig(3)
			cfg.ObserveTimeout = 300 * time.Millisecond
			tc := newTestCluster(t, cfg)
			tc.startAll(t, 3)
			undo := tt.fault(t, tc)
			// Rows written on the leaving pod just before its end; with the
			// master refusing, they cannot have reached it.
			tc.insert(t, 1, 100, 110)
			_, err := tc.run(t, 1, ActionEnd)
			if !errors.Is(err, ErrRestartPointsKept) {
				t.Fatalf("end: %v, want ErrRestartPointsKept", err)
			}
			undo()
			for _, o := range tc.state(t, 1).Objects {
				if o.Started || !o.HasXSN {
					t.Errorf("pod 1: %s started %v, restart point %v after end, want stopped with its restart point", o.Name, o.Started, o.HasXSN)
				}
			}
			if tc.markerExists(1) {
				t.Error("pod 1: marker left after end")
			}
			tc.logs.Reset()
			tc.mustRun(t, 1, ActionStart)
			if strings.Contains(tc.logs.String(), "Truncate tables") {
				t.Errorf("the start after the kept end truncated instead of rejoining:\n%s", tc.logs.String())
			}
			tc.checkStarted(t, 1, 0, 1, 2)
			tc.insert(t, 2, 200, 205)
			for q := 0; q < 3; q++ {
				tc.waitRows(t, q, expectRows([3]int{0, 0, 10}, [3]int{1, 100, 110}, [3]int{2, 200, 205}))
			}
		})
	}
}

// Two pods that start at the same moment (a Parallel pod policy, or both
// restarted after a node failure) each find the other's server's SYSDBA
// session taken. Each waits for it with every session released
// (docs/behaviour.md, "A busy SYSDBA session"), so both starts succeed,
// whatever the interleaving, and every row reaches every pod.
func TestTwoStartsAtOnce(t *testing.T) {
	for round := 0; round < 3; round++ {
		t.Run(fmt.Sprint("round", round), func(t *testing.T) {
			cfg := flowConfig(3)
			cfg.SysdbaWait = time.Minute
			tc := newTestCluster(t, cfg)
			tc.startAll(t, 1)
			tc.insert(t, 0, 10, 20)
			tc.boot(t, 1)
			tc.boot(t, 2)
			var wg sync.WaitGroup
			errs := make([]error, 3)
			logs := make([]*bytes.Buffer, 3)
			for _, q := range []int{1, 2} {
				in := tc.input(t, q, ActionStart)
				in.Clock = SystemClock{}
				logs[q] = new(bytes.Buffer)
				in.Logger = slog.New(slog.NewTextHandler(&lockedWriter{w: logs[q]}, nil))
				wg.Add(1)
				go func() {
					defer wg.Done()
					ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
					defer cancel()
					_, errs[q] = Run(ctx, in)
				}()
			}
			wg.Wait()
			for _, q := range []int{1, 2} {
				if errs[q] != nil {
					t.Fatalf("start of pod %d: %v\nlog:\n%s", q, errs[q], logs[q])
				}
			}
			for _, q := range []int{1, 2} {
				tc.checkStarted(t, q, 0, 1, 2)
			}
			tc.insert(t, 1, 100, 105)
			tc.insert(t, 2, 200, 205)
			for q := 0; q < 3; q++ {
				tc.waitRows(t, q, expectRows([3]int{0, 0, 10}, [3]int{0, 10, 20}, [3]int{1, 100, 105}, [3]int{2, 200, 205}))
			}
		})
	}
}

// lockedWriter serializes writes of concurrent loggers.
type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// mustFault installs a fault on pod q's server.
func mustFault(t *testing.T, tc *testCluster, q int, f altisim.Fault) {
	t.Helper()
	if err := tc.c.Server(tc.host(q)).Faults().Add(f); err != nil {
		t.Fatal(err)
	}
}

// An own server that does not answer (its address drops packets) costs
// each try a whole connect timeout; the address check still gives up after
// about AKU_ADDRESS_CHECK_COUNT seconds, as docs/behaviour.md says, not
// after that many connect timeouts (30 tries of 3 s + 1 s were 2 minutes).
func TestAddressCheckBoundedWhenNotAnswering(t *testing.T) {
	cfg := flowConfig(1)
	cfg.AddressCheckCount = 30
	tc := newTestCluster(t, cfg)
	tc.boot(t, 0)
	clock := &fakeClock{now: time.Unix(0, 0)}
	in := tc.input(t, 0, ActionStart)
	in.Clock = clock
	tries := 0
	in.Connector = connectFunc(func(ctx context.Context, host string) (Session, error) {
		tries++
		clock.Sleep(ctx, 3*time.Second) // the driver's connect timeout
		return nil, fmt.Errorf("connecting to %s: %w: %w", host, replication.ErrUnreachable, replication.ErrNoAnswer)
	})
	_, err := Run(context.Background(), in)
	if !errors.Is(err, ErrNeededServerUnreachable) {
		t.Fatalf("start: %v, want ErrNeededServerUnreachable", err)
	}
	if elapsed := clock.Now().Sub(time.Unix(0, 0)); elapsed > 34*time.Second || tries > 9 {
		t.Errorf("the address check took %s on the clock and %d tries, want about 30 s", elapsed, tries)
	}
}

// connectFunc is a Connector made of a function.
type connectFunc func(ctx context.Context, host string) (Session, error)

func (f connectFunc) Connect(ctx context.Context, host string) (Session, error) { return f(ctx, host) }
