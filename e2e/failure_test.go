package e2e

import (
	"context"
	"strings"
	"testing"
	"time"
)

const masterFailed = "The MASTER server is detected to have failed. Check and perform a manual recovery."

// TestMasterFailure has the master pod restart after losing its replication
// state (XSN = -1 on the master) while a slave still has its own: the
// master's start reports the original's exact words with exit code 11 and
// leaves the pod unstarted but its server up (spec §8), in both variants (a
// failing postStart hook would have the container killed). The documented
// manual recovery then brings the slave's data back to the master, and
// start succeeds.
func TestMasterFailure(t *testing.T) {
	for _, variant := range []string{"statefulset-entrypoint", "statefulset-hooks"} {
		t.Run(variant, func(t *testing.T) { testMasterFailure(t, variant) })
	}
}

func testMasterFailure(t *testing.T, variant string) {
	c := newCluster(t, testOptions(variant))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	mustScale(t, ctx, c, 2)
	insertRows(t, ctx, c, 0, "T1", 1, 10)
	insertRows(t, ctx, c, 1, "T1", 11, 20)
	waitKeys(t, ctx, c, "T1", span(1, 20))

	// The master loses its restart point towards the slave, and its
	// container dies.
	master, err := c.Connect(ctx, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{"ALTER REPLICATION AKU_REP_01 STOP", "ALTER REPLICATION AKU_REP_01 RESET"} {
		if err := master.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	master.Close()
	if err := c.KillContainer(0); err != nil {
		t.Fatal(err)
	}
	if err := c.RestartContainer(ctx, 0); err != nil {
		t.Fatal(err)
	}
	waitLog(t, ctx, c, 0, "entrypoint: aku -p start exited with", 30*time.Second)
	log := c.Pod(0).Logs()
	checkLog(t, "master start", log, "AKU started with START option.", "Start as MASTER Pod.", masterFailed, "AKU failed to run.")
	checkExits(t, "master start", log, "start=11")
	if markerExists(t, ctx, c, 0) {
		t.Fatal("the failed master start wrote the marker: the startup probe would pass")
	}
	// The slave keeps its data and its state.
	if got, err := keys(ctx, c, 1, "T1"); err != nil || len(got) != 20 {
		t.Fatalf("slave rows after the master failure: %v, %v", got, err)
	}
	checkReplications(t, ctx, c, 1, meshState(1, 4, map[int]bool{0: true, 1: true}))

	// The manual recovery of spec §8, with pod 1 as the source of truth
	// (the only slave, so no other slave needs aku -p end).
	master, err = c.Connect(ctx, 0, true) // ADMIN_MODE is still 1: SYSDBA only
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		"ALTER SYSTEM SET REPLICATION_DDL_ENABLE = 1",
		"TRUNCATE TABLE T1",
		"TRUNCATE TABLE T2",
		"ALTER SYSTEM SET REPLICATION_DDL_ENABLE = 0",
	} {
		if err := master.Exec(ctx, stmt); err != nil {
			t.Fatalf("recovery on the master: %v", err)
		}
	}
	slave, err := c.Connect(ctx, 1, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		"ALTER REPLICATION AKU_REP_01 STOP",
		"ALTER REPLICATION AKU_REP_01 RESET",
		"ALTER REPLICATION AKU_REP_01 SYNC",
	} {
		if err := slave.Exec(ctx, stmt); err != nil {
			t.Fatalf("recovery on the slave: %v", err)
		}
	}
	slave.Close()
	if err := master.Exec(ctx, "ALTER REPLICATION AKU_REP_01 START"); err != nil {
		t.Fatalf("recovery on the master: %v", err)
	}
	master.Close()

	// aku -p start on the master again (kubectl exec), then the probe passes.
	r, err := c.Exec(ctx, 0, time.Minute, "aku", "-p", "start")
	if err != nil {
		t.Fatal(err)
	}
	if r.ExitCode != 0 {
		t.Fatalf("aku -p start after the recovery: %s", r)
	}
	checkLog(t, "master start after recovery", r.Output, "AKU started with START option.", "Start as MASTER Pod.", "AKU run successfully.")
	checkNoLog(t, "master start after recovery", r.Output, masterFailed)
	if err := c.WaitStarted(ctx, 0); err != nil {
		t.Fatal(err)
	}
	waitKeys(t, ctx, c, "T1", span(1, 20))
	checkMesh(t, ctx, c)
	insertRows(t, ctx, c, 0, "T1", 21, 30)
	insertRows(t, ctx, c, 1, "T1", 31, 40)
	waitKeys(t, ctx, c, "T1", span(1, 40))
}

// TestMasterVolumeLost restarts the master pod on an empty volume while a
// slave runs: its start must not open the master (it would replicate an
// empty database) and reports the master failure (spec §8, §11: aku cannot
// repair a master whose storage is gone).
func TestMasterVolumeLost(t *testing.T) {
	c := newCluster(t, testOptions("statefulset-entrypoint"))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	mustScale(t, ctx, c, 2)
	insertRows(t, ctx, c, 0, "T1", 1, 10)
	waitKeys(t, ctx, c, "T1", span(1, 10))
	if err := c.KillContainer(0); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteVolume(0); err != nil {
		t.Fatal(err)
	}
	if err := c.RestartContainer(ctx, 0); err != nil {
		t.Fatal(err)
	}
	waitLog(t, ctx, c, 0, "entrypoint: aku -p start exited with", 30*time.Second)
	log := c.Pod(0).Logs()
	checkLog(t, "master start", log, "entrypoint: creating the database", "Start as MASTER Pod.", masterFailed, "AKU failed to run.")
	checkExits(t, "master start", log, "start=11")
	if markerExists(t, ctx, c, 0) {
		t.Fatal("the failed master start wrote the marker")
	}
	if got, err := keys(ctx, c, 1, "T1"); err != nil || len(got) != 10 {
		t.Fatalf("slave rows after the master failure: %v, %v", got, err)
	}
	checkReplications(t, ctx, c, 1, meshState(1, 4, map[int]bool{0: true, 1: true}))
}

// TestLateDNSRecord starts a pod whose DNS record is published only after
// a while: aku retries its own name (AKU_ADDRESS_CHECK_COUNT, one try a
// second) and starts once the name resolves; with too few tries it gives up
// with exit code 7, in bounded time.
func TestLateDNSRecord(t *testing.T) {
	t.Run("published in time", func(t *testing.T) {
		c := newCluster(t, testOptions("statefulset-entrypoint"))
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		mustScale(t, ctx, c, 1)
		insertRows(t, ctx, c, 0, "T1", 1, 10)
		c.HoldDNS(1)
		start := time.Now()
		if _, err := c.CreatePod(ctx, 1); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2500 * time.Millisecond)
		if strings.Contains(c.Pod(1).Logs(), "exited with") {
			t.Fatalf("aku -p start ended before the pod's name resolved:\n%s", c.Pod(1).Logs())
		}
		if err := c.PublishDNS(ctx, 1); err != nil {
			t.Fatal(err)
		}
		if err := c.WaitStarted(ctx, 1); err != nil {
			t.Fatal(err)
		}
		t.Logf("pod 1 started %v after its creation", time.Since(start).Round(time.Millisecond))
		checkExits(t, "start of pod 1", c.Pod(1).Logs(), "start=0")
		waitKeys(t, ctx, c, "T1", span(1, 10))
		checkMesh(t, ctx, c)
	})
	t.Run("never published", func(t *testing.T) {
		o := testOptions("statefulset-entrypoint")
		o.Conf["AKU_ADDRESS_CHECK_COUNT"] = "3"
		c := newCluster(t, o)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		mustScale(t, ctx, c, 1)
		c.HoldDNS(1)
		start := time.Now()
		if _, err := c.CreatePod(ctx, 1); err != nil {
			t.Fatal(err)
		}
		waitLog(t, ctx, c, 1, "entrypoint: aku -p start exited with", 30*time.Second)
		took := time.Since(start)
		log := c.Pod(1).Logs()
		checkExits(t, "start of pod 1", log, "start=7")
		checkHas(t, "start of pod 1", log, "AKU failed to run.", c.Host(1))
		// Three tries a second apart: about 2 s, well below 3 + connect timeouts.
		if took < 2*time.Second || took > 15*time.Second {
			t.Errorf("start gave up after %v, want about AKU_ADDRESS_CHECK_COUNT = 3 tries a second apart", took)
		}
		checkReplications(t, ctx, c, 0, meshState(0, 4, map[int]bool{0: true}))
	})
}
