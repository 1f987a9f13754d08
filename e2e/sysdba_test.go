package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestSysdbaSessionHeld has an operator hold the SYSDBA session of a running
// pod while the next pod starts. Altibase allows one (docs/behaviour.md, "A
// busy SYSDBA session"): aku waits for it, logging once which server it
// waits for, up to AKU_SYSDBA_WAIT_TIME (3 s here), then fails with exit
// code 8 and advice, writing no marker; the entry point tries again after
// a pause, and once the operator leaves the start succeeds by itself.
func TestSysdbaSessionHeld(t *testing.T) {
	o := testOptions("statefulset-entrypoint")
	o.Conf["AKU_SYSDBA_WAIT_TIME"] = "3"
	c := newCluster(t, o)
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
	waitLog(t, ctx, c, 2, "entrypoint: retrying aku -p start", 60*time.Second)
	log := c.Pod(2).Logs()
	checkLog(t, "start of pod 2", log, "AKU started with START option.", "Waiting for the SYSDBA session on "+c.Host(1), "AKU failed to run.")
	checkHas(t, "start of pod 2", log, "SYSDBA session is already running", "close the other SYSDBA session")
	checkExits(t, "start of pod 2", log, "start=8")
	if markerExists(t, ctx, c, 2) {
		t.Fatal("the failed start wrote the marker")
	}

	operator.Close()
	if err := c.WaitStarted(ctx, 2); err != nil {
		t.Fatal(err)
	}
	checkExits(t, "start of pod 2 once the operator left", startedLog(t, ctx, c, 2), "start=8", "start=0")
	insertRows(t, ctx, c, 2, "T1", 20, 25)
	waitKeys(t, ctx, c, "T1", union(span(1, 10), span(20, 25)))
	checkMesh(t, ctx, c)
}

// TestTwoStartsAtOnce starts two slaves at the same moment (a Parallel pod
// policy, or two pods restarted after a node failure): each finds the
// other's aku on a server it needs and waits for it with its sessions
// released, so both starts succeed and every row reaches every pod.
func TestTwoStartsAtOnce(t *testing.T) {
	c := newCluster(t, testOptions("statefulset-entrypoint"))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	mustScale(t, ctx, c, 1)
	insertRows(t, ctx, c, 0, "T1", 1, 10)
	for _, q := range []int{1, 2} {
		if _, err := c.CreatePod(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []int{1, 2} {
		if err := c.WaitStarted(ctx, q); err != nil {
			t.Fatal(err)
		}
		checkExits(t, fmt.Sprintf("start of pod %d", q), startedLog(t, ctx, c, q), "start=0")
	}
	insertRows(t, ctx, c, 1, "T1", 20, 25)
	insertRows(t, ctx, c, 2, "T1", 30, 35)
	waitKeys(t, ctx, c, "T1", union(span(1, 10), span(20, 25), span(30, 35)))
	checkMesh(t, ctx, c)
}
