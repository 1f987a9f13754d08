package e2e

import (
	"context"
	"testing"
	"time"
)

// TestKilledPodRejoins kills a slave pod's whole container with SIGKILL
// (server and aku, no end) and lets the kubelet restart it: its replication
// kept its restart points, so start takes the rejoin path (docs/behaviour.md,
// "Rejoining slave start"): no TRUNCATE, no SYNC, a flush both ways; the rows
// written while it was down arrive, and nothing arrives twice.
func TestKilledPodRejoins(t *testing.T) {
	c := newCluster(t, testOptions("statefulset-entrypoint"))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	killSlaveOfThree(t, ctx, c)
	// The survivors keep their state towards pod 2 (docs/behaviour.md, "Stale
	// replications"): still started, with a restart point.
	for i := 0; i < 2; i++ {
		checkReplications(t, ctx, c, i, meshState(i, 4, map[int]bool{0: true, 1: true, 2: true}))
	}
	insertRows(t, ctx, c, 0, "T1", 21, 30)
	insertRows(t, ctx, c, 1, "T1", 31, 40)

	if err := c.RestartContainer(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitStarted(ctx, 2); err != nil {
		t.Fatal(err)
	}
	log := startedLog(t, ctx, c, 2)
	checkLog(t, "rejoin of pod 2", log, "AKU started with START option.", "Start as SLAVE Pod.", "AKU run successfully.")
	checkHas(t, "rejoin of pod 2", log, "Flush replications.", "Replication flush has ended.")
	checkNoLog(t, "rejoin of pod 2", log, "Truncate tables for replications.", "Sync tables from MASTER Server.", "creating the schema")
	checkExits(t, "rejoin of pod 2", log, "start=0")
	waitKeys(t, ctx, c, "T1", span(1, 40))
	checkMesh(t, ctx, c)
	insertRows(t, ctx, c, 2, "T1", 41, 50)
	waitKeys(t, ctx, c, "T1", span(1, 50))
}

// killSlaveOfThree scales to three pods, writes keys 1 to 19 on pods 0 and
// 2 and waits until every pod holds them, then kills pod 2's whole
// container with SIGKILL: no end runs.
func killSlaveOfThree(t *testing.T, ctx context.Context, c *Cluster) {
	t.Helper()
	mustScale(t, ctx, c, 3)
	insertRows(t, ctx, c, 0, "T1", 1, 10)
	insertRows(t, ctx, c, 2, "T1", 11, 20)
	waitKeys(t, ctx, c, "T1", span(1, 20))
	if err := c.KillContainer(2); err != nil {
		t.Fatal(err)
	}
}

// TestResetAtEndOff ends a slave with AKU_REPLICATION_RESET_AT_END = 0: end
// flushes and stops but does not reset (docs/behaviour.md, "end"), so the
// restart points survive on every side, and the pod's next start takes the
// rejoin path.
func TestResetAtEndOff(t *testing.T) {
	o := testOptions("statefulset-hooks")
	o.Conf["AKU_REPLICATION_RESET_AT_END"] = "0"
	c := newCluster(t, o)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	mustScale(t, ctx, c, 3)
	insertRows(t, ctx, c, 0, "T1", 1, 10)
	waitKeys(t, ctx, c, "T1", span(1, 10))

	term, err := c.DeletePod(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	checkLog(t, "end of pod 2", term.Log, "AKU started with END option.", "AKU run successfully.")
	checkHas(t, "end of pod 2", term.Log, "Flush replications.", "Replication flush has ended.")
	checkNoLog(t, "end of pod 2", term.Log, "Reset replications.")
	checkExits(t, "end of pod 2", term.Log, "start=0", "end=0")
	// Stopped, restart point kept: on pod 0 AKU_REP_02 and on pod 1 AKU_REP_12.
	checkReplications(t, ctx, c, 0, map[string]wantRepl{
		"AKU_REP_01": {started: true}, "AKU_REP_02": {}, "AKU_REP_03": {reset: true},
	})
	checkReplications(t, ctx, c, 1, map[string]wantRepl{
		"AKU_REP_01": {started: true}, "AKU_REP_12": {}, "AKU_REP_13": {reset: true},
	})

	insertRows(t, ctx, c, 0, "T1", 11, 20)
	insertRows(t, ctx, c, 1, "T1", 21, 30)
	waitKeys(t, ctx, c, "T1", span(1, 30))
	mustScale(t, ctx, c, 3)
	log := startedLog(t, ctx, c, 2)
	checkHas(t, "restart of pod 2", log, "Start as SLAVE Pod.", "Flush replications.", "AKU run successfully.")
	checkNoLog(t, "restart of pod 2", log, "Truncate tables for replications.", "Sync tables from MASTER Server.")
	checkExits(t, "restart of pod 2", log, "start=0")
	waitKeys(t, ctx, c, "T1", span(1, 30))
	checkMesh(t, ctx, c)
}

// TestKilledDuringStart kills a new slave's container (server and aku, with
// SIGKILL) while aku -p start waits for the master's SYNC, and lets the
// kubelet restart it: the second start finishes the job (docs/behaviour.md,
// "Resuming a run": a run killed at any point is finished by running it
// again), and every pod ends with every row once.
func TestKilledDuringStart(t *testing.T) {
	c := newCluster(t, testOptions("statefulset-entrypoint"))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	mustScale(t, ctx, c, 2)
	insertRows(t, ctx, c, 0, "T1", 1, 10)
	insertRows(t, ctx, c, 1, "T1", 11, 20)
	waitKeys(t, ctx, c, "T1", span(1, 20))

	mustFault(t, ctx, c, 0, "add", "--pattern", "SYNC", "--action", "delay", "--delay", "2s")
	if _, err := c.CreatePod(ctx, 2); err != nil {
		t.Fatal(err)
	}
	waitLog(t, ctx, c, 2, "Sync tables from MASTER Server.", 30*time.Second)
	if err := c.KillContainer(2); err != nil {
		t.Fatal(err)
	}
	checkNoLog(t, "killed start of pod 2", c.Pod(2).Logs(), "AKU run successfully.", "exited with")
	// The master still runs the killed run's SYNC: let it end (against a
	// dead peer) before the kubelet's restart, so that the outcome does not
	// depend on timing.
	waitStatementDone(t, ctx, c, 0, "AKU_REP_02 SYNC", 30*time.Second)
	mustFault(t, ctx, c, 0, "clear")
	insertRows(t, ctx, c, 0, "T1", 21, 30)

	if err := c.RestartContainer(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitStarted(ctx, 2); err != nil {
		t.Fatal(err)
	}
	log := startedLog(t, ctx, c, 2)
	checkExits(t, "restarted start of pod 2", log, "start=0")
	// Its replication was never started: the fresh slave path again.
	checkLog(t, "restarted start of pod 2", log, "Start as SLAVE Pod.", "AKU run successfully.")
	checkHas(t, "restarted start of pod 2", log, "Truncate tables for replications.", "Replication sync has ended.")
	checkNoLog(t, "restarted start of pod 2", log, "creating the schema")
	waitKeys(t, ctx, c, "T1", span(1, 30))
	checkMesh(t, ctx, c)
	insertRows(t, ctx, c, 2, "T1", 31, 40)
	waitKeys(t, ctx, c, "T1", span(1, 40))
}
