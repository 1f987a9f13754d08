package podlife

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aku-project/aku/altisim"
	"github.com/aku-project/aku/replication"
)

// planSQL is the statements of a plan on each host, and its other steps,
// one string each in plan order.
func planSQL(p *Plan) []string {
	var out []string
	for _, s := range p.Steps {
		what := s.Statement
		if s.Kind != StepSQL {
			what = string(s.Kind)
		}
		out = append(out, fmt.Sprintf("%d %s", s.Server, what))
	}
	return out
}

// TestEndBudgetPlan: an end with a deadline reserves StatementReserve for
// each statement on the longest chain of its closing steps (the gap check,
// the STOPs, the RESETs) and gives the FLUSHes the rest as FLUSH WAIT; with
// less than a second left for them, no FLUSH runs, every pair is cut, and
// nothing is reset. Without a deadline the plan is the plan of BuildPlan.
func TestEndBudgetPlan(t *testing.T) {
	cfg := testConfig(4, 1)
	obs := observation(cfg,
		up(0, all(cfg, 0, 10, true)...), up(0, all(cfg, 1, 10, true)...),
		up(0, all(cfg, 2, 10, true)...), up(0, all(cfg, 3, 10, true)...))
	id := testIdentity(t, cfg, 2)

	plain, err := BuildPlan(ActionEnd, cfg, id, obs)
	if err != nil {
		t.Fatal(err)
	}
	none, err := planWithin(ActionEnd, cfg, id, obs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(plain, none) || plain.Deadline != nil {
		t.Fatalf("without a deadline the plan differs from BuildPlan's:\n%v\n%v", planSQL(none), planSQL(plain))
	}

	// Pod 2's own session runs the gap check, its three STOPs and three
	// RESETs in order; the last peer's RESET follows: a chain of 8.
	const chain = 8
	tests := []struct {
		name      string
		left      time.Duration
		wantFlush string // "" when no FLUSH is planned
	}{
		{"a minute", time.Minute, "FLUSH ALL WAIT 44"},
		{"a second and a half for the FLUSHes", chain*2*time.Second + 1500*time.Millisecond, "FLUSH ALL WAIT 1"},
		{"less than a second for the FLUSHes", chain*2*time.Second + 900*time.Millisecond, ""},
		{"less than the reserve", 5 * time.Second, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := planWithin(ActionEnd, cfg, id, obs, &flushBudget{left: tt.left, reserve: 2 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			d := p.Deadline
			if d == nil || d.ReservedStatements != chain || d.Reserved != chain*2*time.Second || d.FlushWindow != max(0, tt.left-d.Reserved) {
				t.Fatalf("deadline share %+v, want %d statements reserved, 2s each", d, chain)
			}
			var flushes, checks, stops, resets int
			for _, s := range p.Steps {
				switch {
				case s.Verb == "flush":
					flushes++
					if tt.wantFlush == "" || !strings.HasSuffix(s.Statement, tt.wantFlush) {
						t.Errorf("step %d: %s, want %q", s.ID, s.Statement, tt.wantFlush)
					}
				case s.Kind == StepCheckGaps:
					checks++
					if len(s.After) != 3 || !s.KeepsOnFailure || s.Server != 2 {
						t.Errorf("the check of the gaps: %+v, want it after the three FLUSHes, on pod 2, keeping the restart points when it fails", s)
					}
				case s.Verb == "stop":
					stops++
				case s.Verb == "reset":
					resets++
					if len(s.IfOK) != 4 {
						t.Errorf("RESET step %d only if %v succeeded, want the three FLUSHes and the check", s.ID, s.IfOK)
					}
				}
			}
			if tt.wantFlush == "" {
				if flushes != 0 || checks != 0 || resets != 0 || stops != 6 || len(p.Kept) != 3 {
					t.Errorf("%d FLUSH, %d checks, %d STOP, %d RESET, kept %q; want only the 6 STOPs and the 3 pairs kept:\n%s", flushes, checks, stops, resets, p.Kept, strings.Join(planSQL(p), "\n"))
				}
				if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "less than a second was left before the deadline") {
					t.Errorf("warnings %q", p.Warnings)
				}
				return
			}
			if flushes != 3 || checks != 1 || stops != 6 || resets != 6 || len(p.Kept) != 0 {
				t.Errorf("%d FLUSH, %d checks, %d STOP, %d RESET, kept %q; want 3, 1, 6, 6 and none", flushes, checks, stops, resets, p.Kept)
			}
			// The closing chain is what was reserved: every step but the
			// FLUSHes counts.
			if got := p.pathOf(func(s Step) bool { return s.Kind == StepCheckGaps || s.Verb == "stop" || s.Verb == "reset" }); got != chain {
				t.Errorf("the plan's closing chain is %d statements, %d were reserved", got, chain)
			}
		})
	}
}

// TestDeadlineOnlyForEnd: start and clean take no deadline.
func TestDeadlineOnlyForEnd(t *testing.T) {
	tc := newTestCluster(t, flowConfig(1))
	tc.boot(t, 0)
	for _, a := range []Action{ActionStart, ActionClean} {
		in := tc.input(t, 0, a)
		in.Deadline = tc.clock.Now().Add(time.Minute)
		if _, err := Run(context.Background(), in); !errors.Is(err, errDeadlineAction) {
			t.Errorf("%s with a deadline: %v, want %v", a, err, errDeadlineAction)
		}
	}
	if tc.markerExists(0) {
		t.Error("a refused start wrote the marker")
	}
}

// TestDeadlineBoundsTheWaits: the wait for the run lock, which is 2
// minutes without a deadline, ends early enough to leave the observation
// and the closing statements their reserve (on the clock seam).
func TestDeadlineBoundsTheWaits(t *testing.T) {
	tc := newTestCluster(t, flowConfig(2))
	tc.startAll(t, 2)
	in := tc.input(t, 1, ActionEnd)
	held, err := acquireLock(context.Background(), Marker{Path: in.MarkerPath}.lockPath(), 0, tc.clock)
	if err != nil {
		t.Fatal(err)
	}
	defer held.release()
	in.LockWait = DefaultLockWait
	start := tc.clock.Now()
	in.Deadline = start.Add(time.Minute)
	// The observation, the gap check, pod 1's STOP and RESET and pod 0's
	// RESET.
	keep := 5 * statementReserve
	if _, err := Run(context.Background(), in); !errors.Is(err, ErrLocked) {
		t.Fatalf("end while the lock is held: %v, want ErrLocked", err)
	}
	waited := tc.clock.Now().Sub(start)
	if waited > time.Minute-keep || waited < time.Minute-keep-time.Second {
		t.Errorf("waited %s for the lock, want about %s: the deadline in a minute, less %s", waited, time.Minute-keep, keep)
	}
}

// withReserve sets statementReserve for one test.
func withReserve(t *testing.T, d time.Duration) {
	old := statementReserve
	statementReserve = d
	t.Cleanup(func() { statementReserve = old })
}

// bigGap writes rows on pod q while its senders are held, so that the gap
// toward every peer is about bytes, then lets them ship at rate bytes a
// second. It returns the rows written.
func (tc *testCluster) bigGap(t *testing.T, q, from, bytes int, rate int64) []string {
	t.Helper()
	n := bytes / (2 * logRowEstimate)
	srv := tc.c.Server(tc.host(q))
	release := srv.Faults().HoldSender("")
	for i := from; i < from+n; i += 500 {
		var b1, b2 strings.Builder
		for k := i; k < min(i+500, from+n); k++ {
			if k > i {
				b1.WriteString(", ")
				b2.WriteString(", ")
			}
			fmt.Fprintf(&b1, "(%d, 'p%d')", k, q)
			fmt.Fprintf(&b2, "(%d, 'p%d')", k, q)
		}
		tc.mustSQL(t, q, "INSERT INTO SYS.T1 VALUES "+b1.String())
		tc.mustSQL(t, q, "INSERT INTO SYS.T2 VALUES "+b2.String())
	}
	srv.Faults().SetSendRate(rate)
	release()
	return expectRows([3]int{q, from, from + n})
}

// logRowEstimate is about what a row bigGap inserts takes in the
// simulator's log (its record header, the table name, the key, the row):
// for sizing a gap.
const logRowEstimate = 32 + 6 + 8 + 8 + 2 + 2

// gapOf is pod q's V$REPGAP REP_GAP_SIZE of replication name, -1 without a
// row.
func (tc *testCluster) gapOf(t testing.TB, q int, name string) int64 {
	t.Helper()
	r := tc.mustSQL(t, q, "SELECT REP_GAP_SIZE FROM V$REPGAP WHERE REP_NAME = '"+name+"'")
	if len(r.Rows) != 1 {
		return -1
	}
	var v int64
	fmt.Sscan(fmt.Sprint(r.Rows[0][0]), &v)
	return v
}

// TestEndCutAtTheDeadline: a slave ends with a gap toward the MASTER that
// its link cannot ship before the deadline. The FLUSH WAIT gives up, the
// check of the gaps finds what is left, and the end logs the pair, its
// peer and the bytes left, stops both sides, resets nothing and fails
// with ErrRestartPointsKept (exit 16). The next start rejoins and
// flushes: every row reaches the MASTER.
func TestEndCutAtTheDeadline(t *testing.T) {
	withReserve(t, 250*time.Millisecond)
	tc := newTestCluster(t, flowConfig(2))
	tc.startAll(t, 2)
	const gap, rate = 400 << 10, 100 << 10 // 4 s of log
	written := tc.bigGap(t, 1, 1000, gap, rate)
	before := tc.gapOf(t, 1, "AKU_REP_01")

	in := tc.input(t, 1, ActionEnd)
	in.Clock = nil // real time: the FLUSH WAIT really waits
	start := time.Now()
	in.Deadline = start.Add(2500 * time.Millisecond)
	tc.logs.Reset()
	_, err := Run(context.Background(), in)
	took := time.Since(start)
	if !errors.Is(err, ErrRestartPointsKept) {
		t.Fatalf("end: %v, want ErrRestartPointsKept\nlogs:\n%s", err, tc.logs.String())
	}
	if took > 2500*time.Millisecond {
		t.Errorf("the end took %s, past its deadline of 2.5 s", took)
	}
	logs := tc.logs.String()
	for _, want := range []string{
		"FLUSH ALL WAIT 1",
		`msg="Flush cut at the deadline: not everything was handed over; no replication will be reset, and the next aku -p start on this pod rejoins and flushes the rest." pod=altibase-sts-1 replication=AKU_REP_01 peer=` + tc.host(0) + " bytesLeft=",
		`msg="Restart point kept (not reset): a FLUSH of this run failed."`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %q:\n%s", want, logs)
		}
	}
	if !strings.Contains(err.Error(), "AKU_REP_01 to "+tc.host(0)+" (cut at the deadline: ") || !strings.Contains(err.Error(), "the next aku -p start on this pod rejoins and flushes") {
		t.Errorf("the error does not say what was cut and what comes next: %v", err)
	}
	for _, o := range tc.state(t, 1).Objects {
		if o.Started || !o.HasXSN {
			t.Errorf("pod 1: %s started %v, restart point %v after the cut end, want stopped with its restart point", o.Name, o.Started, o.HasXSN)
		}
	}
	if got := len(tc.rows(t, 0)); got >= 20+len(written) || got <= 20 {
		t.Errorf("the MASTER holds %d rows after the cut end: want some of the %d rows of the gap (%d bytes) but not all", got, len(written), before)
	}

	tc.c.Server(tc.host(1)).Faults().SetSendRate(0)
	tc.logs.Reset()
	tc.mustRun(t, 1, ActionStart)
	if strings.Contains(tc.logs.String(), "Truncate tables") {
		t.Errorf("the start after the cut end truncated instead of rejoining:\n%s", tc.logs.String())
	}
	want := append(expectRows([3]int{0, 0, 10}), written...)
	for q := 0; q < 2; q++ {
		tc.waitRows(t, q, sortedRows(want...))
	}
}

// TestEndDrainedBeforeTheDeadline: a gap the link ships within the FLUSH
// window is drained, the check of the gaps says so, and the end resets as
// without a deadline.
func TestEndDrainedBeforeTheDeadline(t *testing.T) {
	withReserve(t, 250*time.Millisecond)
	tc := newTestCluster(t, flowConfig(2))
	tc.startAll(t, 2)
	written := tc.bigGap(t, 1, 1000, 100<<10, 400<<10) // a quarter of a second
	in := tc.input(t, 1, ActionEnd)
	in.Clock = nil
	in.Deadline = time.Now().Add(4 * time.Second)
	tc.logs.Reset()
	if _, err := Run(context.Background(), in); err != nil {
		t.Fatalf("end: %v\nlogs:\n%s", err, tc.logs.String())
	}
	logs := tc.logs.String()
	if !strings.Contains(logs, `msg="Replication handed over: nothing left to send." pod=altibase-sts-1 replication=AKU_REP_01`) || !strings.Contains(logs, "Replication reset has ended.") {
		t.Errorf("the drained end did not check and reset:\n%s", logs)
	}
	for q := 0; q < 2; q++ {
		for _, o := range tc.state(t, q).Objects {
			if o.Started || o.HasXSN {
				t.Errorf("pod %d: %s started %v, restart point %v, want reset", q, o.Name, o.Started, o.HasXSN)
			}
		}
	}
	tc.waitRows(t, 0, sortedRows(append(expectRows([3]int{0, 0, 10}), written...)...))
}

// sortedRows is rows sorted, as testCluster.rows lists them.
func sortedRows(rows ...string) []string {
	out := append([]string{}, rows...)
	sort.Strings(out)
	return out
}

// TestEndFlushWindowShared: the FLUSHes of one pod run one after another
// on its session and share the FLUSH window. Here the first gets it all
// (its gap does not drain), the second comes with less than a second left:
// it is not run, and its pair is cut as well. Nothing is reset.
func TestEndFlushWindowShared(t *testing.T) {
	withReserve(t, 250*time.Millisecond)
	tc := newTestCluster(t, flowConfig(3))
	tc.startAll(t, 3)
	tc.bigGap(t, 2, 1000, 200<<10, 20<<10) // toward both peers: 10 s each
	in := tc.input(t, 2, ActionEnd)
	in.Clock = nil
	// The chain: the check, 2 STOPs and 2 RESETs on pod 2, the last peer's
	// RESET: 1.5 s; the window is 2.1 s less the observation: FLUSH WAIT 2
	// or 1, after which less than a second is left.
	in.Deadline = time.Now().Add(3600 * time.Millisecond)
	tc.logs.Reset()
	_, err := Run(context.Background(), in)
	if !errors.Is(err, ErrRestartPointsKept) {
		t.Fatalf("end: %v, want ErrRestartPointsKept\nlogs:\n%s", err, tc.logs.String())
	}
	logs := tc.logs.String()
	if !regexp.MustCompile(`sql="ALTER REPLICATION AKU_REP_02 FLUSH ALL WAIT [12]"`).MatchString(logs) {
		t.Errorf("no FLUSH WAIT of AKU_REP_02 for the window:\n%s", logs)
	}
	for _, want := range []string{
		`msg="Flush cut at the deadline; no replication will be reset, so the next aku -p start rejoins and flushes: less than a second of the FLUSH window was left: FLUSH skipped" pod=altibase-sts-2 replication=AKU_REP_12`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %q:\n%s", want, logs)
		}
	}
	for _, want := range []string{"AKU_REP_02 to " + tc.host(0) + " (cut at the deadline: ", "AKU_REP_12 to " + tc.host(1) + " (cut at the deadline: no time left to flush)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error lacks %q: %v", want, err)
		}
	}
	if strings.Contains(logs, "Replication reset.") {
		t.Errorf("a replication was reset:\n%s", logs)
	}
}

// TestEndGapsUnread: when the check of the gaps cannot read V$REPGAP, what
// the FLUSH WAIT left is unknown: nothing is reset, and the run says so.
func TestEndGapsUnread(t *testing.T) {
	withReserve(t, 250*time.Millisecond)
	tc := newTestCluster(t, flowConfig(2))
	tc.startAll(t, 2)
	mustFault(t, tc, 1, altisim.Fault{Pattern: `FROM V\$REPSENDER`, Action: altisim.FaultFail})
	in := tc.input(t, 1, ActionEnd)
	in.Clock = nil
	in.Deadline = time.Now().Add(3 * time.Second)
	tc.logs.Reset()
	_, err := Run(context.Background(), in)
	if !errors.Is(err, ErrRestartPointsKept) || !strings.Contains(err.Error(), "the gaps on "+tc.host(1)+" (unread: what the FLUSH WAIT left is unknown)") {
		t.Fatalf("end: %v, want ErrRestartPointsKept naming the unread gaps\nlogs:\n%s", err, tc.logs.String())
	}
	if logs := tc.logs.String(); !strings.Contains(logs, `msg="Could not check the gaps after the FLUSH; no replication will be reset`) || strings.Contains(logs, "Replication reset.") {
		t.Errorf("logs:\n%s", logs)
	}
}

// TestEndPastItsDeadline: the master's STOP hangs until the deadline, so
// the RESETs planned after it do not run. The run fails as a timeout
// naming the first step it did not run, and this pod keeps its restart
// point: its next start rejoins.
func TestEndPastItsDeadline(t *testing.T) {
	withReserve(t, 250*time.Millisecond)
	tc := newTestCluster(t, flowConfig(2))
	tc.startAll(t, 2)
	mustFault(t, tc, 0, altisim.Fault{Pattern: "AKU_REP_01 STOP", Action: altisim.FaultHang})
	in := tc.input(t, 1, ActionEnd)
	in.Clock = nil
	in.Deadline = time.Now().Add(3 * time.Second) // a FLUSH window of 2 s
	tc.logs.Reset()
	_, err := Run(context.Background(), in)
	if !errors.Is(err, replication.ErrTimeout) || !strings.Contains(err.Error(), "the end's deadline passed before step") || !strings.Contains(err.Error(), "RESET on altibase-sts-") {
		t.Fatalf("end past its deadline: %v, want a timeout before a RESET\nlogs:\n%s", err, tc.logs.String())
	}
	if strings.Contains(tc.logs.String(), "Replication reset.") {
		t.Errorf("a RESET ran after the deadline:\n%s", tc.logs.String())
	}
	tc.c.Server(tc.host(0)).Faults().Clear()
	for _, o := range tc.state(t, 1).Objects {
		if !o.HasXSN {
			t.Errorf("pod 1: %s lost its restart point", o.Name)
		}
	}
}

// TestEndDrainedThenWritten: the FLUSH ALL WAIT of an end with a deadline
// returns at once (nothing to send), and a user writes on this pod before
// the gap check reads V$REPGAP, whose sender is held: the gap is not 0,
// but the pair was handed over as a FLUSH ALL hands it over. The end
// resets, as the original's would after its FLUSH ALL.
func TestEndDrainedThenWritten(t *testing.T) {
	withReserve(t, 250*time.Millisecond)
	tc := newTestCluster(t, flowConfig(2))
	tc.startAll(t, 2)
	srv := tc.c.Server(tc.host(1))
	in := tc.input(t, 1, ActionEnd)
	in.Clock = nil
	in.Deadline = time.Now().Add(6 * time.Second)
	flushed := make(chan struct{})
	go func() {
		defer close(flushed)
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			for _, e := range srv.StatementLog() {
				if strings.Contains(e.SQL, "FLUSH ALL WAIT") {
					return
				}
			}
		}
	}()
	// The check's read of V$REPGAP waits, so that the write comes first.
	mustFault(t, tc, 1, altisim.Fault{Pattern: `FROM V\$REPGAP`, Action: altisim.FaultDelay, Delay: 500 * time.Millisecond})
	tc.logs.Reset()
	done := make(chan error, 1)
	go func() { _, err := Run(context.Background(), in); done <- err }()
	<-flushed
	release := srv.Faults().HoldSender("")
	defer release()
	tc.userInsert(t, 1, 500, 501)
	if err := <-done; err != nil {
		t.Fatalf("end: %v, want the pair handed over and reset\nlogs:\n%s", err, tc.logs.String())
	}
	logs := tc.logs.String()
	if !strings.Contains(logs, "Replication handed over: nothing left to send.") || !strings.Contains(logs, "Replication reset has ended.") {
		t.Errorf("the end did not hand over and reset:\n%s", logs)
	}
}
