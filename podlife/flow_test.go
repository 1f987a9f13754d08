package podlife

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aku-project/aku/altisim"
	"github.com/aku-project/aku/altisim/driver"
	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/replication"
)

// The flow tests run the lifecycle against in-process altisim servers, one
// per pod, through database/sql and the "altisim" driver: everything above
// database/sql is the production code.

var clusterSeq atomic.Int64

// flowConfig is a configuration of n servers replicating the whole tables
// SYS.T1 and SYS.T2 (sample_items_test.go runs the manual's partition
// item), with fast retries.
func flowConfig(n int) *conf.Config {
	cfg := testConfig(n, 1)
	cfg.Groups[0].Items = []conf.Item{{User: "SYS", Table: "T1"}, {User: "SYS", Table: "T2"}}
	cfg.QueryTimeout = 5 * time.Second
	cfg.QueryRetryCount = 3
	cfg.QueryRetryDelay = 10 * time.Millisecond
	cfg.AddressCheckCount = 3
	cfg.FlushTimeoutAtStart = 5 * time.Second
	return cfg
}

// testCluster is a StatefulSet of simulated pods: a server per pod with
// its data directory (its PVC) and its marker directory (its /tmp).
type testCluster struct {
	t       *testing.T
	cfg     *conf.Config
	c       *altisim.Cluster
	data    []string
	tmp     []string
	latency time.Duration
	clock   *fakeClock
	logs    bytes.Buffer
}

func newTestCluster(t testing.TB, cfg *conf.Config) *testCluster {
	tt, _ := t.(*testing.T)
	name := fmt.Sprintf("podlife-%d", clusterSeq.Add(1))
	tc := &testCluster{t: tt, cfg: cfg, c: altisim.NewCluster(name, altisim.ClusterOptions{}), clock: &fakeClock{now: time.Unix(1700000000, 0)}}
	t.Cleanup(func() { tc.c.Close() })
	for q := 0; q < cfg.ServerCount; q++ {
		tc.data = append(tc.data, t.TempDir())
		tc.tmp = append(tc.tmp, t.TempDir())
	}
	return tc
}

func (tc *testCluster) host(q int) string { return PeerHost(tc.cfg, q) }

// boot starts pod q's server on its data directory, as the container's
// entry point does, with ADMIN_MODE = 1 (docs/behaviour.md,
// "Requirements"), and creates the replicated tables when the data
// directory is new.
//
// A container restart also empties /tmp, where the marker and the saved
// REPLICATION_DDL_ENABLE live: each boot gets a new one. (The saved value
// may go with it: ALTER SYSTEM changes do not outlive the server process,
// so a restarted server is back at its configured value anyway.)
func (tc *testCluster) boot(t testing.TB, q int) *altisim.Server {
	t.Helper()
	tc.tmp[q] = t.TempDir()
	srv, err := tc.c.AddServer(tc.host(q), altisim.Options{
		DataDir:          tc.data[q],
		ReplicationPort:  tc.cfg.ReplicationPortNo,
		ReplicationLag:   2 * time.Millisecond,
		Properties:       map[string]int64{"ADMIN_MODE": 1},
		StatementLatency: tc.latency,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tbl := range []string{"T1", "T2"} {
		if _, err := tc.sql(t, q, "SELECT COUNT(*) FROM SYS."+tbl); err != nil {
			tc.mustSQL(t, q, "CREATE TABLE SYS."+tbl+" (I1 INTEGER PRIMARY KEY, V VARCHAR(20))")
		}
	}
	return srv
}

// wipe replaces pod q's data directory by an empty one: its PVC is lost.
func (tc *testCluster) wipe(t testing.TB, q int) {
	tc.data[q] = t.TempDir()
}

// sql runs one statement on pod q's server in a SYSDBA session of its own.
func (tc *testCluster) sql(t testing.TB, q int, stmt string) (*altisim.Result, error) {
	t.Helper()
	srv := tc.c.Server(tc.host(q))
	if srv == nil {
		return nil, fmt.Errorf("no server on pod %d", q)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := srv.Connect(ctx, altisim.ConnectOptions{User: "SYS", Password: "manager", SysDBA: true})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.Exec(ctx, stmt)
}

func (tc *testCluster) mustSQL(t testing.TB, q int, stmt string) *altisim.Result {
	t.Helper()
	r, err := tc.sql(t, q, stmt)
	if err != nil {
		t.Fatalf("pod %d: %s: %v", q, stmt, err)
	}
	return r
}

// insert adds rows with keys from..to-1 to SYS.T1 and SYS.T2 on pod q.
func (tc *testCluster) insert(t testing.TB, q, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		tc.mustSQL(t, q, fmt.Sprintf("INSERT INTO SYS.T1 VALUES (%d, 'p%d')", i, q))
		tc.mustSQL(t, q, fmt.Sprintf("INSERT INTO SYS.T2 VALUES (%d, 'p%d')", i, q))
	}
}

// rows is the content of both tables on pod q, one string per row.
func (tc *testCluster) rows(t testing.TB, q int) []string {
	t.Helper()
	var out []string
	for _, tbl := range []string{"T1", "T2"} {
		r := tc.mustSQL(t, q, "SELECT I1, V FROM SYS."+tbl)
		for _, row := range r.Rows {
			out = append(out, fmt.Sprintf("%s:%v:%v", tbl, row[0], row[1]))
		}
	}
	sort.Strings(out)
	return out
}

// waitRows waits until pod q holds want.
func (tc *testCluster) waitRows(t testing.TB, q int, want []string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := tc.rows(t, q)
		if reflect.DeepEqual(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pod %d rows:\n%v\nwant:\n%v", q, got, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// input is the podlife.Input of pod q for action.
func (tc *testCluster) input(t testing.TB, q int, action Action) Input {
	t.Helper()
	id, err := Identify(fmt.Sprintf("%s-%d", tc.cfg.StsName, q), tc.cfg)
	if err != nil {
		t.Fatal(err)
	}
	return Input{
		Action:   action,
		Config:   tc.cfg,
		Identity: id,
		Connector: DialerConnector{Dialer: &replication.Dialer{
			Driver:   "altisim",
			Template: driver.Template(tc.c.Name(), 200*time.Millisecond),
			Port:     tc.cfg.PortNo,
			User:     "SYS",
			Password: "manager",
			Policy: replication.Policy{
				QueryTimeout: tc.cfg.QueryTimeout,
				RetryCount:   tc.cfg.QueryRetryCount,
				RetryDelay:   tc.cfg.QueryRetryDelay,
			},
		}},
		MarkerPath: filepath.Join(tc.tmp[q], "aku_start_completed"),
		Logger:     slog.New(slog.NewTextHandler(&tc.logs, nil)),
		Clock:      tc.clock,
		LockWait:   time.Second,
	}
}

func (tc *testCluster) run(t testing.TB, q int, action Action) (*Plan, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return Run(ctx, tc.input(t, q, action))
}

func (tc *testCluster) mustRun(t testing.TB, q int, action Action) *Plan {
	t.Helper()
	p, err := tc.run(t, q, action)
	if err != nil {
		t.Fatalf("aku -p %s on pod %d: %v\nlogs:\n%s", action, q, err, tc.logs.String())
	}
	return p
}

func (tc *testCluster) markerExists(q int) bool {
	ok, _ := Marker{Path: filepath.Join(tc.tmp[q], "aku_start_completed")}.Exists()
	return ok
}

// objState is an object as the final-state comparisons see it.
type objState struct {
	Name    string
	Started bool
	HasXSN  bool
}

// serverState is what must be equal after an interrupted and resumed run
// and an uninterrupted one.
type serverState struct {
	Objects   []objState
	AdminMode int64
	DDLEnable int64
	Rows      []string
	Marker    bool
	Journal   bool
}

func (tc *testCluster) state(t testing.TB, q int) serverState {
	t.Helper()
	var st serverState
	r := tc.mustSQL(t, q, "SELECT REPLICATION_NAME, XSN, IS_STARTED FROM SYSTEM_.SYS_REPLICATIONS_")
	for _, row := range r.Rows {
		xsn := fmt.Sprint(row[1])
		st.Objects = append(st.Objects, objState{Name: strings.TrimSpace(fmt.Sprint(row[0])), Started: fmt.Sprint(row[2]) == "1", HasXSN: xsn != "-1"})
	}
	sort.Slice(st.Objects, func(i, j int) bool { return st.Objects[i].Name < st.Objects[j].Name })
	st.AdminMode = tc.prop(t, q, "ADMIN_MODE")
	st.DDLEnable = tc.prop(t, q, "REPLICATION_DDL_ENABLE")
	st.Rows = tc.rows(t, q)
	st.Marker = tc.markerExists(q)
	_, st.Journal, _ = Marker{Path: filepath.Join(tc.tmp[q], "aku_start_completed")}.readDDLJournal()
	return st
}

func (tc *testCluster) prop(t testing.TB, q int, name string) int64 {
	t.Helper()
	r := tc.mustSQL(t, q, "SELECT VALUE1 FROM V$PROPERTY WHERE NAME = '"+name+"'")
	if len(r.Rows) != 1 {
		t.Fatalf("pod %d: property %s: %d rows", q, name, len(r.Rows))
	}
	var v int64
	fmt.Sscan(fmt.Sprint(r.Rows[0][0]), &v)
	return v
}

// states is every running pod's state.
func (tc *testCluster) states(t testing.TB, pods ...int) map[int]serverState {
	t.Helper()
	out := map[int]serverState{}
	for _, q := range pods {
		out[q] = tc.state(t, q)
	}
	return out
}

// allRows is the union of rows a test inserted, as every pod should hold.
func expectRows(ranges ...[3]int) []string {
	var out []string
	for _, r := range ranges {
		for i := r[1]; i < r[2]; i++ {
			for _, tbl := range []string{"T1", "T2"} {
				out = append(out, fmt.Sprintf("%s:%d:p%d", tbl, i, r[0]))
			}
		}
	}
	sort.Strings(out)
	return out
}

// checkStarted asserts that pod q's objects all run with a restart point
// toward every running peer, ADMIN_MODE is 0, DDL enable is 0, and the
// marker is written.
func (tc *testCluster) checkStarted(t testing.TB, q int, running ...int) {
	t.Helper()
	st := tc.state(t, q)
	isRunning := map[int]bool{}
	for _, r := range running {
		isRunning[r] = true
	}
	for _, o := range replication.Objects(tc.cfg, q) {
		var got *objState
		for i := range st.Objects {
			if st.Objects[i].Name == o.Name {
				got = &st.Objects[i]
			}
		}
		if got == nil {
			t.Errorf("pod %d: object %s missing", q, o.Name)
			continue
		}
		if isRunning[o.Peer] && (!got.Started || !got.HasXSN) {
			t.Errorf("pod %d: object %s toward running pod %d: started %v, restart point %v", q, o.Name, o.Peer, got.Started, got.HasXSN)
		}
	}
	if st.AdminMode != 0 || st.DDLEnable != 0 || !st.Marker || st.Journal {
		t.Errorf("pod %d: ADMIN_MODE %d, REPLICATION_DDL_ENABLE %d, marker %v, DDL journal %v; want 0, 0, true, false", q, st.AdminMode, st.DDLEnable, st.Marker, st.Journal)
	}
}

// startAll boots pods 0..n-1 and starts them one after another, with rows
// 0..10 written on pod 0 first.
func (tc *testCluster) startAll(t testing.TB, n int) {
	t.Helper()
	tc.boot(t, 0)
	tc.insert(t, 0, 0, 10)
	for q := 0; q < n; q++ {
		if q > 0 {
			tc.boot(t, q)
		}
		tc.mustRun(t, q, ActionStart)
	}
}

func pods(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func TestScaleUpOneToFour(t *testing.T) {
	tc := newTestCluster(t, flowConfig(4))
	tc.boot(t, 0)
	tc.insert(t, 0, 0, 10)
	p := tc.mustRun(t, 0, ActionStart)
	if p.Path != PathMaster {
		t.Errorf("pod 0 path = %q", p.Path)
	}
	for q := 1; q < 4; q++ {
		tc.boot(t, q)
		// A row written on the master while the slave has not started
		// reaches it through the SYNC.
		tc.insert(t, 0, 10*q, 10*q+5)
		p := tc.mustRun(t, q, ActionStart)
		if p.Path != PathFreshSlave {
			t.Errorf("pod %d path = %q, want %q", q, p.Path, PathFreshSlave)
		}
	}
	// Rows written on any pod after the start reach every pod.
	tc.insert(t, 2, 100, 103)
	tc.insert(t, 3, 200, 203)
	want := expectRows([3]int{0, 0, 10}, [3]int{0, 10, 15}, [3]int{0, 20, 25}, [3]int{0, 30, 35}, [3]int{2, 100, 103}, [3]int{3, 200, 203})
	for q := 0; q < 4; q++ {
		tc.waitRows(t, q, want)
		tc.checkStarted(t, q, pods(4)...)
	}
	// A second start finds the marker.
	if _, err := tc.run(t, 1, ActionStart); !errors.Is(err, ErrDuplicateStart) {
		t.Errorf("second start: %v, want ErrDuplicateStart", err)
	}
}

func TestLogLines(t *testing.T) {
	tc := newTestCluster(t, flowConfig(2))
	tc.boot(t, 0)
	tc.mustRun(t, 0, ActionStart)
	tc.boot(t, 1)
	tc.logs.Reset()
	tc.mustRun(t, 1, ActionStart)
	msgs := loggedMessages(tc.logs.String())
	want := []string{"Start as SLAVE Pod.", "Truncate tables for replications.", "Table truncation has ended.", "Sync tables from MASTER Server.", "Replication sync has ended."}
	var got []string
	for _, m := range msgs {
		for _, w := range want {
			if m == w {
				got = append(got, m)
			}
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("phase messages = %q, want %q\nlogs:\n%s", got, want, tc.logs.String())
	}
	if !strings.Contains(tc.logs.String(), "pod=altibase-sts-0 replication=AKU_REP_01") {
		t.Errorf("no log line names the target pod and replication:\n%s", tc.logs.String())
	}
}

func TestEndAndRestartSlave(t *testing.T) {
	tests := []struct {
		name       string
		flushAtEnd bool
		resetAtEnd bool
		restart    Path
	}{
		{"reset at end, fresh restart", true, true, PathFreshSlave},
		{"no reset at end, rejoin", true, false, PathRejoinSlave},
		{"no flush, no reset", false, false, PathRejoinSlave},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := flowConfig(3)
			cfg.FlushAtEnd, cfg.ReplicationResetAtEnd = tt.flushAtEnd, tt.resetAtEnd
			tc := newTestCluster(t, cfg)
			tc.startAll(t, 3)
			tc.insert(t, 2, 50, 53)
			want := expectRows([3]int{0, 0, 10}, [3]int{2, 50, 53})
			if tt.flushAtEnd {
				// FLUSH ALL at end hands over pod 2's rows before it stops.
				p := tc.mustRun(t, 2, ActionEnd)
				if p.Path != PathEnd {
					t.Errorf("end path = %q", p.Path)
				}
			} else {
				tc.waitRows(t, 0, want)
				tc.mustRun(t, 2, ActionEnd)
			}
			if tc.markerExists(2) {
				t.Error("marker still there after end")
			}
			st := tc.states(t, 0, 1, 2)
			for _, q := range []int{0, 1, 2} {
				for _, o := range st[q].Objects {
					if !strings.HasSuffix(o.Name, "2") {
						continue
					}
					if o.Started {
						t.Errorf("pod %d: %s still started after end of pod 2", q, o.Name)
					}
					if o.HasXSN == tt.resetAtEnd {
						t.Errorf("pod %d: %s restart point kept = %v, want %v", q, o.Name, o.HasXSN, !tt.resetAtEnd)
					}
				}
			}
			tc.waitRows(t, 0, want)
			tc.waitRows(t, 1, want)
			// Pod 2 goes away; rows are written meanwhile; it comes back.
			tc.c.Stop(tc.host(2))
			tc.insert(t, 0, 60, 63)
			tc.insert(t, 1, 70, 73)
			tc.boot(t, 2)
			p := tc.mustRun(t, 2, ActionStart)
			if p.Path != tt.restart {
				t.Errorf("restart path = %q, want %q", p.Path, tt.restart)
			}
			want = expectRows([3]int{0, 0, 10}, [3]int{2, 50, 53}, [3]int{0, 60, 63}, [3]int{1, 70, 73})
			for q := 0; q < 3; q++ {
				tc.waitRows(t, q, want)
				tc.checkStarted(t, q, 0, 1, 2)
			}
		})
	}
}

func TestEndMasterKeepsRestartPoints(t *testing.T) {
	tc := newTestCluster(t, flowConfig(2))
	tc.startAll(t, 2)
	tc.mustRun(t, 0, ActionEnd)
	for _, q := range []int{0, 1} {
		for _, o := range tc.state(t, q).Objects {
			if o.Started || !o.HasXSN {
				t.Errorf("pod %d: %s started %v, restart point %v after the master's end; want stopped with its restart point", q, o.Name, o.Started, o.HasXSN)
			}
		}
	}
	// The master comes back and starts both sides again (no failure).
	tc.mustRun(t, 0, ActionStart)
	tc.insert(t, 0, 20, 22)
	want := expectRows([3]int{0, 0, 10}, [3]int{0, 20, 22})
	tc.waitRows(t, 1, want)
}

func TestClean(t *testing.T) {
	tc := newTestCluster(t, flowConfig(3))
	tc.startAll(t, 3)
	p := tc.mustRun(t, 2, ActionClean)
	if p.Path != PathClean {
		t.Errorf("path = %q", p.Path)
	}
	if objs := tc.state(t, 2).Objects; len(objs) != 0 {
		t.Errorf("pod 2 still has objects after clean: %v", objs)
	}
	for _, q := range []int{0, 1} {
		for _, o := range tc.state(t, q).Objects {
			if strings.HasSuffix(o.Name, "2") && o.Started {
				t.Errorf("pod %d: counterpart %s still started after clean of pod 2", q, o.Name)
			}
		}
	}
	if tc.markerExists(2) {
		t.Error("marker still there after clean")
	}
	// clean again: nothing left to do, and no error.
	tc.mustRun(t, 2, ActionClean)
}

func TestMasterFailure(t *testing.T) {
	tc := newTestCluster(t, flowConfig(3))
	tc.startAll(t, 2)
	// The master's storage is lost: a new, empty server with the same name.
	tc.c.Crash(tc.host(0))
	tc.wipe(t, 0)
	tc.boot(t, 0)
	tc.logs.Reset()
	p, err := tc.run(t, 0, ActionStart)
	if !errors.Is(err, ErrMasterFailure) {
		t.Fatalf("start: %v, want ErrMasterFailure", err)
	}
	if p == nil || p.Path != PathMasterFailure {
		t.Errorf("plan = %+v", p)
	}
	if !strings.Contains(tc.logs.String(), `level=ERROR msg="The MASTER server is detected to have failed. Check and perform a manual recovery."`) {
		t.Errorf("the original's failure line was not logged:\n%s", tc.logs.String())
	}
	// The master's missing objects were created (nothing started, no
	// data moved) so that the manual recovery can SYNC into them; the
	// master stays closed to users and has no marker.
	st := tc.state(t, 0)
	want := []objState{{Name: "AKU_REP_01"}, {Name: "AKU_REP_02"}}
	if fmt.Sprint(st.Objects) != fmt.Sprint(want) || st.AdminMode != 1 || st.Marker || len(st.Rows) != 0 {
		t.Errorf("after the failed start the master holds %+v; want objects %v, ADMIN_MODE 1, no marker, no rows", st, want)
	}

	// The documented manual recovery (docs/behaviour.md, "Recovering a
	// failed master"), with pod 1 as the source of truth, then aku -p start
	// on the master again.
	tc.mustSQL(t, 0, "ALTER SYSTEM SET REPLICATION_DDL_ENABLE = 1")
	tc.mustSQL(t, 0, "TRUNCATE TABLE SYS.T1")
	tc.mustSQL(t, 0, "TRUNCATE TABLE SYS.T2")
	tc.mustSQL(t, 0, "ALTER SYSTEM SET REPLICATION_DDL_ENABLE = 0")
	tc.mustSQL(t, 1, "ALTER REPLICATION AKU_REP_01 STOP")
	tc.mustSQL(t, 1, "ALTER REPLICATION AKU_REP_01 RESET")
	tc.mustSQL(t, 1, "ALTER REPLICATION AKU_REP_01 SYNC")
	tc.mustSQL(t, 0, "ALTER REPLICATION AKU_REP_01 START")
	tc.logs.Reset()
	tc.mustRun(t, 0, ActionStart)
	// The vendor's transcript of this last step logs the flush.
	for _, want := range []string{"Flush replications.", "Replication flush has ended."} {
		if !strings.Contains(tc.logs.String(), want) {
			t.Errorf("the recovered master's start does not log %q:\n%s", want, tc.logs.String())
		}
	}
	tc.checkStarted(t, 0, 0, 1)
	tc.waitRows(t, 0, expectRows([3]int{0, 0, 10}))
	// Replication runs both ways again.
	tc.insert(t, 1, 100, 103)
	tc.insert(t, 0, 200, 203)
	both := expectRows([3]int{0, 0, 10}, [3]int{1, 100, 103}, [3]int{0, 200, 203})
	tc.waitRows(t, 0, both)
	tc.waitRows(t, 1, both)
}

func TestUnreachablePeers(t *testing.T) {
	for _, fault := range []altisim.HostFault{altisim.HostAbsent, altisim.HostRefused, altisim.HostBlackhole} {
		t.Run(fault.String(), func(t *testing.T) {
			tc := newTestCluster(t, flowConfig(4))
			tc.startAll(t, 3)
			// Pod 3 does not exist in some way; pod 1 ends and starts again.
			tc.c.SetHostFault(tc.host(3), fault)
			tc.mustRun(t, 1, ActionEnd)
			p := tc.mustRun(t, 1, ActionStart)
			if p.Path != PathFreshSlave {
				t.Errorf("path = %q", p.Path)
			}
			tc.checkStarted(t, 1, 0, 1, 2)
		})
	}
}

func TestMasterUnreachableForFreshSlave(t *testing.T) {
	tc := newTestCluster(t, flowConfig(2))
	tc.startAll(t, 1)
	tc.boot(t, 1)
	tc.c.SetHostFault(tc.host(0), altisim.HostRefused)
	_, err := tc.run(t, 1, ActionStart)
	if !errors.Is(err, ErrNeededServerUnreachable) {
		t.Fatalf("start: %v, want ErrNeededServerUnreachable", err)
	}
	if st := tc.state(t, 1); len(st.Objects) != 0 || st.DDLEnable != 0 {
		t.Errorf("refused start changed pod 1: %+v", st)
	}
}

func TestOwnServerUnreachable(t *testing.T) {
	tc := newTestCluster(t, flowConfig(2))
	tc.startAll(t, 1)
	tc.c.SetHostFault(tc.host(0), altisim.HostAbsent)
	_, err := tc.run(t, 0, ActionEnd)
	if !errors.Is(err, ErrNeededServerUnreachable) {
		t.Fatalf("end: %v, want ErrNeededServerUnreachable", err)
	}
}

func TestRetryCuresTransientError(t *testing.T) {
	tc := newTestCluster(t, flowConfig(2))
	tc.startAll(t, 1)
	tc.boot(t, 1)
	// The first SYNC fails the handshake, as when the new pod's receiver is
	// not up yet; the retry succeeds.
	if err := tc.c.Server(tc.host(0)).Faults().Add(altisim.Fault{Pattern: "SYNC PARALLEL", Action: altisim.FaultFail, Nth: 1, Code: replication.CodeHandshake}); err != nil {
		t.Fatal(err)
	}
	tc.mustRun(t, 1, ActionStart)
	tc.checkStarted(t, 1, 0, 1)
	tc.waitRows(t, 1, expectRows([3]int{0, 0, 10}))
}

func TestStatementTimeout(t *testing.T) {
	cfg := flowConfig(2)
	cfg.QueryTimeout = 100 * time.Millisecond
	tc := newTestCluster(t, cfg)
	tc.startAll(t, 1)
	tc.boot(t, 1)
	if err := tc.c.Server(tc.host(0)).Faults().Add(altisim.Fault{Pattern: "SYNC PARALLEL", Action: altisim.FaultHang, Nth: 1}); err != nil {
		t.Fatal(err)
	}
	_, err := tc.run(t, 1, ActionStart)
	if !errors.Is(err, replication.ErrTimeout) {
		t.Fatalf("start: %v, want ErrTimeout", err)
	}
	// REPLICATION_DDL_ENABLE was restored on the failure path.
	if v := tc.prop(t, 1, "REPLICATION_DDL_ENABLE"); v != 0 {
		t.Errorf("REPLICATION_DDL_ENABLE = %d after the failed start, want 0", v)
	}
	tc.mustRun(t, 1, ActionStart)
	tc.checkStarted(t, 1, 0, 1)
	tc.waitRows(t, 1, expectRows([3]int{0, 0, 10}))
}

func TestSecondRunLocked(t *testing.T) {
	tc := newTestCluster(t, flowConfig(1))
	tc.boot(t, 0)
	in := tc.input(t, 0, ActionStart)
	lock, err := acquireLock(context.Background(), Marker{Path: in.MarkerPath}.lockPath(), 0, SystemClock{})
	if err != nil {
		t.Fatal(err)
	}
	defer lock.release()
	if _, err := Run(context.Background(), in); !errors.Is(err, ErrLocked) {
		t.Errorf("start while locked: %v, want ErrLocked", err)
	}
	end := tc.input(t, 0, ActionEnd)
	end.LockWait = 50 * time.Millisecond
	end.Clock = SystemClock{}
	if _, err := Run(context.Background(), end); !errors.Is(err, ErrLocked) {
		t.Errorf("end while locked past its wait: %v, want ErrLocked", err)
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	tc := newTestCluster(t, flowConfig(2))
	tc.startAll(t, 1)
	tc.boot(t, 1)
	before := tc.states(t, 0, 1)
	in := tc.input(t, 1, ActionStart)
	var out bytes.Buffer
	in.DryRun, in.PlanOutput = true, &out
	p, err := Run(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if p.Path != PathFreshSlave || !strings.Contains(out.String(), "ALTER REPLICATION AKU_REP_01 SYNC PARALLEL 1") {
		t.Errorf("dry run printed:\n%s", out.String())
	}
	if after := tc.states(t, 0, 1); !reflect.DeepEqual(before, after) {
		t.Errorf("dry run changed the servers:\nbefore %+v\nafter  %+v", before, after)
	}
}

func TestDelayStartComplete(t *testing.T) {
	cfg := flowConfig(2)
	cfg.DelayStartComplete = 7 * time.Second
	tc := newTestCluster(t, cfg)
	tc.startAll(t, 1)
	before := tc.clock.Now()
	tc.boot(t, 1)
	tc.mustRun(t, 1, ActionStart)
	if waited := tc.clock.Now().Sub(before); waited < 7*time.Second {
		t.Errorf("the slave start waited %s on the clock, want AKU_DELAY_START_COMPLETE_TIME 7s", waited)
	}
	tc.checkStarted(t, 1, 0, 1)
}

// hookClock is a fakeClock that calls onSleep before every Sleep.
type hookClock struct {
	fakeClock
	sleeps  int
	onSleep func(n int)
}

func (c *hookClock) Sleep(ctx context.Context, d time.Duration) error {
	c.sleeps++
	c.onSleep(c.sleeps)
	return c.fakeClock.Sleep(ctx, d)
}

// TestAddressCheck: a starting pod's DNS record is published late; start
// tries AKU_ADDRESS_CHECK_COUNT times, one a second (docs/behaviour.md,
// "Observation").
func TestAddressCheck(t *testing.T) {
	tests := []struct {
		name    string
		count   int
		wantErr error
	}{
		{"published on the third try", 3, nil},
		{"not published within two tries", 2, ErrNeededServerUnreachable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := flowConfig(1)
			cfg.AddressCheckCount = tt.count
			tc := newTestCluster(t, cfg)
			tc.boot(t, 0)
			tc.c.SetHostFault(tc.host(0), altisim.HostAbsent)
			clock := &hookClock{fakeClock: fakeClock{now: time.Unix(0, 0)}, onSleep: func(n int) {
				if n == 2 {
					tc.c.SetHostFault(tc.host(0), altisim.HostOK)
				}
			}}
			in := tc.input(t, 0, ActionStart)
			in.Clock = clock
			_, err := Run(context.Background(), in)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("start: %v, want %v", err, tt.wantErr)
			}
			if want := tt.count - 1; clock.sleeps != want {
				t.Errorf("slept %d times, want %d (one second between %d tries)", clock.sleeps, want, tt.count)
			}
			if elapsed := clock.Now().Sub(time.Unix(0, 0)); elapsed != time.Duration(tt.count-1)*time.Second {
				t.Errorf("waited %s on the clock", elapsed)
			}
		})
	}
}

// A running pod whose SYSDBA session is taken (an operator's isql -sysdba)
// is not an absent pod (docs/behaviour.md, "A busy SYSDBA session"). start refuses before changing
// anything; end does everything else, then fails naming that pod.
func TestPeerSysdbaBusy(t *testing.T) {
	tc := newTestCluster(t, flowConfig(3))
	tc.startAll(t, 2)
	tc.boot(t, 2)
	release := tc.c.Server(tc.host(1)).Faults().HoldSysdba()
	_, err := tc.run(t, 2, ActionStart)
	if !errors.Is(err, replication.ErrSysdbaBusy) {
		t.Fatalf("start with pod 1 busy: %v, want ErrSysdbaBusy", err)
	}
	if want := tc.host(1) + " is running but aku cannot open its session"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
	if st := tc.state(t, 2); len(st.Objects) != 0 || st.Marker || st.AdminMode != 1 {
		t.Errorf("refused start changed pod 2: %+v", st)
	}
	release()
	tc.mustRun(t, 2, ActionStart)
	tc.checkStarted(t, 2, 0, 1, 2)

	release = tc.c.Server(tc.host(1)).Faults().HoldSysdba()
	_, err = tc.run(t, 2, ActionEnd)
	release()
	if !errors.Is(err, replication.ErrSysdbaBusy) || !errors.Is(err, ErrRestartPointsKept) {
		t.Fatalf("end with pod 1 busy: %v, want ErrSysdbaBusy and ErrRestartPointsKept", err)
	}
	if want := "did everything but the side of " + tc.host(1); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
	// The pair with pod 1 could not be flushed, so nothing is reset
	// (docs/behaviour.md, "end"): pod 2 and the master's side are stopped
	// and keep their restart points, pod 1's side of AKU_REP_12 still runs,
	// the marker is gone.
	st2, st0, st1 := tc.state(t, 2), tc.state(t, 0), tc.state(t, 1)
	for _, o := range st2.Objects {
		if o.Started || !o.HasXSN {
			t.Errorf("pod 2: %s started %v, restart point %v after end, want stopped with its restart point", o.Name, o.Started, o.HasXSN)
		}
	}
	if st2.Marker {
		t.Error("pod 2: marker left after end")
	}
	for _, o := range st0.Objects {
		if o.Name == "AKU_REP_02" && (o.Started || !o.HasXSN) {
			t.Errorf("pod 0: AKU_REP_02 started %v, restart point %v after end, want stopped with its restart point", o.Started, o.HasXSN)
		}
	}
	for _, o := range st1.Objects {
		if o.Name == "AKU_REP_12" && !o.Started {
			t.Error("pod 1: AKU_REP_12 stopped although aku could not reach it")
		}
	}
	// The next start rejoins and flushes: every row written meanwhile
	// arrives everywhere.
	tc.insert(t, 1, 100, 105)
	tc.insert(t, 0, 200, 205)
	tc.mustRun(t, 2, ActionStart)
	tc.checkStarted(t, 2, 0, 1, 2)
	for q := 0; q < 3; q++ {
		tc.waitRows(t, q, expectRows([3]int{0, 0, 10}, [3]int{1, 100, 105}, [3]int{0, 200, 205}))
	}
}

// A peer that accepts the connection but drops it while aku reads its
// state is as absent as one that refuses it (docs/behaviour.md,
// "Observation": peers that are gone are not an error): end does its own side and the reachable
// peers' and succeeds, rather than leaving this pod's replication running.
func TestPeerLostWhileObserved(t *testing.T) {
	tc := newTestCluster(t, flowConfig(3))
	tc.startAll(t, 3)
	if err := tc.c.Server(tc.host(2)).Faults().Add(altisim.Fault{Pattern: "SYS_REPLICATIONS_", Action: altisim.FaultDrop, Nth: 1}); err != nil {
		t.Fatal(err)
	}
	p := tc.mustRun(t, 1, ActionEnd)
	if p.Path != PathEnd {
		t.Errorf("path = %q", p.Path)
	}
	found := false
	for _, n := range p.Notes {
		if strings.HasPrefix(n, tc.host(2)+" is not reachable") {
			found = true
		}
	}
	if !found {
		t.Errorf("no note says %s is not reachable: %q", tc.host(2), p.Notes)
	}
	for _, o := range tc.state(t, 1).Objects {
		if o.Started || o.HasXSN {
			t.Errorf("pod 1: %s started %v, restart point %v after end", o.Name, o.Started, o.HasXSN)
		}
	}
	if tc.markerExists(1) {
		t.Error("pod 1: marker left after end")
	}
}

// A connect to a peer whose SYNs are dropped lasts as long as the driver's
// connect timeout, and forever without one (docs/odbc.md, "Connects ignore
// contexts"). An AKU_CONNECTION_STRING without a timeout keyword must still
// leave every wait bounded: observe gives each connect connectWait at most.
func TestConnectBoundedWithoutTemplateTimeout(t *testing.T) {
	defer func(d time.Duration) { connectWait = d }(connectWait)
	connectWait = 300 * time.Millisecond
	tc := newTestCluster(t, flowConfig(3))
	tc.startAll(t, 3)
	tc.c.SetHostFault(tc.host(2), altisim.HostBlackhole)
	in := tc.input(t, 1, ActionEnd)
	d := in.Connector.(DialerConnector).Dialer
	d.Template = strings.Replace(d.Template, ";CONNECT_TIMEOUT=0.2", "", 1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	begin := time.Now()
	// Pod 2 exists but does not answer: AKU_REP_12 cannot be flushed, so
	// end keeps every restart point and says so (docs/behaviour.md, "end").
	if _, err := Run(ctx, in); !errors.Is(err, ErrRestartPointsKept) {
		t.Fatalf("end with pod 2 blackholed: %v, want ErrRestartPointsKept", err)
	}
	if elapsed := time.Since(begin); elapsed > 5*time.Second {
		t.Errorf("end took %s with a blackholed peer, want about connectWait (%s)", elapsed, connectWait)
	}
	if tc.markerExists(1) {
		t.Error("pod 1: marker left after end")
	}
}

// An end killed after the peers reset their side toward this pod but before
// this pod reset its own leaves restart points here only. A rejoin would
// start the peers' sides from now and never bring the rows written on them
// meanwhile: start refuses (ErrUnsafe), and the advised end + start SYNCs
// the pod afresh with every row.
func TestRejoinRefusedWhenPeersLostRestartPoint(t *testing.T) {
	tc := newTestCluster(t, flowConfig(3))
	tc.startAll(t, 3)
	// The end dies after the peers' STOP and RESET of their side toward
	// pod 2, before pod 2's own: pod 2 goes down with its restart points.
	for _, q := range []int{0, 1} {
		name := replication.ObjectName("AKU_REP", q, 2)
		tc.mustSQL(t, q, "ALTER REPLICATION "+name+" STOP")
		tc.mustSQL(t, q, "ALTER REPLICATION "+name+" RESET")
	}
	tc.c.Stop(tc.host(2))
	tc.insert(t, 0, 60, 63)
	tc.insert(t, 1, 70, 73)
	tc.boot(t, 2)
	p, err := tc.run(t, 2, ActionStart)
	if !errors.Is(err, ErrUnsafe) {
		t.Fatalf("start: %v, want ErrUnsafe", err)
	}
	if p.Path != PathRejoinSlave || len(p.Steps) != 0 {
		t.Errorf("refused start planned %d steps on path %q", len(p.Steps), p.Path)
	}
	if st := tc.state(t, 2); st.AdminMode != 1 || st.Marker {
		t.Errorf("refused start opened pod 2: %+v", st)
	}
	tc.mustRun(t, 2, ActionEnd)
	if p := tc.mustRun(t, 2, ActionStart); p.Path != PathFreshSlave {
		t.Errorf("start after end: path %q, want %q", p.Path, PathFreshSlave)
	}
	want := expectRows([3]int{0, 0, 10}, [3]int{0, 60, 63}, [3]int{1, 70, 73})
	for q := 0; q < 3; q++ {
		tc.waitRows(t, q, want)
		tc.checkStarted(t, q, 0, 1, 2)
	}
}

// A fresh slave is truncated and then SYNCed from the MASTER: not before
// the MASTER's own start has opened it, since until then it may be the
// failed MASTER of docs/behaviour.md, "Master failure", with its data gone.
func TestFreshSlaveWaitsForOpenMaster(t *testing.T) {
	tc := newTestCluster(t, flowConfig(2))
	tc.boot(t, 0)
	tc.insert(t, 0, 0, 10)
	tc.boot(t, 1)
	tc.insert(t, 1, 0, 3)
	_, err := tc.run(t, 1, ActionStart)
	if !errors.Is(err, ErrUnsafe) {
		t.Fatalf("start of pod 1 before pod 0's: %v, want ErrUnsafe", err)
	}
	if st := tc.state(t, 1); len(st.Objects) != 0 || st.AdminMode != 1 || st.DDLEnable != 0 || st.Marker || len(st.Rows) != 6 {
		t.Errorf("refused start changed pod 1: %+v", st)
	}
	tc.mustRun(t, 0, ActionStart)
	tc.mustRun(t, 1, ActionStart)
	for q := 0; q < 2; q++ {
		tc.waitRows(t, q, expectRows([3]int{0, 0, 10}))
		tc.checkStarted(t, q, 0, 1)
	}
}

// The address check waits for this pod's DNS record; a server that answers
// and refuses (a wrong password) is reported at once, not after
// AKU_ADDRESS_CHECK_COUNT seconds, and a running peer that refuses is not
// taken for an absent one.
func TestRefusedSessionFailsFast(t *testing.T) {
	cfg := flowConfig(2)
	cfg.AddressCheckCount = 30
	tc := newTestCluster(t, cfg)
	tc.boot(t, 0)
	clock := &hookClock{fakeClock: fakeClock{now: time.Unix(0, 0)}}
	in := tc.input(t, 0, ActionStart)
	in.Clock = clock
	in.Connector.(DialerConnector).Dialer.Password = "wrong"
	_, err := Run(context.Background(), in)
	if !errors.Is(err, replication.ErrRefused) || errors.Is(err, replication.ErrUnreachable) {
		t.Fatalf("start with a wrong password: %v, want ErrRefused only", err)
	}
	if clock.sleeps != 0 {
		t.Errorf("slept %d times before reporting a refused session, want 0", clock.sleeps)
	}
	if want := "after 1 of 30 tries"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}

	tc.mustRun(t, 0, ActionStart)
	tc.boot(t, 1)
	tc.mustRun(t, 1, ActionStart)
	// Pod 0 now refuses (its password changed under aku): pod 1's end does
	// its own side, then fails naming pod 0.
	in = tc.input(t, 1, ActionEnd)
	in.Connector = refuseHost{Connector: in.Connector, host: tc.host(0)}
	_, err = Run(context.Background(), in)
	if !errors.Is(err, replication.ErrRefused) || !errors.Is(err, ErrRestartPointsKept) {
		t.Fatalf("end with pod 0 refusing: %v, want ErrRefused and ErrRestartPointsKept", err)
	}
	if want := "did everything but the side of " + tc.host(0); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
	if tc.markerExists(1) {
		t.Error("pod 1: marker left after end")
	}
}

// refuseHost connects as c does, except to host, which refuses the session
// as a server with another SYS password would.
type refuseHost struct {
	Connector
	host string
}

func (r refuseHost) Connect(ctx context.Context, host string) (Session, error) {
	if host == r.host {
		d := *r.Connector.(DialerConnector).Dialer
		d.Password = "wrong"
		return DialerConnector{Dialer: &d}.Connect(ctx, host)
	}
	return r.Connector.Connect(ctx, host)
}
