package e2e

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestStalePeerReleased: a slave pod dies without its end (SIGKILL of its
// container) and is deleted, so its DNS name no longer resolves; the
// survivors keep their started sides toward it, with restart points. aku
// -p release --peer 2 on each survivor stops and resets its own side and
// nothing else, and refuses a peer that answers (docs/behaviour.md, "Stale
// peers"). With AKU_STALE_PEER_TTL set, the pod's return on its old volume
// takes the fresh path (its own sides reset, TRUNCATE, SYNC from the
// master) with a warning, and it ends with every row.
func TestStalePeerReleased(t *testing.T) {
	o := testOptions("statefulset-entrypoint")
	o.Conf["AKU_STALE_PEER_TTL"] = "60"
	c := newCluster(t, o)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	killSlaveOfThree(t, ctx, c)
	if _, err := c.DeletePod(ctx, 2); err != nil {
		t.Fatal(err)
	}
	insertRows(t, ctx, c, 0, "T1", 21, 30)
	insertRows(t, ctx, c, 1, "T1", 31, 40)
	waitKeys(t, ctx, c, "T1", span(1, 40))
	for q := 0; q < 2; q++ {
		checkReplications(t, ctx, c, q, meshState(q, 4, map[int]bool{0: true, 1: true, 2: true}))
	}

	r, err := c.Exec(ctx, 0, time.Minute, "aku", "-p", "release", "--peer", "1")
	if err != nil {
		t.Fatal(err)
	}
	if r.ExitCode != 13 || !strings.Contains(r.Output, "release refused, nothing was changed") {
		t.Errorf("release of running pod 1: %s; want exit 13", r)
	}
	for q := 0; q < 2; q++ {
		r, err := c.Exec(ctx, q, time.Minute, "aku", "-p", "release", "--peer", "2")
		if err != nil {
			t.Fatal(err)
		}
		what := "release on " + c.PodName(q)
		if r.ExitCode != 0 {
			t.Fatalf("%s: %s", what, r)
		}
		checkLog(t, what, r.Output, "AKU started with RELEASE option.", "Start as ", "Reset replications.", "Replication reset has ended.", "AKU run successfully.")
		checkHas(t, what, r.Output, "[WARNING]", "Replication released: altibase-sts-2 is gone")
		checkReplications(t, ctx, c, q, meshState(q, 4, map[int]bool{0: true, 1: true}))
		if !markerExists(t, ctx, c, q) {
			t.Errorf("%s removed the marker", what)
		}
	}
	insertRows(t, ctx, c, 1, "T1", 41, 50)
	waitKeys(t, ctx, c, "T1", span(1, 50))

	mustScale(t, ctx, c, 3)
	log := startedLog(t, ctx, c, 2)
	checkLog(t, "return of pod 2", log, "AKU started with START option.", "Start as SLAVE Pod.", "AKU run successfully.")
	checkHas(t, "return of pod 2", log, "the peers released this pod while it was gone", "changes that were never sent are lost",
		"Truncate tables for replications.", "Sync tables from MASTER Server.", "Replication sync has ended.")
	checkExits(t, "return of pod 2", log, "start=0")
	waitKeys(t, ctx, c, "T1", span(1, 50))
	checkMesh(t, ctx, c)
	insertRows(t, ctx, c, 2, "T1", 51, 60)
	waitKeys(t, ctx, c, "T1", span(1, 60))
}
