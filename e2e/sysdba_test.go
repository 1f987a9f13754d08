package e2e

import (
	"context"
	"testing"
	"time"
)

// TestSysdbaSessionHeld has an operator hold the SYSDBA session of a running
// pod while the next pod starts: aku cannot connect to it as SYSDBA
// (Altibase allows one: spec §10) and must fail with exit code 8 and advice,
// writing no marker; once the operator leaves, aku -p start succeeds.
func TestSysdbaSessionHeld(t *testing.T) {
	c := newCluster(t, testOptions("statefulset-entrypoint"))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	mustScale(t, ctx, c, 2)
	insertRows(t, ctx, c, 0, "T1", 1, 10)
	waitKeys(t, ctx, c, "T1", span(1, 10))

	operator, err := c.Connect(ctx, 1, true)
	if err != nil {
		t.Fatal(err)
	}
	defer operator.Close()
	if _, err := c.CreatePod(ctx, 2); err != nil {
		t.Fatal(err)
	}
	waitLog(t, ctx, c, 2, "entrypoint: aku -p start exited with", 60*time.Second)
	log := c.Pod(2).Logs()
	checkLog(t, "start of pod 2", log, "AKU started with START option.", "AKU failed to run.")
	checkHas(t, "start of pod 2", log, "SYSDBA session is already running", "close the other SYSDBA session")
	checkExits(t, "start of pod 2", log, "start=8")
	if markerExists(t, ctx, c, 2) {
		t.Fatal("the failed start wrote the marker")
	}

	operator.Close()
	out := execStart(t, ctx, c, 2)
	checkLog(t, "start of pod 2 once the operator left", out, "AKU started with START option.", "Start as SLAVE Pod.", "AKU run successfully.")
	waitKeys(t, ctx, c, "T1", span(1, 10))
	checkMesh(t, ctx, c)
}
