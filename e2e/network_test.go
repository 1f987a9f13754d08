package e2e

import (
	"context"
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
	log := c.Pod(2).Logs()
	checkExits(t, "start of pod 2", log, "start=0")
	checkHas(t, "start of pod 2", log, c.Host(3)+" is not reachable")
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
	checkLog(t, "end of pod 2", term.Log, "AKU started with END option.", c.Host(3)+" is not reachable", "AKU run successfully.")
	if !term.Graceful || term.Duration > connectTimeout+7*time.Second {
		t.Errorf("end of pod 2 with a black-holed peer: graceful %v after %v", term.Graceful, term.Duration)
	}
	checkMesh(t, ctx, c)
}

// TestPartitionDuringEnd cuts a slave off the network while another pod
// ends: end finishes within the grace period, in about one connect timeout,
// with what it can reach, and resets the replication on the reachable pods; the partitioned pod keeps a
// stale replication state (spec §8 "Stale replication") until the
// documented STOP and RESET, after which the pod that left can come back.
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
	// aku skips the unreachable peer and says so; the pod must go anyway.
	checkLog(t, "end of pod 3", term.Log, "AKU started with END option.",
		c.Host(1)+" is not reachable", "AKU_REP_13 not flushed", "AKU run successfully.")
	checkExits(t, "end of pod 3", term.Log, "start=0", "end=0")
	// The reachable pods are reset towards pod 3.
	checkReplications(t, ctx, c, 0, meshState(0, 4, map[int]bool{0: true, 1: true, 2: true}))
	checkReplications(t, ctx, c, 2, meshState(2, 4, map[int]bool{0: true, 1: true, 2: true}))

	if err := c.Partition(ctx, 1, false); err != nil {
		t.Fatal(err)
	}
	// Pod 1 still runs AKU_REP_13 towards the pod that left, with a
	// restart point: stale, keeping logs for it.
	stale := meshState(1, 4, map[int]bool{0: true, 1: true, 2: true, 3: true})
	checkReplications(t, ctx, c, 1, stale)
	sysdbaExec(t, ctx, c, 1, "ALTER REPLICATION AKU_REP_13 STOP", "ALTER REPLICATION AKU_REP_13 RESET")
	checkMesh(t, ctx, c)

	insertRows(t, ctx, c, 1, "T1", 11, 20)
	mustScale(t, ctx, c, 4)
	waitKeys(t, ctx, c, "T1", span(1, 20))
	checkMesh(t, ctx, c)
}

// TestEndPastGracePeriod makes aku -p end overrun the grace period (a STOP
// on the master hangs; the grace period is cut to 3 s for the test): the
// kubelet's SIGKILL ends the pod mid-end, without aku's success banner, and
// the master keeps a stale replication towards it (spec §8). When the pod
// comes back, aku's start deals with the leftovers and nothing is lost.
func TestEndPastGracePeriod(t *testing.T) {
	o := testOptions("statefulset-entrypoint")
	o.GracePeriod = 3 * time.Second
	c := newCluster(t, o)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	mustScale(t, ctx, c, 3)
	insertRows(t, ctx, c, 0, "T1", 1, 10)
	waitKeys(t, ctx, c, "T1", span(1, 10))

	mustFault(t, ctx, c, 0, "add", "--pattern", "AKU_REP_02 STOP", "--action", "delay", "--delay", "30s")
	term, err := c.DeletePod(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if term.Graceful || term.Duration < c.Grace() || term.Duration > c.Grace()+3*time.Second {
		t.Errorf("end past the grace period: graceful %v after %v, want a kill at %v", term.Graceful, term.Duration, c.Grace())
	}
	i := strings.Index(term.Log, "AKU started with END option.")
	if i < 0 {
		t.Fatalf("end of pod 2 did not run; log:\n%s", term.Log)
	}
	checkNoLog(t, "end of pod 2", term.Log[i:], "AKU run successfully.", "aku -p end exited with")
	// The killed end's STOP on the master ends with its client, as on a
	// real server whose client's pod died: its SYSDBA session must not
	// outlive the pod, or the pod's next start finds the master busy
	// (exit 8).
	waitStatementDone(t, ctx, c, 0, "AKU_REP_02 STOP", 10*time.Second)
	mustFault(t, ctx, c, 0, "clear")
	// The master's object towards pod 2 was never stopped: stale (spec §8).
	checkReplications(t, ctx, c, 0, meshState(0, 4, map[int]bool{0: true, 1: true, 2: true}))

	insertRows(t, ctx, c, 0, "T1", 11, 20)
	mustScale(t, ctx, c, 3)
	log := c.Pod(2).Logs()
	checkExits(t, "restart of pod 2", log, "start=0")
	waitKeys(t, ctx, c, "T1", span(1, 20))
	checkMesh(t, ctx, c)
}
