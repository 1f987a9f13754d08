package e2e

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestEndCutAtTheDeadline ends a slave, as its preStop hook would, with
// `aku -p end --deadline` while its link toward the MASTER is slow
// (`altisim fault send-rate`): the gap cannot ship before the deadline
// (docs/behaviour.md, "The deadline"). The end reserves its closing
// statements, gives the FLUSH WAIT the rest, logs what it cut (the pair,
// the peer, the bytes left), resets nothing and exits 16 within its
// deadline. The pod's next start rejoins and flushes: every row reaches
// the MASTER.
func TestEndCutAtTheDeadline(t *testing.T) {
	c := newCluster(t, testOptions("statefulset-hooks"))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	mustScale(t, ctx, c, 2)
	insertRows(t, ctx, c, 0, "T1", 1, 10)
	waitKeys(t, ctx, c, "T1", span(1, 10))

	// About 36 KB of log held back, then shipped at 3 KB/s: 12 s.
	mustFault(t, ctx, c, 1, "hold-sender")
	insertRows(t, ctx, c, 1, "T1", 1001, 1600)
	mustFault(t, ctx, c, 1, "send-rate", "3000")
	mustFault(t, ctx, c, 1, "release-sender")

	// 8 s are reserved (the gap check, pod 1's STOP and RESET, pod 0's
	// RESET: 2 s each), which leaves the FLUSH WAIT about 3 s.
	const deadline = 11 * time.Second
	r, err := c.Exec(ctx, 1, time.Minute, "aku", "-p", "end", "--deadline", "11s")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", r)
	if r.ExitCode != 16 || r.Duration > deadline {
		t.Fatalf("end with a deadline: want exit 16 within %s, got %s", deadline, r)
	}
	checkHas(t, "end of pod 1", r.Output, "reserved for 4 closing statements", "FLUSH ALL WAIT",
		"Flush cut at the deadline: not everything was handed over", "peer="+c.Host(0), "bytesLeft=",
		"AKU_REP_01 to "+c.Host(0)+" (cut at the deadline: ")
	checkNoLog(t, "end of pod 1", r.Output, "Replication reset.")
	for _, line := range strings.Split(r.Output, "\n") {
		if strings.Contains(line, "bytesLeft=0 ") || strings.HasSuffix(line, "bytesLeft=0") {
			t.Errorf("a cut pair with nothing left: %s", line)
		}
	}
	// Both sides stopped with their restart points.
	checkReplications(t, ctx, c, 0, map[string]wantRepl{"AKU_REP_01": {}, "AKU_REP_02": {reset: true}, "AKU_REP_03": {reset: true}})
	checkReplications(t, ctx, c, 1, map[string]wantRepl{"AKU_REP_01": {}, "AKU_REP_12": {reset: true}, "AKU_REP_13": {reset: true}})

	// The container restarts (its server with it, so the slow link is
	// gone): the start rejoins and hands over the rest.
	if err := c.KillContainer(1); err != nil {
		t.Fatal(err)
	}
	if err := c.RestartContainer(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitStarted(ctx, 1); err != nil {
		t.Fatal(err)
	}
	log := startedLog(t, ctx, c, 1)
	checkHas(t, "rejoin of pod 1", log, "Flush replications.", "Replication flush has ended.")
	checkNoLog(t, "rejoin of pod 1", log, "Truncate tables for replications.", "Sync tables from MASTER Server.")
	waitKeys(t, ctx, c, "T1", union(span(1, 10), span(1001, 1600)))
	checkMesh(t, ctx, c)
}
