package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// TestScaleUpFromZero scales 0 -> 4 one pod at a time, writing to the master
// pod between steps, in the three StatefulSet variants: after every step every
// pod holds every row once, and the live pods replicate in a full mesh
// (docs/behaviour.md, "Master start" and "Fresh slave start").
func TestScaleUpFromZero(t *testing.T) {
	for _, variant := range []string{"statefulset-entrypoint", "statefulset-hooks", "statefulset-run"} {
		t.Run(variant, func(t *testing.T) {
			c := newCluster(t, testOptions(variant))
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			var want []int
			for n := 1; n <= 4; n++ {
				mustScale(t, ctx, c, n)
				from := len(want) + 1
				insertRows(t, ctx, c, 0, "T1", from, from+9)
				insertRows(t, ctx, c, 0, "T2", from, from+9)
				want = union(want, span(from, from+9))
				waitKeys(t, ctx, c, "T1", want)
				waitKeys(t, ctx, c, "T2", want)
				checkMesh(t, ctx, c)
			}
			checkLog(t, "pod 0", c.Pod(0).Logs(), "AKU started with START option.", "Start as MASTER Pod.", "AKU run successfully.")
			checkExits(t, "pod 0", startedLog(t, ctx, c, 0), "start=0")
			for i := 1; i < 4; i++ {
				log := startedLog(t, ctx, c, i)
				what := fmt.Sprintf("pod %d", i)
				checkLog(t, what, log, "AKU started with START option.", "Start as SLAVE Pod.", "AKU run successfully.")
				checkHas(t, what, log, "Truncate tables for replications.", "Table truncation has ended.",
					"Sync tables from MASTER Server.", "Replication sync has ended.")
				checkExits(t, what, log, "start=0")
			}
		})
	}
}

// TestScaleDownAndUp scales 4 -> 2 -> 4 with writes on pods 0 and 1 while the
// set is small: the leaving pods' end resets what pointed at them
// (docs/behaviour.md, "end"), the rows written meanwhile reach the pods that
// come back through the master's SYNC, and no row arrives twice.
func TestScaleDownAndUp(t *testing.T) {
	c := newCluster(t, testOptions("statefulset-hooks"))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	mustScale(t, ctx, c, 4)
	insertRows(t, ctx, c, 0, "T1", 1, 20)
	insertRows(t, ctx, c, 3, "T1", 21, 30)
	want := span(1, 30)
	waitKeys(t, ctx, c, "T1", want)

	for i := 3; i >= 2; i-- {
		term, err := c.DeletePod(ctx, i)
		if err != nil {
			t.Fatal(err)
		}
		what := fmt.Sprintf("end of pod %d", i)
		if !term.Graceful || term.Duration > c.Grace() {
			t.Errorf("%s: graceful %v after %v, want within the grace period %v", what, term.Graceful, term.Duration, c.Grace())
		}
		checkLog(t, what, term.Log, "AKU started with END option.", "Start as SLAVE Pod.", "AKU run successfully.",
			"entrypoint: stopping the server", "server: stopped")
		checkHas(t, what, term.Log, "Flush replications.", "Replication flush has ended.",
			"Reset replications.", "Replication reset has ended.")
		checkExits(t, what, term.Log, "start=0", "end=0")
	}
	checkMesh(t, ctx, c) // AKU_REP_02, _03, _12, _13 stopped and reset on pods 0 and 1

	insertRows(t, ctx, c, 0, "T1", 31, 40)
	insertRows(t, ctx, c, 1, "T1", 41, 50)
	want = span(1, 50)
	waitKeys(t, ctx, c, "T1", want)

	mustScale(t, ctx, c, 4)
	waitKeys(t, ctx, c, "T1", want)
	checkMesh(t, ctx, c)
	for i := 2; i < 4; i++ {
		what := fmt.Sprintf("restart of pod %d", i)
		checkLog(t, what, c.Pod(i).Logs(), "Start as SLAVE Pod.", "AKU run successfully.")
		checkHas(t, what, c.Pod(i).Logs(), "Truncate tables for replications.", "Sync tables from MASTER Server.")
		checkExits(t, what, startedLog(t, ctx, c, i), "start=0")
	}
	// And the restored mesh carries new writes from every side.
	for i := 0; i < 4; i++ {
		insertRows(t, ctx, c, i, "T1", 100+10*i, 100+10*i+4)
		want = union(want, span(100+10*i, 100+10*i+4))
	}
	waitKeys(t, ctx, c, "T1", want)
}

// TestServerCountRaised runs pods 0 and 1 with AKU_SERVER_COUNT = 2, then
// raises it to 3 in the ConfigMap and scales to 3. Pod 1's start ran long
// ago, so it has no AKU_REP_12: pod 2's start builds that side on pod 1
// (docs/behaviour.md, "Half-built pairs") and its closing check shows the
// pair whole; a row written on pod 1 afterwards reaches pod 2 directly.
func TestServerCountRaised(t *testing.T) {
	o := testOptions("statefulset-entrypoint")
	o.Conf["AKU_SERVER_COUNT"] = "2"
	c := newCluster(t, o)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	mustScale(t, ctx, c, 2)
	insertRows(t, ctx, c, 0, "T1", 1, 10)
	waitKeys(t, ctx, c, "T1", span(1, 10))

	path := filepath.Join(c.Dir(), "configmap", "aku.conf")
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raised := regexp.MustCompile(`(?m)^(\s*AKU_SERVER_COUNT\s*=\s*)2\b`).ReplaceAll(text, []byte("${1}3"))
	if bytes.Equal(raised, text) {
		t.Fatalf("no AKU_SERVER_COUNT = 2 in %s:\n%s", path, text)
	}
	if err := os.WriteFile(path, raised, 0o644); err != nil {
		t.Fatal(err)
	}
	mustScale(t, ctx, c, 3)
	log := startedLog(t, ctx, c, 2)
	checkExits(t, "start of pod 2", log, "start=0")
	checkHas(t, "start of pod 2", log, "CREATE REPLICATION AKU_REP_12")
	checkReplications(t, ctx, c, 1, map[string]wantRepl{"AKU_REP_01": {started: true}, "AKU_REP_12": {started: true}})
	checkReplications(t, ctx, c, 2, map[string]wantRepl{"AKU_REP_02": {started: true}, "AKU_REP_12": {started: true}})

	insertRows(t, ctx, c, 1, "T1", 20, 25)
	waitKeys(t, ctx, c, "T1", union(span(1, 10), span(20, 25)))
}
