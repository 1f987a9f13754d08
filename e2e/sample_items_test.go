package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// sampleSchema is the schema of the manual's sample items (SYS.T1,
// SYS.T2 PARTITION P1, SYS.T3): T2 is range partitioned, P1 holding the
// keys below 1000, P2 the others.
const sampleSchema = `CREATE TABLE T1 (I1 INTEGER PRIMARY KEY, I2 INTEGER);
CREATE TABLE T2 (I1 INTEGER PRIMARY KEY, I2 INTEGER)
    PARTITION BY RANGE (I1) (PARTITION P1 VALUES LESS THAN (1000), PARTITION P2 VALUES DEFAULT);
CREATE TABLE T3 (I1 INTEGER PRIMARY KEY, I2 INTEGER);
`

// sampleKeys is what every live pod must hold: shared keys in T1, T3 and
// T2's partition P1 (below 1000), and each pod's own keys of T2's
// partition P2, which are not replicated.
type sampleKeys struct {
	shared []int
	local  map[int][]int
}

// writeShared inserts keys from..to (below 1000) into T1, T2 and T3 on the
// pod; they reach every pod.
func (w *sampleKeys) writeShared(t *testing.T, ctx context.Context, c *Cluster, ordinal, from, to int) {
	t.Helper()
	for _, table := range []string{"T1", "T2", "T3"} {
		insertRows(t, ctx, c, ordinal, table, from, to)
	}
	w.shared = union(w.shared, span(from, to))
}

// writeLocal inserts keys from..to (1000 and above: partition P2) into T2
// on the pod; they stay there.
func (w *sampleKeys) writeLocal(t *testing.T, ctx context.Context, c *Cluster, ordinal, from, to int) {
	t.Helper()
	insertRows(t, ctx, c, ordinal, "T2", from, to)
	w.local[ordinal] = union(w.local[ordinal], span(from, to))
}

// wait waits until every live pod holds exactly its keys.
func (w *sampleKeys) wait(t *testing.T, ctx context.Context, c *Cluster) {
	t.Helper()
	var bad []string
	err := waitFor(ctx, 15*time.Second, func() (bool, error) {
		bad = nil
		for i := 0; i < 6; i++ {
			if c.Pod(i) == nil {
				continue
			}
			want := map[string][]int{"T1": w.shared, "T2": union(w.shared, w.local[i]), "T3": w.shared}
			for _, table := range []string{"T1", "T2", "T3"} {
				got, err := c.Keys(ctx, i, table)
				if err != nil {
					bad = append(bad, fmt.Sprintf("pod %d: %v", i, err))
				} else if !reflect.DeepEqual(got, want[table]) {
					bad = append(bad, fmt.Sprintf("pod %d: %s holds %v, want %v", i, table, got, want[table]))
				}
			}
		}
		return len(bad) == 0, nil
	})
	if err != nil {
		t.Fatalf("the pods do not hold the sample's rows (%v):\n%s", err, strings.Join(bad, "\n"))
	}
}

// truncations are the TRUNCATE statements that succeeded on the pod's
// server since it started, sorted.
func truncations(t *testing.T, ctx context.Context, c *Cluster, ordinal int) []string {
	t.Helper()
	out, err := c.Fault(ctx, ordinal, "log")
	if err != nil {
		t.Fatalf("pod %d: %v", ordinal, err)
	}
	var entries []struct {
		SQL string `json:"sql"`
		Err string `json:"err"`
	}
	if err := json.Unmarshal([]byte(out), &entries); err != nil {
		t.Fatalf("reading the statement log of pod %d: %v", ordinal, err)
	}
	var got []string
	for _, e := range entries {
		if strings.Contains(e.SQL, "TRUNCATE") && e.Err == "" {
			got = append(got, e.SQL)
		}
	}
	sort.Strings(got)
	return got
}

// sampleTruncations are a fresh slave's TRUNCATEs of the sample's items.
var sampleTruncations = []string{"ALTER TABLE SYS.T2 TRUNCATE PARTITION P1", "TRUNCATE TABLE SYS.T1", "TRUNCATE TABLE SYS.T3"}

// TestSampleItems runs a StatefulSet configured with the manual's own
// aku.conf.sample (items SYS.T1, SYS.T2 PARTITION P1, SYS.T3) on tables
// with T2 partitioned: new slaves truncate T1, T3 and only the partition
// P1 of T2 before the master's SYNC; a killed slave rejoins; a slave that
// ended comes back as a new slave on its volume and keeps its own rows of
// T2's other partition; rows of T1, T3 and P1 reach every pod, rows of P2
// stay on the pod that took them.
func TestSampleItems(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	sample, err := os.ReadFile(filepath.Join(root, "examples", "aku.conf.sample"))
	if err != nil {
		t.Fatal(err)
	}
	o := testOptions("statefulset-entrypoint")
	o.ConfigMap = map[string]string{"aku.conf": string(sample), "schema.sql": sampleSchema}
	// As the example ConfigMap: statements end within the grace period.
	o.Conf["AKU_QUERY_TIMEOUT"] = "60"
	c := newCluster(t, o)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	w := &sampleKeys{local: map[int][]int{}}

	mustScale(t, ctx, c, 1)
	w.writeShared(t, ctx, c, 0, 1, 5)
	w.writeLocal(t, ctx, c, 0, 1001, 1003)
	mustScale(t, ctx, c, 3)
	for i := 1; i < 3; i++ {
		what := fmt.Sprintf("start of pod %d", i)
		checkHas(t, what, c.Pod(i).Logs(), "Start as SLAVE Pod.", "Truncate tables for replications.", "Sync tables from MASTER Server.", "AKU run successfully.")
		checkExits(t, what, startedLog(t, ctx, c, i), "start=0")
		if got := truncations(t, ctx, c, i); !reflect.DeepEqual(got, sampleTruncations) {
			t.Errorf("%s truncated %q, want %q", what, got, sampleTruncations)
		}
	}
	for i := 0; i < 3; i++ {
		w.writeShared(t, ctx, c, i, 100+10*i, 102+10*i)
		w.writeLocal(t, ctx, c, i, 2000+100*i, 2002+100*i)
	}
	w.wait(t, ctx, c)
	checkMesh(t, ctx, c)

	// Pod 2 is killed and restarted: it rejoins without a TRUNCATE.
	if err := c.KillContainer(2); err != nil {
		t.Fatal(err)
	}
	w.writeShared(t, ctx, c, 0, 200, 202)
	w.writeLocal(t, ctx, c, 0, 2010, 2011)
	w.writeShared(t, ctx, c, 1, 210, 212)
	if err := c.RestartContainer(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitStarted(ctx, 2); err != nil {
		t.Fatal(err)
	}
	checkHas(t, "rejoin of pod 2", c.Pod(2).Logs(), "Flush replications.", "AKU run successfully.")
	checkNoLog(t, "rejoin of pod 2", c.Pod(2).Logs(), "Truncate tables for replications.")
	if got := truncations(t, ctx, c, 2); len(got) != 0 {
		t.Errorf("the rejoining pod 2 truncated %q", got)
	}
	w.wait(t, ctx, c)

	// Scale down: pod 2 ends and resets its replications. Writes go on
	// meanwhile; scaled up again, pod 2 starts as a new slave on its
	// volume: its P2 rows stay, the rest comes from the master.
	term, err := c.DeletePod(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	checkHas(t, "end of pod 2", term.Log, "Flush replications.", "Reset replications.", "AKU run successfully.")
	w.writeShared(t, ctx, c, 0, 300, 302)
	w.writeShared(t, ctx, c, 1, 310, 312)
	w.writeLocal(t, ctx, c, 1, 2110, 2111)
	w.wait(t, ctx, c)
	mustScale(t, ctx, c, 3)
	checkHas(t, "start of pod 2 after its end", c.Pod(2).Logs(), "Truncate tables for replications.", "Sync tables from MASTER Server.", "AKU run successfully.")
	if got := truncations(t, ctx, c, 2); !reflect.DeepEqual(got, sampleTruncations) {
		t.Errorf("pod 2 truncated %q after its end, want %q", got, sampleTruncations)
	}
	w.writeShared(t, ctx, c, 2, 400, 402)
	w.writeLocal(t, ctx, c, 2, 2210, 2211)
	w.wait(t, ctx, c)
	checkMesh(t, ctx, c)

	// Scale down to the master alone: every row it had stays.
	mustScale(t, ctx, c, 1)
	w.wait(t, ctx, c)
	checkMesh(t, ctx, c)
}
