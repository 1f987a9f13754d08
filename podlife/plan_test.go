package podlife

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/replication"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// testConfig is a configuration of n servers with one group of two items
// (a table and a partition), and a second group when groups is 2.
func testConfig(n, groups int) *conf.Config {
	cfg := &conf.Config{
		File: "aku.conf", StsName: "altibase-sts", SvcName: "altibase-svc", ServerCount: n,
		SysUser: "SYS", SysPassword: "manager", PortNo: 20300, ReplicationPortNo: 20301,
		QueryTimeout: time.Hour, QueryRetryCount: 5, QueryRetryDelay: time.Second,
		AddressCheckCount: 30, FlushAtStart: true, FlushTimeoutAtStart: 300 * time.Second,
		FlushAtEnd: true, ReplicationResetAtEnd: true,
		Groups: []conf.Group{{Prefix: "AKU_REP", SyncParallelCount: 1, Items: []conf.Item{
			{User: "SYS", Table: "T1"}, {User: "SYS", Table: "T2", Partition: "P1"},
		}}},
	}
	if groups == 2 {
		cfg.Groups = append(cfg.Groups, conf.Group{Prefix: "AKU_REP2", SyncParallelCount: 4, Items: []conf.Item{{User: "SYS", Table: "T4"}}})
	}
	return cfg
}

func testIdentity(t *testing.T, cfg *conf.Config, n int) Identity {
	t.Helper()
	id, err := Identify(PeerHost(cfg, n)[:len("altibase-sts-")+1], cfg)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// obj is a replication object state for a test observation.
func obj(name string, xsn int64, started bool) replication.State {
	return replication.State{Name: name, XSN: xsn, Started: started}
}

// up is a reachable server with these objects, ADMIN_MODE admin and
// REPLICATION_DDL_ENABLE 0.
func up(admin int64, objs ...replication.State) ServerView {
	v := ServerView{Reachable: true, Class: ClassUp, Objects: map[string]replication.State{}, AdminMode: admin, DDLEnable: 0}
	for _, o := range objs {
		v.Objects[o.Name] = o
	}
	return v
}

// down is an unreachable server.
func down() ServerView {
	return ServerView{Err: errors.New("no such host"), AdminMode: -1, DDLEnable: -1}
}

func observation(cfg *conf.Config, views ...ServerView) Observation {
	o := Observation{}
	for q, v := range views {
		v.Ordinal, v.Host = q, PeerHost(cfg, q)
		o.Servers = append(o.Servers, v)
	}
	return o
}

// all is every object of server q in cfg, with the given state.
func all(cfg *conf.Config, q int, xsn int64, started bool) []replication.State {
	var out []replication.State
	for _, o := range replication.Objects(cfg, q) {
		out = append(out, obj(o.Name, xsn, started))
	}
	return out
}

func TestBuildPlan(t *testing.T) {
	c3 := testConfig(3, 1)
	c4 := testConfig(4, 1)
	c2g := testConfig(3, 2)
	noFlush := testConfig(4, 1)
	noFlush.FlushAtStart = false
	flushAll := testConfig(4, 1)
	flushAll.FlushTimeoutAtStart = 0
	endKeep := testConfig(4, 1)
	endKeep.FlushAtEnd, endKeep.ReplicationResetAtEnd = false, false
	delay := testConfig(3, 1)
	delay.DelayStartComplete = 5 * time.Second
	one := testConfig(1, 1)
	// whenLeaving is AKU_REPLICATION_RESET_AT_END = 2; ending is pod 2 of
	// 4 ending while pods 0 and 1 run, with what Kubernetes said.
	whenLeaving := testConfig(4, 1)
	whenLeaving.ResetOnlyWhenLeaving = true
	ending := func(l Leaving) Observation {
		o := observation(whenLeaving, up(0, all(whenLeaving, 0, 100, true)...), up(0, all(whenLeaving, 1, 100, true)...), up(0, all(whenLeaving, 2, 100, true)...), down())
		o.Leaving = l
		return o
	}

	savedDDL := func(o Observation, v int64, current int64) Observation {
		o.SavedDDLEnable, o.HasSavedDDL = v, true
		o.Servers[len(o.Servers)-1].DDLEnable = current
		return o
	}
	// freshSlave2 is pod 2 of 4 starting fresh: the master and pod 1 run,
	// pod 3 is absent.
	freshSlave2 := observation(c4,
		up(0, append(all(c4, 0, 100, true)[:1], obj("AKU_REP_02", -1, false), obj("AKU_REP_03", -1, false))...),
		up(0, obj("AKU_REP_01", 100, true), obj("AKU_REP_12", -1, false), obj("AKU_REP_13", -1, false)),
		up(1),
		down())

	tests := []struct {
		name   string
		action Action
		cfg    *conf.Config
		pod    int
		obs    Observation
		path   Path
		err    error
	}{
		{"master-first-start", ActionStart, c3, 0, observation(c3, up(1), down(), down()), PathMaster, nil},
		{"master-single-server", ActionStart, one, 0, observation(one, up(1)), PathMaster, nil},
		{"master-single-server-already-open", ActionStart, one, 0, observation(one, up(0)), PathNothing, nil},
		{"master-restart-slaves-running", ActionStart, c3, 0,
			observation(c3, up(1, all(c3, 0, 50, false)...), up(0, all(c3, 1, 60, true)...), up(0, obj("AKU_REP_02", 70, true), obj("AKU_REP_12", 70, true))),
			PathMaster, nil},
		{"master-start-again-nothing-left", ActionStart, c3, 0,
			observation(c3, up(0, all(c3, 0, 50, true)...), up(0, all(c3, 1, 60, true)...), down()),
			PathNothing, nil},
		{"master-peer-without-objects", ActionStart, c3, 0,
			observation(c3, up(1, all(c3, 0, -1, false)...), up(1), down()), PathMaster, nil},
		{"master-failure", ActionStart, c3, 0,
			observation(c3, up(1), up(0, all(c3, 1, 60, true)...), down()), PathMasterFailure, ErrMasterFailure},
		{"master-failure-reset-objects", ActionStart, c3, 0,
			observation(c3, up(1, all(c3, 0, -1, false)...), up(0, obj("AKU_REP_01", 60, false), obj("AKU_REP_12", -1, false)), down()), PathMasterFailure, ErrMasterFailure},
		{"slave-failure", ActionStart, c3, 0,
			observation(c3, up(1, all(c3, 0, 50, false)...), up(0, obj("AKU_REP_01", -1, false), obj("AKU_REP_12", -1, false)), down()), PathSlaveFailure, ErrSlaveFailure},
		{"fresh-slave", ActionStart, c4, 2, freshSlave2, PathFreshSlave, nil},
		{"fresh-slave-two-groups", ActionStart, c2g, 1,
			observation(c2g, up(0, all(c2g, 0, -1, false)...), up(1), down()), PathFreshSlave, nil},
		{"fresh-slave-after-sync-died", ActionStart, c3, 1,
			observation(c3, up(0, obj("AKU_REP_01", 80, true), obj("AKU_REP_02", -1, false)), up(1, all(c3, 1, -1, false)...), down()), PathFreshSlave, nil},
		{"fresh-slave-ddl-saved-by-killed-run", ActionStart, c3, 1,
			func() Observation {
				o := observation(c3, up(0, all(c3, 0, -1, false)...), up(1, all(c3, 1, -1, false)...), down())
				o.SavedDDLEnable, o.HasSavedDDL = 0, true
				o.Servers[1].DDLEnable = 1
				return o
			}(), PathFreshSlave, nil},
		{"fresh-slave-delay", ActionStart, delay, 1,
			observation(delay, up(0, all(delay, 0, -1, false)...), up(1), down()), PathFreshSlave, nil},
		{"fresh-slave-master-not-open", ActionStart, c3, 1,
			observation(c3, up(1, all(c3, 0, -1, false)...), up(1), down()), PathFreshSlave, ErrUnsafe},
		{"fresh-slave-master-unreachable", ActionStart, c3, 1,
			observation(c3, down(), up(1), down()), PathFreshSlave, ErrNeededServerUnreachable},
		{"rejoin-slave-flush-wait", ActionStart, c4, 3,
			observation(c4, up(0, all(c4, 0, 100, true)...), up(0, all(c4, 1, 100, true)...), down(), up(1, all(c4, 3, 90, false)...)),
			PathRejoinSlave, nil},
		{"rejoin-slave-flush-all", ActionStart, flushAll, 1,
			observation(flushAll, up(0, all(flushAll, 0, 100, true)...), up(1, all(flushAll, 1, 90, false)...), down(), down()),
			PathRejoinSlave, nil},
		{"rejoin-slave-no-flush", ActionStart, noFlush, 1,
			observation(noFlush, up(0, all(noFlush, 0, 100, true)...), up(1, all(noFlush, 1, 90, false)...), down(), down()),
			PathRejoinSlave, nil},
		{"rejoin-slave-restores-saved-ddl", ActionStart, c3, 2,
			savedDDL(observation(c3, up(0, all(c3, 0, 100, true)...), up(0, all(c3, 1, 100, true)...), up(1, all(c3, 2, 90, false)...)), 0, 1),
			PathRejoinSlave, nil},
		{"rejoin-slave-peer-lost-restart-point", ActionStart, c3, 2,
			observation(c3, up(0, obj("AKU_REP_01", 100, true), obj("AKU_REP_02", -1, false)), up(0, obj("AKU_REP_01", 100, true), obj("AKU_REP_12", 100, false)), up(1, all(c3, 2, 90, false)...)),
			PathRejoinSlave, ErrUnsafe},
		{"rejoin-slave-peer-starting", ActionStart, c3, 2,
			observation(c3, up(0, all(c3, 0, 100, true)...), up(1, obj("AKU_REP_01", -1, false), obj("AKU_REP_12", -1, false)), up(1, all(c3, 2, 90, false)...)),
			PathRejoinSlave, nil},
		{"end-slave", ActionEnd, c4, 2,
			observation(c4, up(0, all(c4, 0, 100, true)...), up(0, all(c4, 1, 100, true)...), up(0, all(c4, 2, 100, true)...), down()),
			PathEnd, nil},
		{"end-slave-no-flush-no-reset", ActionEnd, endKeep, 2,
			observation(endKeep, up(0, all(endKeep, 0, 100, true)...), up(0, all(endKeep, 1, 100, true)...), up(0, all(endKeep, 2, 100, true)...), down()),
			PathEnd, nil},
		{"end-slave-leaving-for-good", ActionEnd, whenLeaving, 2,
			ending(Leaving{VerdictLeaving, "ordinal 2 is not below StatefulSet altibase-sts's spec.replicas 2: a scale-down"}), PathEnd, nil},
		{"end-slave-returning", ActionEnd, whenLeaving, 2,
			ending(Leaving{VerdictReturning, "the pod is being deleted and ordinal 2 is below StatefulSet altibase-sts's spec.replicas 4: a restart, the set creates the pod again"}), PathEnd, nil},
		{"end-slave-not-deleted", ActionEnd, whenLeaving, 2,
			ending(Leaving{VerdictNotDeleted, "no deletionTimestamp: aku -p end run by hand, or a container restart"}), PathEnd, nil},
		{"end-slave-leaving-unknown", ActionEnd, whenLeaving, 2,
			ending(Leaving{VerdictUnknown, "no in-cluster credentials: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not both set"}), PathEnd, nil},
		{"end-master-leaving-for-good", ActionEnd, whenLeaving, 0,
			ending(Leaving{VerdictLeaving, "its StatefulSet altibase-sts is being deleted"}), PathEnd, nil},
		{"end-master", ActionEnd, c3, 0,
			observation(c3, up(0, all(c3, 0, 100, true)...), up(0, all(c3, 1, 100, true)...), down()),
			PathEnd, nil},
		{"end-already-ended", ActionEnd, c3, 1,
			observation(c3, up(0, all(c3, 0, -1, false)...), up(0, all(c3, 1, -1, false)...), down()),
			PathNothing, nil},
		{"clean", ActionClean, c3, 2,
			observation(c3, up(0, all(c3, 0, 100, true)...), up(0, obj("AKU_REP_01", 100, true), obj("AKU_REP_12", 100, false)), up(0, all(c3, 2, 100, true)...)),
			PathClean, nil},
		{"clean-nothing-there", ActionClean, c3, 1, observation(c3, down(), up(1), down()), PathNothing, nil},
		{"self-unreachable", ActionEnd, c3, 1, observation(c3, up(0), down(), down()), "", ErrNeededServerUnreachable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := testIdentity(t, tt.cfg, tt.pod)
			p, err := BuildPlan(tt.action, tt.cfg, id, tt.obs)
			// A master or slave failure (docs/behaviour.md, "Master
			// failure") is reported by the run after the plan's steps,
			// which prepare the manual recovery.
			failed := err
			if err == nil && p.Failure != nil {
				failed = p.Failure
			}
			if !errors.Is(failed, tt.err) || (tt.err == nil) != (failed == nil) {
				t.Fatalf("BuildPlan error = %v, failure = %v, want %v", err, p.Failure, tt.err)
			}
			if p.Path != tt.path {
				t.Errorf("path = %q, want %q", p.Path, tt.path)
			}
			var got bytes.Buffer
			if err != nil {
				got.WriteString("error: " + err.Error() + "\n")
			} else if err := p.Format(&got); err != nil {
				t.Fatal(err)
			}
			checkPlanInvariants(t, p)
			golden(t, filepath.Join("testdata", "plan", tt.name+".golden"), got.String())
		})
	}
}

// checkPlanInvariants asserts what the executor relies on: IDs are
// positions, every dependency comes earlier (plan order is topological).
func checkPlanInvariants(t *testing.T, p *Plan) {
	t.Helper()
	for i, s := range p.Steps {
		if s.ID != i+1 {
			t.Errorf("step %d has ID %d", i+1, s.ID)
		}
		for _, a := range s.After {
			if a <= 0 || a >= s.ID {
				t.Errorf("step %d depends on step %d, which does not come before it", s.ID, a)
			}
		}
		if s.Kind == StepSQL && s.Statement == "" {
			t.Errorf("step %d has no statement", s.ID)
		}
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./podlife -run %s -update)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("output differs from %s (rerun with -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestCriticalPath(t *testing.T) {
	p := &Plan{Steps: []Step{
		{ID: 1, Kind: StepSQL, Server: 0, Statement: "A"},
		{ID: 2, Kind: StepSQL, Server: 0, Statement: "B"},
		{ID: 3, Kind: StepSQL, Server: 1, Statement: "C", After: []int{1}},
		{ID: 4, Kind: StepSQL, Server: 1, Statement: "D"},
		{ID: 5, Kind: StepWriteMarker, Server: Local, After: []int{2, 4}},
	}}
	if got := p.CriticalPath(); got != 3 {
		t.Errorf("CriticalPath = %d, want 3 (A → C → D)", got)
	}
	if got := p.Statements(); got != 4 {
		t.Errorf("Statements = %d, want 4", got)
	}
}

func TestFailureMessages(t *testing.T) {
	c3 := testConfig(3, 1)
	o := observation(c3, up(1), up(0, all(c3, 1, 60, true)...), down())
	p, err := BuildPlan(ActionStart, c3, testIdentity(t, c3, 0), o)
	if err != nil {
		t.Fatalf("BuildPlan: %v", err)
	}
	fe := p.Failure
	if fe == nil {
		t.Fatal("the plan reports no failure")
	}
	err = fe
	if fe.Message != "The MASTER server is detected to have failed. Check and perform a manual recovery." {
		t.Errorf("message = %q", fe.Message)
	}
	if !strings.HasPrefix(err.Error(), fe.Message) {
		t.Errorf("error %q does not start with the original's message", err)
	}
}
