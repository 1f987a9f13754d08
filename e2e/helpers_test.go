package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// insertRows inserts rows with keys from..to (inclusive) into table on the
// pod, through an ordinary (non-SYSDBA) session as an application would;
// I2 records the pod that took the write.
func insertRows(t *testing.T, ctx context.Context, c *Cluster, ordinal int, table string, from, to int) {
	t.Helper()
	s, err := c.Connect(ctx, ordinal, false)
	if err != nil {
		t.Fatalf("writing to pod %d: %v", ordinal, err)
	}
	defer s.Close()
	for k := from; k <= to; k++ {
		if err := s.Exec(ctx, fmt.Sprintf("INSERT INTO %s VALUES (%d, %d)", table, k, ordinal)); err != nil {
			t.Fatalf("writing to pod %d: %v", ordinal, err)
		}
	}
}

// span is the keys from..to.
func span(from, to int) []int {
	var out []int
	for k := from; k <= to; k++ {
		out = append(out, k)
	}
	return out
}

// union merges key sets.
func union(sets ...[]int) []int {
	var out []int
	for _, s := range sets {
		out = append(out, s...)
	}
	sort.Ints(out)
	return out
}

// waitKeys waits until every live pod holds exactly want in table (every
// row once), replication lag allowing; then it fails with what each holds.
func waitKeys(t *testing.T, ctx context.Context, c *Cluster, table string, want []int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var bad []string
		for i := 0; i < 6; i++ {
			if c.Pod(i) == nil {
				continue
			}
			got, err := c.Keys(ctx, i, table)
			if err != nil {
				bad = append(bad, fmt.Sprintf("pod %d: %v", i, err))
			} else if !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
				bad = append(bad, fmt.Sprintf("pod %d holds %v", i, got))
			}
		}
		if len(bad) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: want keys %v on every pod:\n%s", table, want, strings.Join(bad, "\n"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// wantRepl is the expected state of one replication object.
type wantRepl struct {
	started bool
	reset   bool // XSN = -1
}

// checkReplications compares the pod's replication objects with want: every
// object name, started or not, and whether its XSN is -1 (reset or never
// started) or a restart point (>= 0).
func checkReplications(t *testing.T, ctx context.Context, c *Cluster, ordinal int, want map[string]wantRepl) {
	t.Helper()
	checkReplicationsAs(t, ctx, c, ordinal, false, want)
}

// checkReplicationsAs is checkReplications through a SYSDBA session when
// sysdba is true: the only way into a server still in ADMIN_MODE = 1.
func checkReplicationsAs(t *testing.T, ctx context.Context, c *Cluster, ordinal int, sysdba bool, want map[string]wantRepl) {
	t.Helper()
	got, err := c.Replications(ctx, ordinal, sysdba)
	if err != nil {
		t.Fatal(err)
	}
	gotStates := map[string]wantRepl{}
	for n, r := range got {
		if r.XSN < -1 {
			t.Errorf("pod %d: %s has XSN %d", ordinal, n, r.XSN)
		}
		gotStates[n] = wantRepl{started: r.Started, reset: r.XSN == -1}
	}
	if !reflect.DeepEqual(gotStates, want) {
		t.Errorf("pod %d replications (name: started, XSN):\n got %s\nwant %s", ordinal, formatRepl(got), formatWant(want))
	}
}

func formatRepl(m map[string]Replication) string {
	var parts []string
	for n, r := range m {
		parts = append(parts, fmt.Sprintf("%s: %v, %d", n, r.Started, r.XSN))
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}

func formatWant(m map[string]wantRepl) string {
	var parts []string
	for n, r := range m {
		x := ">=0"
		if r.reset {
			x = "-1"
		}
		parts = append(parts, fmt.Sprintf("%s: %v, %s", n, r.started, x))
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}

// meshState is the replication state of a full mesh among the live ordinals
// (docs/behaviour.md, "Replication objects"): on pod p, the object of each
// pair (p, q) is started with a restart point when q is live, and stopped
// with XSN = -1 otherwise (never started, or reset by q's end).
func meshState(ordinal, serverCount int, live map[int]bool) map[string]wantRepl {
	out := map[string]wantRepl{}
	for q := 0; q < serverCount; q++ {
		if q == ordinal {
			continue
		}
		i, j := min(ordinal, q), max(ordinal, q)
		name := fmt.Sprintf("AKU_REP_%d%d", i, j)
		if live[q] {
			out[name] = wantRepl{started: true}
		} else {
			out[name] = wantRepl{reset: true}
		}
	}
	return out
}

// checkMesh checks meshState on every live pod, with AKU_SERVER_COUNT 4
// (the manifests').
func checkMesh(t *testing.T, ctx context.Context, c *Cluster) {
	t.Helper()
	checkMeshOf(t, ctx, c, 4)
}

// checkMeshOf checks meshState on every live pod, with this
// AKU_SERVER_COUNT.
func checkMeshOf(t *testing.T, ctx context.Context, c *Cluster, serverCount int) {
	t.Helper()
	live := map[int]bool{}
	for i := 0; i < 6; i++ {
		if c.Pod(i) != nil {
			live[i] = true
		}
	}
	for i := range live {
		checkReplications(t, ctx, c, i, meshState(i, serverCount, live))
	}
}

var exitLine = regexp.MustCompile(`(?m)(?:(?:^entrypoint|\] aku run): aku -p (start|end) exited with|^harness: (preStop) hook exited with) (-?\d+)(?: \(.*)?$`)

// akuExits lists the exit codes of aku -p start and end found in a pod's
// log, in order, as "start=0", "end=0": the entry point reports them (also
// for the postStart hook, which runs aku through it), as does aku run, and
// the harness reports the preStop hook's, which is aku -p end itself.
func akuExits(log string) []string {
	var out []string
	for _, m := range exitLine.FindAllStringSubmatch(log, -1) {
		action := m[1]
		if m[2] == "preStop" {
			action = "end"
		}
		out = append(out, action+"="+m[3])
	}
	return out
}

// startedLog is the log of a pod whose start the startup probe saw
// complete, once its entry point (or aku run) has also logged how aku -p
// start exited:
// aku writes the marker and only then prints its last banner and exits, so
// the probe can pass before those lines are in the log.
func startedLog(t *testing.T, ctx context.Context, c *Cluster, ordinal int) string {
	t.Helper()
	done := func() (bool, error) {
		log := c.Pod(ordinal).Logs()
		starts := 0
		for _, e := range akuExits(log) {
			if strings.HasPrefix(e, "start=") {
				starts++
			}
		}
		return strings.Count(log, "AKU started with START option.") <= starts, nil
	}
	if err := waitFor(ctx, 10*time.Second, done); err != nil {
		t.Fatalf("pod %d: waiting for its entry point to log aku -p start's exit: %v; log:\n%s", ordinal, err, c.Pod(ordinal).Logs())
	}
	return c.Pod(ordinal).Logs()
}

// checkExits compares akuExits(log) with want.
func checkExits(t *testing.T, what, log string, want ...string) {
	t.Helper()
	if got := akuExits(log); !reflect.DeepEqual(got, want) {
		t.Errorf("%s: aku exit codes %v, want %v; log:\n%s", what, got, want, log)
	}
}

// checkLog requires every line of want to appear in log, in that order,
// each as a substring of one line.
func checkLog(t *testing.T, what, log string, want ...string) {
	t.Helper()
	rest := log
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Errorf("%s: log lacks %q (after the previous expected line); log:\n%s", what, w, log)
			return
		}
		rest = rest[i+len(w):]
	}
}

// checkHas requires every one of want in log, in any order (aku runs the
// steps of independent servers in parallel, so their phases interleave).
func checkHas(t *testing.T, what, log string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(log, w) {
			t.Errorf("%s: log lacks %q; log:\n%s", what, w, log)
		}
	}
}

// checkNoLog requires that no line of log contains any of unwanted.
func checkNoLog(t *testing.T, what, log string, unwanted ...string) {
	t.Helper()
	for _, u := range unwanted {
		if strings.Contains(log, u) {
			t.Errorf("%s: log has %q; log:\n%s", what, u, log)
		}
	}
}

// markerExists runs cat on the marker in the pod: cat exits 0 when the
// marker exists and 1 when it does not; anything else (no container to run
// it in, a timeout) fails the test rather than passing for "no marker".
func markerExists(t *testing.T, ctx context.Context, c *Cluster, ordinal int) bool {
	t.Helper()
	r, err := c.Exec(ctx, ordinal, 5*time.Second, "cat", "/tmp/aku_start_completed")
	if err != nil {
		t.Fatal(err)
	}
	switch r.ExitCode {
	case 0:
		return true
	case 1:
		return false
	}
	t.Fatalf("pod %d: cat of the marker did not run: %s", ordinal, r)
	return false
}

// waitLog waits until the pod's log contains substr.
func waitLog(t *testing.T, ctx context.Context, c *Cluster, ordinal int, substr string, limit time.Duration) {
	t.Helper()
	err := waitFor(ctx, limit, func() (bool, error) { return strings.Contains(c.Pod(ordinal).Logs(), substr), nil })
	if err != nil {
		t.Fatalf("pod %d: waiting for %q in its log: %v; log:\n%s", ordinal, substr, err, c.Pod(ordinal).Logs())
	}
}

// sysdbaExec runs stmts in order in one SYSDBA session on the pod's server,
// as an operator following a documented procedure would (SYSDBA is the only
// way in while the server is in ADMIN_MODE = 1).
func sysdbaExec(t *testing.T, ctx context.Context, c *Cluster, ordinal int, stmts ...string) {
	t.Helper()
	s, err := c.Connect(ctx, ordinal, true)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, stmt := range stmts {
		if err := s.Exec(ctx, stmt); err != nil {
			t.Fatalf("on %s: %v", c.PodName(ordinal), err)
		}
	}
}

// execStart runs aku -p start in the pod as an operator does by kubectl
// exec after fixing what made the container's own start fail; it must
// succeed and the pod must then be ready. It returns aku's output.
func execStart(t *testing.T, ctx context.Context, c *Cluster, ordinal int) string {
	t.Helper()
	r, err := c.Exec(ctx, ordinal, time.Minute, "aku", "-p", "start")
	if err != nil {
		t.Fatal(err)
	}
	if r.ExitCode != 0 {
		t.Fatalf("aku -p start by kubectl exec in pod %d: %s", ordinal, r)
	}
	if err := c.WaitStarted(ctx, ordinal); err != nil {
		t.Fatal(err)
	}
	return r.Output
}

// recoverMaster follows the documented manual recovery of a master failure
// (docs/behaviour.md, "Recovering a failed master", after the Altibase
// Utilities Manual, chapter "aku") with slave as the source of truth, when it
// is the only running slave (step 1, aku -p end on the other slaves, has
// nothing to do): on the master, truncate the replicated tables with
// REPLICATION_DDL_ENABLE = 1; on the slave, STOP, RESET and SYNC the
// replication to the master (data flows slave -> master); on the master,
// START it. Step 5, aku -p start on the master, is the caller's.
func recoverMaster(t *testing.T, ctx context.Context, c *Cluster, slave int) {
	t.Helper()
	name := fmt.Sprintf("AKU_REP_0%d", slave)
	sysdbaExec(t, ctx, c, 0,
		"ALTER SYSTEM SET REPLICATION_DDL_ENABLE = 1",
		"TRUNCATE TABLE T1",
		"TRUNCATE TABLE T2",
		"ALTER SYSTEM SET REPLICATION_DDL_ENABLE = 0")
	sysdbaExec(t, ctx, c, slave,
		"ALTER REPLICATION "+name+" STOP",
		"ALTER REPLICATION "+name+" RESET",
		"ALTER REPLICATION "+name+" SYNC")
	sysdbaExec(t, ctx, c, 0, "ALTER REPLICATION "+name+" START")
}

// waitStatementDone waits until the statement log of the pod's server
// (altisim's control path: docs/altisim.md) holds a finished statement
// containing substr: an entry is logged when its statement ends.
func waitStatementDone(t *testing.T, ctx context.Context, c *Cluster, ordinal int, substr string, limit time.Duration) {
	t.Helper()
	var last string
	err := waitFor(ctx, limit, func() (bool, error) {
		out, err := c.Fault(ctx, ordinal, "log")
		if err != nil {
			return false, err
		}
		last = out
		var entries []struct {
			SQL      string        `json:"sql"`
			Duration time.Duration `json:"duration"`
			Err      string        `json:"err"`
		}
		if err := json.Unmarshal([]byte(out), &entries); err != nil {
			return false, fmt.Errorf("reading the statement log of pod %d: %w", ordinal, err)
		}
		for _, e := range entries {
			if strings.Contains(e.SQL, substr) {
				t.Logf("pod %d ran %q in %v (error: %q)", ordinal, e.SQL, e.Duration.Round(time.Millisecond), e.Err)
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("pod %d: waiting for a finished statement with %q: %v; statement log:\n%s", ordinal, substr, err, last)
	}
}

// mustFault runs `altisim fault ARGS...` on the pod's server (Cluster.Fault)
// or fails the test; the error carries altisim's output.
func mustFault(t *testing.T, ctx context.Context, c *Cluster, ordinal int, args ...string) {
	t.Helper()
	if _, err := c.Fault(ctx, ordinal, args...); err != nil {
		t.Fatalf("pod %d: %v", ordinal, err)
	}
}
