package podlife

import (
	"fmt"
	"reflect"
	"regexp"
	"testing"
	"time"

	"github.com/aku-project/aku/altisim"
	"github.com/aku-project/aku/conf"
)

// resumeScenario prepares a cluster in which pod runs action.
type resumeScenario struct {
	name   string
	cfg    func() *conf.Config
	pod    int
	action Action
	setup  func(t *testing.T, tc *testCluster)
	// pods are the servers running at the end, whose state is compared.
	pods []int
}

func resumeScenarios() []resumeScenario {
	three := func() *conf.Config { return flowConfig(3) }
	keep := func() *conf.Config {
		c := flowConfig(3)
		c.ReplicationResetAtEnd = false
		return c
	}
	return []resumeScenario{
		{"master first start", three, 0, ActionStart, func(t *testing.T, tc *testCluster) {
			tc.boot(t, 0)
			tc.insert(t, 0, 0, 10)
		}, []int{0}},
		{"master restart with slaves running", three, 0, ActionStart, func(t *testing.T, tc *testCluster) {
			tc.startAll(t, 3)
			tc.mustRun(t, 0, ActionEnd)
			tc.c.Stop(tc.host(0))
			tc.insert(t, 1, 40, 42)
			tc.boot(t, 0)
		}, []int{0, 1, 2}},
		{"fresh slave", three, 2, ActionStart, func(t *testing.T, tc *testCluster) {
			tc.startAll(t, 2)
			tc.boot(t, 2)
			tc.insert(t, 1, 30, 33)
		}, []int{0, 1, 2}},
		{"rejoining slave", keep, 2, ActionStart, func(t *testing.T, tc *testCluster) {
			tc.startAll(t, 3)
			tc.mustRun(t, 2, ActionEnd)
			tc.c.Stop(tc.host(2))
			tc.insert(t, 0, 60, 63)
			tc.insert(t, 1, 70, 73)
			tc.boot(t, 2)
		}, []int{0, 1, 2}},
		{"slave end", three, 2, ActionEnd, func(t *testing.T, tc *testCluster) {
			tc.startAll(t, 3)
			tc.insert(t, 2, 50, 53)
		}, []int{0, 1, 2}},
		{"master end", three, 0, ActionEnd, func(t *testing.T, tc *testCluster) {
			tc.startAll(t, 3)
		}, []int{0, 1, 2}},
		{"clean", three, 2, ActionClean, func(t *testing.T, tc *testCluster) {
			tc.startAll(t, 3)
		}, []int{0, 1, 2}},
	}
}

// converge waits until every pod in pods holds the same rows (replication
// is asynchronous) and returns the pods' states.
func (tc *testCluster) converge(t *testing.T, pods []int) map[int]serverState {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		first := tc.rows(t, pods[0])
		same := true
		for _, q := range pods[1:] {
			if !reflect.DeepEqual(tc.rows(t, q), first) {
				same = false
			}
		}
		if same {
			return tc.states(t, pods...)
		}
		if time.Now().After(deadline) {
			t.Fatalf("pods %v do not converge: %+v", pods, tc.states(t, pods...))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestResumeAfterInterruption stops every path at every statement boundary
// and runs the same command again: the result must be the state an
// uninterrupted run leaves (objects started or not, restart points,
// ADMIN_MODE, REPLICATION_DDL_ENABLE, rows, marker). Two ways to stop:
// the statement fails before it runs (a non-retryable error), and the
// statement runs but its connection drops before the reply (aku cannot
// know the outcome, and cannot clean up on that server), as when aku is
// killed right after sending it.
func TestResumeAfterInterruption(t *testing.T) {
	for _, sc := range resumeScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			ref := newTestCluster(t, sc.cfg())
			sc.setup(t, ref)
			plan := ref.mustRun(t, sc.pod, sc.action)
			want := ref.converge(t, sc.pods)
			steps := 0
			for _, s := range plan.Steps {
				if s.Kind != StepSQL {
					continue
				}
				steps++
				for _, mode := range []string{"fail", "drop"} {
					t.Run(fmt.Sprintf("step %d %s", s.ID, mode), func(t *testing.T) {
						tc := newTestCluster(t, sc.cfg())
						sc.setup(t, tc)
						f := altisim.Fault{Pattern: "^" + regexp.QuoteMeta(s.Statement) + "$", Nth: 1}
						if mode == "fail" {
							f.Action, f.Code = altisim.FaultFail, 0x31001
						} else {
							f.Action, f.After = altisim.FaultDrop, true
						}
						srv := tc.c.Server(tc.host(s.Server))
						if err := srv.Faults().Add(f); err != nil {
							t.Fatal(err)
						}
						_, err := tc.run(t, sc.pod, sc.action)
						if err == nil && !s.Optional {
							t.Fatalf("the run with step %d (%s) interrupted succeeded", s.ID, s.Statement)
						}
						if left := srv.Faults().List(); len(left) != 0 {
							t.Fatalf("step %d (%s) was never sent: the fault did not fire", s.ID, s.Statement)
						}
						tc.mustRun(t, sc.pod, sc.action)
						got := tc.converge(t, sc.pods)
						if !reflect.DeepEqual(got, want) {
							t.Errorf("after resuming:\n got %+v\nwant %+v\nlogs:\n%s", got, want, tc.logs.String())
						}
					})
				}
			}
			if steps == 0 {
				t.Fatal("the scenario's plan has no statements")
			}
		})
	}
}
