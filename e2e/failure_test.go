package e2e

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"
)

const masterFailed = "The MASTER server is detected to have failed. Check and perform a manual recovery."

// TestMasterFailure has the master pod restart after losing its replication
// state (XSN = -1 on the master) while a slave still has its own: the
// master's start reports the original's exact words with exit code 11 and
// leaves the pod unstarted but its server up (docs/behaviour.md, "Master
// failure"), in the three variants (a failing postStart hook would have the
// container killed). The documented manual recovery then brings the slave's
// data back to the master, and start succeeds.
func TestMasterFailure(t *testing.T) {
	for _, variant := range []string{"statefulset-entrypoint", "statefulset-hooks", "statefulset-run"} {
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
	sysdbaExec(t, ctx, c, 0, "ALTER REPLICATION AKU_REP_01 STOP", "ALTER REPLICATION AKU_REP_01 RESET")
	if err := c.KillContainer(0); err != nil {
		t.Fatal(err)
	}
	if err := c.RestartContainer(ctx, 0); err != nil {
		t.Fatal(err)
	}
	waitLog(t, ctx, c, 0, "AKU started with START option.", 30*time.Second)
	log := startedLog(t, ctx, c, 0)
	checkLog(t, "master start", log, "AKU started with START option.", "Start as MASTER Pod.", masterFailed, "AKU failed to run.")
	checkExits(t, "master start", log, "start=11")
	if markerExists(t, ctx, c, 0) {
		t.Fatal("the failed master start wrote the marker: the readiness probe would pass")
	}
	// The master started nothing; the slave keeps its data and its state.
	checkReplicationsAs(t, ctx, c, 0, true, meshState(0, 4, map[int]bool{0: true}))
	checkSlaveKept(t, ctx, c, span(1, 20))

	recoverMaster(t, ctx, c, 1)
	out := execStart(t, ctx, c, 0)
	checkLog(t, "master start after recovery", out, "AKU started with START option.", "Start as MASTER Pod.", "AKU run successfully.")
	checkNoLog(t, "master start after recovery", out, masterFailed)
	checkRecovered(t, ctx, c, span(1, 20))
}

// TestMasterVolumeLost restarts the master pod on an empty volume while a
// slave runs: its start must not open the master (it would replicate an empty
// database), creates the master's missing replication objects without
// starting them, and reports the master failure (docs/behaviour.md, "Master
// failure"; aku cannot repair a master whose storage is gone:
// "Requirements"). The documented manual recovery then copies the slave's
// rows to the master through those objects, and start succeeds: a running
// pair again, as podlife's TestMasterFailure does in-process.
func TestMasterVolumeLost(t *testing.T) {
	c := newCluster(t, testOptions("statefulset-entrypoint"))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	mustScale(t, ctx, c, 2)
	insertRows(t, ctx, c, 0, "T1", 1, 10)
	insertRows(t, ctx, c, 1, "T1", 11, 20)
	insertRows(t, ctx, c, 1, "T2", 1, 5)
	waitKeys(t, ctx, c, "T1", span(1, 20))
	waitKeys(t, ctx, c, "T2", span(1, 5))
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
	checkLog(t, "master start", log, "entrypoint: creating the database", "entrypoint: creating the schema",
		"Start as MASTER Pod.", masterFailed, "AKU failed to run.")
	checkExits(t, "master start", log, "start=11")
	if markerExists(t, ctx, c, 0) {
		t.Fatal("the failed master start wrote the marker")
	}
	// The master's objects exist again, none started, no restart point: the
	// recovery's SYNC has a target. Its tables are the new, empty schema's.
	checkReplicationsAs(t, ctx, c, 0, true, meshState(0, 4, map[int]bool{0: true}))
	for _, table := range []string{"T1", "T2"} {
		rows, err := c.Query(ctx, 0, true, "SELECT I1 FROM "+table)
		if err != nil || len(rows) != 0 {
			t.Fatalf("%s on the master after its volume was lost: %v, %v; want no rows", table, rows, err)
		}
	}
	checkSlaveKept(t, ctx, c, span(1, 20))

	recoverMaster(t, ctx, c, 1)
	out := execStart(t, ctx, c, 0)
	checkLog(t, "master start after recovery", out, "AKU started with START option.", "Start as MASTER Pod.", "AKU run successfully.")
	checkNoLog(t, "master start after recovery", out, masterFailed)
	waitKeys(t, ctx, c, "T2", span(1, 5))
	checkRecovered(t, ctx, c, span(1, 20))
}

// checkSlaveKept checks that after a master failure pod 1 still holds
// exactly want in T1 and its started replication with a restart point
// towards the master.
func checkSlaveKept(t *testing.T, ctx context.Context, c *Cluster, want []int) {
	t.Helper()
	if got, err := c.Keys(ctx, 1, "T1"); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("T1 on the slave after the master failure: %v, %v; want %v", got, err, want)
	}
	checkReplications(t, ctx, c, 1, meshState(1, 4, map[int]bool{0: true, 1: true}))
}

// checkRecovered checks a recovered pair (pods 0 and 1): both hold want in
// T1, replicate to each other (started, restart points on both sides), and
// carry new writes from either side.
func checkRecovered(t *testing.T, ctx context.Context, c *Cluster, want []int) {
	t.Helper()
	waitKeys(t, ctx, c, "T1", want)
	checkMesh(t, ctx, c)
	next := want[len(want)-1] + 1
	insertRows(t, ctx, c, 0, "T1", next, next+9)
	insertRows(t, ctx, c, 1, "T1", next+10, next+19)
	waitKeys(t, ctx, c, "T1", union(want, span(next, next+19)))
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
		checkExits(t, "start of pod 1", startedLog(t, ctx, c, 1), "start=0")
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
