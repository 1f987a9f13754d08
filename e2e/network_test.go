package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// connectTimeout is the connect timeout of the psqlODBC template aku uses in
// the pods (pqopt={connect_timeout=3}).
const connectTimeout = 3 * time.Second

// TestBlackholedPeer gives the next ordinal a DNS record at an address where
// SYNs are dropped (a node gone without a trace): start and end of a pod
// that must try that peer cost one connect timeout, not the kernel's two
// minutes, and skip it.
func TestBlackholedPeer(t *testing.T) {
	c := newCluster(t, testOptions("statefulset-entrypoint"))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	mustScale(t, ctx, c, 2)
	insertRows(t, ctx, c, 0, "T1", 1, 10)
	if err := c.Blackhole(ctx, 3); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	mustScale(t, ctx, c, 3)
	took := time.Since(start)
	log := startedLog(t, ctx, c, 2)
	checkExits(t, "start of pod 2", log, "start=0")
	checkHas(t, "start of pod 2", log, c.Host(3)+" did not answer in time")
	// At least the connect timeout (the SYN really was dropped), at most
	// that plus the ordinary work.
	if took < connectTimeout-500*time.Millisecond || took > connectTimeout+7*time.Second {
		t.Errorf("start of pod 2 with a black-holed peer took %v, want about the connect timeout %v", took, connectTimeout)
	}
	waitKeys(t, ctx, c, "T1", span(1, 10))
	checkMesh(t, ctx, c)

	term, err := c.DeletePod(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	checkExits(t, "end of pod 2", term.Log, "start=0", "end=0")
	checkLog(t, "end of pod 2", term.Log, "AKU started with END option.", c.Host(3)+" did not answer in time", "AKU run successfully.")
	if !term.Graceful || term.Duration > connectTimeout+7*time.Second {
		t.Errorf("end of pod 2 with a black-holed peer: graceful %v after %v", term.Graceful, term.Duration)
	}
	checkMesh(t, ctx, c)
}

// TestPartitionDuringEnd cuts a slave off the network while another pod
// ends, with rows just written on the leaving pod: end finishes within the
// grace period, in about one connect timeout, flushes and stops what it can
// reach, and — since the rows it could not hand over to the cut-off pod
// would otherwise be lost for it — resets nothing and exits 16
// (docs/behaviour.md, "end"). When the pod comes back, its start rejoins
// and flushes, and every row reaches every pod, the partitioned one too.
func TestPartitionDuringEnd(t *testing.T) {
	c := newCluster(t, testOptions("statefulset-entrypoint"))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	mustScale(t, ctx, c, 4)
	insertRows(t, ctx, c, 0, "T1", 1, 10)
	waitKeys(t, ctx, c, "T1", span(1, 10))

	if err := c.Partition(ctx, 1, true); err != nil {
		t.Fatal(err)
	}
	insertRows(t, ctx, c, 3, "T1", 30, 35)
	term, err := c.DeletePod(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("end of pod 3 took %v", term.Duration)
	if !term.Graceful || term.Duration > c.Grace() {
		t.Errorf("end of pod 3 during a partition: graceful %v after %v, grace period %v", term.Graceful, term.Duration, c.Grace())
	}
	if term.Duration > connectTimeout+7*time.Second {
		t.Errorf("end of pod 3 took %v: an unreachable peer should cost about one connect timeout (%v)", term.Duration, connectTimeout)
	}
	checkLog(t, "end of pod 3", term.Log, "AKU started with END option.",
		"restart points kept", "AKU failed to run.")
	checkExits(t, "end of pod 3", term.Log, "start=0", "end=16")
	// The reachable pods stopped their side toward pod 3 and kept its
	// restart point.
	kept := func(ordinal int) map[string]wantRepl {
		w := meshState(ordinal, 4, map[int]bool{0: true, 1: true, 2: true})
		w[fmt.Sprintf("AKU_REP_%d3", ordinal)] = wantRepl{}
		return w
	}
	checkReplications(t, ctx, c, 0, kept(0))
	checkReplications(t, ctx, c, 2, kept(2))

	if err := c.Partition(ctx, 1, false); err != nil {
		t.Fatal(err)
	}
	// Pod 3 comes back: a rejoin (no truncate) that flushes its rows to
	// pod 1 at last.
	mustScale(t, ctx, c, 4)
	checkNoLog(t, "start of pod 3", c.Pod(3).Logs(), "Truncate tables for replications.")
	insertRows(t, ctx, c, 1, "T1", 11, 20)
	waitKeys(t, ctx, c, "T1", union(span(1, 20), span(30, 35)))
	checkMesh(t, ctx, c)
}

// TestEndPastGracePeriod makes aku -p end overrun the grace period (a STOP on
// the master hangs; the grace period is cut to 3 s for the test): the
// kubelet's SIGKILL ends the pod mid-end, without aku's success banner, and
// the master keeps a stale replication towards it (docs/behaviour.md, "Stale
// replications"). When the pod comes back, aku's start deals with the
// leftovers and nothing is lost. It runs without AKU_END_DEADLINE, as the
// original's manifests do (TestEndCutByItsDeadline is the same end with it).
func TestEndPastGracePeriod(t *testing.T) {
	c, ctx, term, endLog := hungEnd(t, map[string]string{"AKU_END_DEADLINE": ""})
	if term.Graceful || term.Duration < c.Grace() || term.Duration > c.Grace()+3*time.Second {
		t.Errorf("end past the grace period: graceful %v after %v, want a kill at %v", term.Graceful, term.Duration, c.Grace())
	}
	checkNoLog(t, "end of pod 2", endLog, "AKU run successfully.", "aku -p end exited with")
	// The killed end's STOP on the master ends with its client, as on a
	// real server whose client's pod died: its SYSDBA session must not
	// outlive the pod, or the pod's next start finds the master busy
	// (exit 8).
	waitStatementDone(t, ctx, c, 0, "AKU_REP_02 STOP", 10*time.Second)
	mustFault(t, ctx, c, 0, "clear")
	// The master's object towards pod 2 was never stopped: stale
	// (docs/behaviour.md, "Stale replications").
	checkReplications(t, ctx, c, 0, meshState(0, 4, map[int]bool{0: true, 1: true, 2: true}))
	rejoinAfterHungEnd(t, ctx, c)
}

// TestEndCutByItsDeadline is TestEndPastGracePeriod with the example's
// AKU_END_DEADLINE (110 of 120 s, here of the test's 3 s grace period):
// the end plans within its deadline, which leaves no time to FLUSH (its
// restart points are kept), gives up the master's STOP that hangs when the
// deadline comes, removes the marker and exits 16 before the kubelet's
// SIGKILL; the pod's next start rejoins and nothing is lost.
func TestEndCutByItsDeadline(t *testing.T) {
	c, ctx, term, endLog := hungEnd(t, nil)
	if !term.Graceful {
		t.Errorf("end with a deadline: killed after %v, want it over within the grace period %v", term.Duration, c.Grace())
	}
	checkLog(t, "end of pod 2", endLog, "restart points kept", "Deadline in ", "Optional step failed", "aku -p end exited with 16")
	checkNoLog(t, "end of pod 2", endLog, "AKU_REP_02 STOP: statement timed out: context deadline exceeded\n[AKU]", "Replication reset.")
	waitStatementDone(t, ctx, c, 0, "AKU_REP_02 STOP", 10*time.Second)
	mustFault(t, ctx, c, 0, "clear")
	rejoinAfterHungEnd(t, ctx, c)
}

// hungEnd runs three pods with a grace period of 3 s and the environment
// env (Options.Env), writes rows, makes the master's STOP toward pod 2 hang
// for 30 s and deletes pod 2. It returns the pod's termination and its
// log from the end's banner on.
func hungEnd(t *testing.T, env map[string]string) (*Cluster, context.Context, Termination, string) {
	t.Helper()
	o := testOptions("statefulset-entrypoint")
	o.GracePeriod = 3 * time.Second
	o.Env = env
	c := newCluster(t, o)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	mustScale(t, ctx, c, 3)
	insertRows(t, ctx, c, 0, "T1", 1, 10)
	waitKeys(t, ctx, c, "T1", span(1, 10))

	mustFault(t, ctx, c, 0, "add", "--pattern", "AKU_REP_02 STOP", "--action", "delay", "--delay", "30s")
	term, err := c.DeletePod(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(term.Log, "AKU started with END option.")
	if i < 0 {
		t.Fatalf("end of pod 2 did not run; log:\n%s", term.Log)
	}
	return c, ctx, term, term.Log[i:]
}

// rejoinAfterHungEnd brings pod 2 back after hungEnd, with rows written
// meanwhile: its start succeeds and every pod holds every row.
func rejoinAfterHungEnd(t *testing.T, ctx context.Context, c *Cluster) {
	t.Helper()
	insertRows(t, ctx, c, 0, "T1", 11, 20)
	mustScale(t, ctx, c, 3)
	log := startedLog(t, ctx, c, 2)
	checkExits(t, "restart of pod 2", log, "start=0")
	waitKeys(t, ctx, c, "T1", span(1, 20))
	checkMesh(t, ctx, c)
}

// TestFrozenMaster stops the master's server process (SIGSTOP: it accepts
// connections and never answers) while a slave with fresh rows ends. The
// end does not wait for AKU_QUERY_TIMEOUT: the master does not answer
// within the connect timeout, counts as not answering (never as absent),
// and the end keeps every restart point (exit 16). Once the master thaws,
// the slave's next start rejoins and its rows reach the master.
func TestFrozenMaster(t *testing.T) {
	c := newCluster(t, testOptions("statefulset-entrypoint"))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	mustScale(t, ctx, c, 2)
	insertRows(t, ctx, c, 0, "T1", 1, 10)
	waitKeys(t, ctx, c, "T1", span(1, 10))

	signalServer(t, ctx, c, 0, "STOP")
	insertRows(t, ctx, c, 1, "T1", 40, 45)
	term, err := c.DeletePod(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("end of pod 1 against a frozen master took %v", term.Duration)
	if !term.Graceful || term.Duration > connectTimeout+7*time.Second {
		t.Errorf("end of pod 1 against a frozen master: graceful %v after %v, want about one connect timeout (%v)", term.Graceful, term.Duration, connectTimeout)
	}
	checkLog(t, "end of pod 1", term.Log, "AKU started with END option.", "restart points kept", "AKU failed to run.")
	checkExits(t, "end of pod 1", term.Log, "start=0", "end=16")

	signalServer(t, ctx, c, 0, "CONT")
	mustScale(t, ctx, c, 2)
	checkNoLog(t, "start of pod 1", c.Pod(1).Logs(), "Truncate tables for replications.")
	waitKeys(t, ctx, c, "T1", union(span(1, 10), span(40, 45)))
	checkMesh(t, ctx, c)
}

// signalServer sends sig (STOP, CONT) to the server process of a pod, as
// kill would inside its container.
func signalServer(t *testing.T, ctx context.Context, c *Cluster, ordinal int, sig string) {
	t.Helper()
	r, err := c.Exec(ctx, ordinal, 5*time.Second, "/bin/sh", "-c", `kill -`+sig+` "$(cat /tmp/altisim.pid)"`)
	if err != nil || r.ExitCode != 0 {
		t.Fatalf("kill -%s the server of pod %d: %v %s", sig, ordinal, err, r.Output)
	}
}
