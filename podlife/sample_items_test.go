package podlife

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aku-project/aku/altisim"
	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/replication"
)

// The manual's sample items (examples/aku.conf.sample): SYS.T1,
// SYS.T2 PARTITION P1, SYS.T3, through every path of the lifecycle, with
// T2 partitioned as the sample needs: P1 holds the keys below 1000, P2 the
// others. Rows of T1, T3 and P1 replicate; rows of P2 stay on the pod that
// took them, also through a fresh slave's TRUNCATE and SYNC.

var sampleTables = []string{"T1", "T2", "T3"}

const sampleT2 = "CREATE TABLE SYS.T2 (I1 INTEGER PRIMARY KEY, V VARCHAR(20)) PARTITION BY RANGE (I1) " +
	"(PARTITION P1 VALUES LESS THAN (1000), PARTITION P2 VALUES DEFAULT)"

// sampleConfig is flowConfig with the replication groups of the sample file.
func sampleConfig(t *testing.T, n int) *conf.Config {
	t.Helper()
	sample, _, err := conf.Load(filepath.Join("..", "examples", "aku.conf.sample"), conf.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(sample.Groups[0].Items); got != "[SYS.T1 SYS.T2 PARTITION P1 SYS.T3]" {
		t.Fatalf("the sample's items are %s, not the manual's", got)
	}
	cfg := flowConfig(n)
	cfg.Groups = sample.Groups
	return cfg
}

// bootSample boots pod q as boot does; a new data directory gets the
// sample's tables: boot's T2 is replaced by a partitioned one, and T3 is
// added.
func bootSample(t *testing.T, tc *testCluster, q int) {
	t.Helper()
	tc.boot(t, q)
	if _, err := tc.sql(t, q, "SELECT COUNT(*) FROM SYS.T3"); err == nil {
		return
	}
	tc.mustSQL(t, q, "DROP TABLE SYS.T2")
	tc.mustSQL(t, q, sampleT2)
	tc.mustSQL(t, q, "CREATE TABLE SYS.T3 (I1 INTEGER PRIMARY KEY, V VARCHAR(20))")
}

// replicated reports whether a row of the sample's tables is replicated:
// every row of T1 and T3, and the rows of T2's partition P1.
func replicated(table string, key int) bool { return table != "T2" || key < 1000 }

// sampleData is what each pod must hold, as rows "T2:1005:p1" (table, key,
// the pod that took the write).
type sampleData struct {
	rows    map[int]map[string]bool
	members map[int]bool // pods replicating with each other
}

func newSampleData() *sampleData {
	return &sampleData{rows: map[int]map[string]bool{}, members: map[int]bool{}}
}

// write inserts the keys from..to-1 into T1, T2 and T3 on pod q: the
// replicated rows reach every member when q is one, the others stay on q.
func (d *sampleData) write(t *testing.T, tc *testCluster, q, from, to int) {
	t.Helper()
	for k := from; k < to; k++ {
		for _, tbl := range sampleTables {
			tc.mustSQL(t, q, fmt.Sprintf("INSERT INTO SYS.%s VALUES (%d, 'p%d')", tbl, k, q))
			row := fmt.Sprintf("%s:%d:p%d", tbl, k, q)
			holders := []int{q}
			if d.members[q] && replicated(tbl, k) {
				holders = nil
				for m := range d.members {
					holders = append(holders, m)
				}
			}
			for _, h := range holders {
				if d.rows[h] == nil {
					d.rows[h] = map[string]bool{}
				}
				d.rows[h][row] = true
			}
		}
	}
}

// join records pod q's fresh start: its replicated rows are now the
// MASTER's (TRUNCATE, then SYNC), its other rows stay.
func (d *sampleData) join(q int) {
	mine := map[string]bool{}
	for row := range d.rows[q] {
		if !isReplicatedRow(row) {
			mine[row] = true
		}
	}
	if q != 0 {
		for row := range d.rows[0] {
			if isReplicatedRow(row) {
				mine[row] = true
			}
		}
	}
	d.rows[q] = mine
	d.members[q] = true
}

// leave records that pod q no longer replicates (clean).
func (d *sampleData) leave(q int) { delete(d.members, q) }

func isReplicatedRow(row string) bool {
	var tbl string
	var key int
	fmt.Sscanf(strings.Replace(row, ":", " ", 2), "%s %d", &tbl, &key)
	return replicated(tbl, key)
}

func (d *sampleData) want(q int) []string {
	var out []string
	for row := range d.rows[q] {
		out = append(out, row)
	}
	sort.Strings(out)
	return out
}

// sampleRows is the content of the sample's tables on pod q.
func sampleRows(t *testing.T, tc *testCluster, q int) []string {
	t.Helper()
	var out []string
	for _, tbl := range sampleTables {
		for _, row := range tc.mustSQL(t, q, "SELECT I1, V FROM SYS."+tbl).Rows {
			out = append(out, fmt.Sprintf("%s:%v:%v", tbl, row[0], row[1]))
		}
	}
	sort.Strings(out)
	return out
}

// waitSample waits until every pod in pods holds exactly what d says.
func waitSample(t *testing.T, tc *testCluster, d *sampleData, pods ...int) {
	t.Helper()
	for _, q := range pods {
		want := d.want(q)
		deadline := time.Now().Add(5 * time.Second)
		for {
			got := sampleRows(t, tc, q)
			if reflect.DeepEqual(got, want) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("pod %d rows:\n%v\nwant:\n%v\nlogs:\n%s", q, got, want, tc.logs.String())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// truncations are the TRUNCATE statements that succeeded on pod q's
// server since its statement log had from entries, sorted.
func truncations(tc *testCluster, q, from int) []string {
	var out []string
	for _, e := range tc.c.Server(tc.host(q)).StatementLog()[from:] {
		if strings.Contains(e.SQL, "TRUNCATE") && e.Err == "" {
			out = append(out, e.SQL)
		}
	}
	sort.Strings(out)
	return out
}

func logLen(tc *testCluster, q int) int { return len(tc.c.Server(tc.host(q)).StatementLog()) }

func mustPath(t *testing.T, what string, p *Plan, want Path) {
	t.Helper()
	if p.Path != want {
		t.Fatalf("%s: path %q, want %q", what, p.Path, want)
	}
}

// startSampleMaster boots the MASTER pod, writes rows into T1, T3 and both
// partitions of T2, and starts it; it returns what the pods must hold.
func startSampleMaster(t *testing.T, tc *testCluster) *sampleData {
	t.Helper()
	d := newSampleData()
	bootSample(t, tc, 0)
	d.members[0] = true
	d.write(t, tc, 0, 0, 5)
	d.write(t, tc, 0, 1000, 1003)
	mustPath(t, "master start", tc.mustRun(t, 0, ActionStart), PathMaster)
	return d
}

// sampleTruncations are a fresh slave's TRUNCATEs of the sample's items:
// T2 loses its partition P1 only.
var sampleTruncations = []string{"ALTER TABLE SYS.T2 TRUNCATE PARTITION P1", "TRUNCATE TABLE SYS.T1", "TRUNCATE TABLE SYS.T3"}

// TestSampleItemsLifecycle runs the sample's items through master start,
// fresh slave start, rejoin, end and clean, on the master and on slaves,
// with rows written into T1, T3 and both partitions of T2 on every pod,
// and compares every pod's rows exactly after each step.
func TestSampleItemsLifecycle(t *testing.T) {
	tc := newTestCluster(t, sampleConfig(t, 3))
	d := startSampleMaster(t, tc)
	waitSample(t, tc, d, 0)

	// Fresh slaves. Each holds rows of its own before its first start (a
	// restored backup, a reused volume): the TRUNCATE empties T1, T3 and
	// P1, not P2, and the SYNC brings the MASTER's rows of T1, T3 and P1.
	for q := 1; q < 3; q++ {
		bootSample(t, tc, q)
		d.write(t, tc, q, 0, 2)
		d.write(t, tc, q, 1100*q, 1100*q+2)
		d.write(t, tc, 0, 10*q, 10*q+2) // the MASTER keeps taking writes
		from := logLen(tc, q)
		mustPath(t, fmt.Sprintf("start of pod %d", q), tc.mustRun(t, q, ActionStart), PathFreshSlave)
		if got := truncations(tc, q, from); !reflect.DeepEqual(got, sampleTruncations) {
			t.Errorf("pod %d truncated %q, want %q", q, got, sampleTruncations)
		}
		d.join(q)
		waitSample(t, tc, d, pods(q+1)...)
	}
	for q := 0; q < 3; q++ {
		tc.checkStarted(t, q, 0, 1, 2)
		d.write(t, tc, q, 100+10*q, 100+10*q+3)
		d.write(t, tc, q, 2000+10*q, 2000+10*q+3)
	}
	waitSample(t, tc, d, 0, 1, 2)

	// Rejoin: pod 2 crashes, the others take writes, pod 2 restarts
	// without a reset and catches up by START and FLUSH.
	d.write(t, tc, 2, 200, 202)
	tc.c.Crash(tc.host(2))
	d.write(t, tc, 0, 210, 212)
	d.write(t, tc, 1, 2100, 2102)
	d.write(t, tc, 1, 220, 222)
	bootSample(t, tc, 2)
	from := logLen(tc, 2)
	mustPath(t, "restart of pod 2", tc.mustRun(t, 2, ActionStart), PathRejoinSlave)
	if got := truncations(tc, 2, from); len(got) != 0 {
		t.Errorf("the rejoining pod 2 truncated %q", got)
	}
	waitSample(t, tc, d, 0, 1, 2)

	// A slave's end resets its replications; it comes back as a fresh
	// slave, keeps its P2 rows, and gets the rest from the MASTER.
	mustPath(t, "end of pod 2", tc.mustRun(t, 2, ActionEnd), PathEnd)
	tc.c.Stop(tc.host(2))
	d.leave(2)
	d.write(t, tc, 0, 300, 302)
	d.write(t, tc, 1, 310, 312)
	d.write(t, tc, 1, 3100, 3102)
	bootSample(t, tc, 2)
	from = logLen(tc, 2)
	mustPath(t, "start of pod 2 after its end", tc.mustRun(t, 2, ActionStart), PathFreshSlave)
	if got := truncations(tc, 2, from); !reflect.DeepEqual(got, sampleTruncations) {
		t.Errorf("pod 2 truncated %q, want %q", got, sampleTruncations)
	}
	d.join(2)
	waitSample(t, tc, d, 0, 1, 2)

	// The MASTER's end keeps its restart points; writes on a slave
	// meanwhile reach it when it starts again.
	mustPath(t, "end of pod 0", tc.mustRun(t, 0, ActionEnd), PathEnd)
	d.write(t, tc, 1, 400, 402)
	d.write(t, tc, 2, 4200, 4202)
	mustPath(t, "start of pod 0 after its end", tc.mustRun(t, 0, ActionStart), PathMaster)
	d.write(t, tc, 0, 410, 412)
	waitSample(t, tc, d, 0, 1, 2)

	// clean on a slave, then on the MASTER: their rows stay, and writes
	// no longer travel to or from them.
	mustPath(t, "clean of pod 2", tc.mustRun(t, 2, ActionClean), PathClean)
	d.leave(2)
	d.write(t, tc, 0, 500, 502)
	d.write(t, tc, 2, 520, 522)
	waitSample(t, tc, d, 0, 1, 2)
	mustPath(t, "clean of pod 0", tc.mustRun(t, 0, ActionClean), PathClean)
	d.leave(0)
	d.write(t, tc, 0, 600, 602)
	d.write(t, tc, 1, 610, 612)
	// Nothing is on its way: a row that had been sent would be there by now.
	time.Sleep(50 * time.Millisecond)
	waitSample(t, tc, d, 0, 1, 2)
	for _, q := range []int{0, 2} {
		if objs := tc.state(t, q).Objects; len(objs) != 0 {
			t.Errorf("pod %d still has objects after clean: %v", q, objs)
		}
	}
}

// TestSampleItemsTruncateFailsHalfWay: a fresh slave's start fails at the
// TRUNCATE PARTITION, after T1's TRUNCATE succeeded. Running it again
// finishes the start, and every pod ends with every row right: the
// slave's stale rows of T1, T3 and P1 are gone, its P2 rows are kept.
func TestSampleItemsTruncateFailsHalfWay(t *testing.T) {
	tc := newTestCluster(t, sampleConfig(t, 2))
	d := startSampleMaster(t, tc)

	bootSample(t, tc, 1)
	d.write(t, tc, 1, 3, 8)
	d.write(t, tc, 1, 1500, 1503)
	srv := tc.c.Server(tc.host(1))
	if err := srv.Faults().Add(altisim.Fault{Pattern: `^ALTER TABLE SYS\.T2 TRUNCATE PARTITION P1$`, Action: altisim.FaultFail, Nth: 1, Code: 0x31001, Message: "injected"}); err != nil {
		t.Fatal(err)
	}
	from := logLen(tc, 1)
	if _, err := tc.run(t, 1, ActionStart); !errors.Is(err, replication.ErrStatement) {
		t.Fatalf("start with the TRUNCATE PARTITION failing: %v, want ErrStatement", err)
	}
	var order []string
	for _, e := range srv.StatementLog()[from:] {
		if strings.Contains(e.SQL, "TRUNCATE") {
			order = append(order, fmt.Sprintf("%s (code %05X)", e.SQL, e.Code))
		}
	}
	if len(order) < 2 || order[0] != "TRUNCATE TABLE SYS.T1 (code 00000)" || order[1] != "ALTER TABLE SYS.T2 TRUNCATE PARTITION P1 (code 31001)" {
		t.Fatalf("TRUNCATEs of the failed start: %q, want T1's to succeed, then T2's partition to fail", order)
	}
	// Half way: T1 is empty, P1 still holds the stale rows, and
	// REPLICATION_DDL_ENABLE is restored.
	if n := tc.mustSQL(t, 1, "SELECT COUNT(*) FROM SYS.T1").Rows[0][0]; n != int64(0) {
		t.Errorf("pod 1: %v rows in T1 after its TRUNCATE", n)
	}
	if n := tc.mustSQL(t, 1, "SELECT COUNT(*) FROM SYS.T2 WHERE I1 < 1000").Rows[0][0]; n != int64(5) {
		t.Errorf("pod 1: %v rows in P1 after its failed TRUNCATE, want the 5 stale ones", n)
	}
	if v := tc.prop(t, 1, "REPLICATION_DDL_ENABLE"); v != 0 {
		t.Errorf("REPLICATION_DDL_ENABLE = %d after the failed start, want 0", v)
	}

	mustPath(t, "the start run again", tc.mustRun(t, 1, ActionStart), PathFreshSlave)
	d.join(1)
	waitSample(t, tc, d, 0, 1)
	tc.checkStarted(t, 1, 0, 1)
	d.write(t, tc, 0, 20, 23)
	d.write(t, tc, 0, 2000, 2002)
	d.write(t, tc, 1, 30, 33)
	d.write(t, tc, 1, 3000, 3002)
	waitSample(t, tc, d, 0, 1)
}
