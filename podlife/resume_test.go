package podlife

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/replication"
)

// The crash suite (TestResumeAfterInterruption) stops every lifecycle path
// at every step, in every way aku can be stopped, runs the command again
// and stops that rerun once more at a later step, then runs it a last time.
// The result is compared with a final state stated from the rules of
// docs/behaviour.md for the scenario (crashScenario.want), never with
// another run of the same code: per pod, which of aku's objects exist,
// started or not and with a restart point (XSN ≠ −1) or not, ADMIN_MODE,
// REPLICATION_DDL_ENABLE, the marker, the saved REPLICATION_DDL_ENABLE
// (the DDL journal) and every row. Then a row written on each pod must
// reach exactly the pods the rules say it replicates to.

// The states of an object in a final state.
var (
	// running: started, with a restart point.
	running = objState{Started: true, HasXSN: true}
	// kept: stopped, its restart point kept (STOP, docs/behaviour.md "end").
	kept = objState{HasXSN: true}
	// blank: stopped with XSN −1: created and never started, or RESET.
	blank = objState{}
)

// oracle states final states from the rules.
type oracle struct{ cfg *conf.Config }

// pod is the state of pod p: its object of each group toward each peer q
// in state obj(q) (no objects when obj is nil), the two properties, the
// marker, no DDL journal (every completed path restores
// REPLICATION_DDL_ENABLE and forgets the saved value: docs/behaviour.md,
// "Fresh slave start"), and rows.
func (o oracle) pod(p int, obj func(q int) objState, adminMode int64, marker bool, rows []string) serverState {
	st := serverState{AdminMode: adminMode, DDLEnable: 0, Marker: marker, Rows: rows}
	if obj != nil {
		for _, ob := range replication.Objects(o.cfg, p) {
			s := obj(ob.Peer)
			s.Name = ob.Name
			st.Objects = append(st.Objects, s)
		}
		sort.Slice(st.Objects, func(i, j int) bool { return st.Objects[i].Name < st.Objects[j].Name })
	}
	return st
}

// started is pod p after a completed start among the pods in live (docs/
// behaviour.md, "Master start", "Fresh slave start", "Rejoining slave
// start"): every pair with a live pod runs on both sides with a restart
// point, the objects toward the other pods exist, stopped, with XSN −1;
// the pod is open to users and its marker written.
func (o oracle) started(p int, live []int, rows []string) serverState {
	return o.pod(p, func(q int) objState {
		if slices.Contains(live, q) {
			return running
		}
		return blank
	}, 0, true, rows)
}

// mesh is every pod of live after a completed start among them, each
// holding rows.
func (o oracle) mesh(live []int, rows []string) map[int]serverState {
	out := map[int]serverState{}
	for _, p := range live {
		out[p] = o.started(p, live, rows)
	}
	return out
}

// left is the pods of a mesh of live pods after pod gone's end or clean
// (docs/behaviour.md, "end", "clean"): gone's objects are in state own
// (dropped when nil), the others' objects toward gone in state theirs,
// the others' pairs with each other still run; gone's marker is removed,
// its ADMIN_MODE left as it was (0); every pod holds rows.
func (o oracle) left(live []int, gone int, own *objState, theirs objState, rows []string) map[int]serverState {
	out := map[int]serverState{}
	for _, p := range live {
		if p == gone {
			var obj func(int) objState
			if own != nil {
				obj = func(int) objState { return *own }
			}
			out[p] = o.pod(p, obj, 0, false, rows)
			continue
		}
		out[p] = o.pod(p, func(q int) objState {
			switch {
			case q == gone:
				return theirs
			case slices.Contains(live, q):
				return running
			}
			return blank
		}, 0, true, rows)
	}
	return out
}

// apart is the flow after pod gone left a mesh of live pods: a row written
// on gone stays there, one written on another pod reaches the others.
func apart(live []int, gone int) map[int][]int {
	out := map[int][]int{}
	for _, w := range live {
		if w == gone {
			out[w] = []int{w}
			continue
		}
		for _, q := range live {
			if q != gone {
				out[w] = append(out[w], q)
			}
		}
	}
	return out
}

// crashScenario is a cluster state and a lifecycle command run on it.
type crashScenario struct {
	name   string
	cfg    func() *conf.Config
	pod    int
	action Action
	setup  func(t *testing.T, tc *testCluster)
	// hold, if any, keeps a row in a pod's replication gap during the first
	// run until aku flushes it (gapHold): whether it arrives depends on the
	// run's statements only.
	hold *gapHold
	// final is what the completed command returns.
	final error
	// want is the final state of every pod whose server runs.
	want func(o oracle) map[int]serverState
	// flow: after the command, a row written on pod w (through an ordinary
	// session) reaches exactly the pods flow[w].
	flow map[int][]int
}

func crashScenarios() []crashScenario {
	three := func() *conf.Config { return flowConfig(3) }
	noReset := func() *conf.Config {
		c := flowConfig(3)
		c.ReplicationResetAtEnd = false
		return c
	}
	noFlush := func() *conf.Config {
		c := flowConfig(3)
		c.FlushAtEnd = false
		return c
	}
	twoGroups := func() *conf.Config {
		c := flowConfig(3)
		c.Groups = []conf.Group{
			{Prefix: "AKU_REP", SyncParallelCount: 1, Items: []conf.Item{{User: "SYS", Table: "T1"}}},
			{Prefix: "AKU_REP2", SyncParallelCount: 2, Items: []conf.Item{{User: "SYS", Table: "T2"}}},
		}
		return c
	}
	pods := []int{0, 1, 2}
	all := map[int][]int{0: pods, 1: pods, 2: pods}
	// A fresh slave (docs/behaviour.md, "Fresh slave start"): pod 1 runs,
	// and a row it writes just before the SYNC is held in its gap toward
	// the MASTER until pod 1 flushes that pair. Pod 1's side toward pod 2
	// starts only after that row, so the row reaches pod 2 only through
	// the MASTER's SYNC: only if pod 1 flushed before the SYNC.
	freshSetup := func(t *testing.T, tc *testCluster) {
		tc.startAll(t, 2)
		tc.insert(t, 1, 30, 33)
		tc.boot(t, 2)
		// Rows the new pod held before: the TRUNCATE removes them (the
		// MASTER's rows of the same keys must win).
		tc.insert(t, 2, 0, 4)
	}
	freshHold := func(prefixes string) *gapHold {
		return &gapHold{source: 1, key: 500, held: []int{0},
			release: map[int]*regexp.Regexp{0: regexp.MustCompile(`^ALTER REPLICATION ` + prefixes + `_01 FLUSH`)},
			after:   regexp.MustCompile(`^ALTER REPLICATION ` + prefixes + `_02 SYNC`)}
	}
	freshWant := func(o oracle) map[int]serverState {
		return o.mesh(pods, expectRows([3]int{0, 0, 10}, [3]int{1, 30, 33}, [3]int{1, 500, 501}))
	}
	// running3 starts pods 0..2, then writes rows 20..22 on pod w and waits
	// until every pod holds them, so that their fate does not depend on the
	// command under test.
	running3 := func(w int) func(t *testing.T, tc *testCluster) {
		return func(t *testing.T, tc *testCluster) {
			tc.startAll(t, 3)
			tc.insert(t, w, 20, 23)
			for _, q := range pods {
				tc.waitRows(t, q, expectRows([3]int{0, 0, 10}, [3]int{w, 20, 23}))
			}
		}
	}
	leftRows := func(w int) []string { return expectRows([3]int{0, 0, 10}, [3]int{w, 20, 23}) }
	return []crashScenario{
		{
			// docs/behaviour.md, "Master start": the objects toward the
			// absent pods are created, not started.
			name: "master first start", cfg: three, pod: 0, action: ActionStart,
			setup: func(t *testing.T, tc *testCluster) {
				tc.boot(t, 0)
				tc.insert(t, 0, 0, 10)
			},
			want: func(o oracle) map[int]serverState { return o.mesh([]int{0}, expectRows([3]int{0, 0, 10})) },
			flow: map[int][]int{0: {0}},
		},
		{
			// docs/behaviour.md, "Master start": a MASTER that ended (its
			// restart points kept) comes back while the slaves run; every
			// pair starts on both sides and is flushed, so what pod 1 wrote
			// meanwhile reaches it.
			name: "master restart with slaves running", cfg: three, pod: 0, action: ActionStart,
			setup: func(t *testing.T, tc *testCluster) {
				tc.startAll(t, 3)
				tc.mustRun(t, 0, ActionEnd)
				tc.c.Stop(tc.host(0))
				tc.insert(t, 1, 40, 43)
				tc.boot(t, 0)
			},
			want: func(o oracle) map[int]serverState {
				return o.mesh(pods, expectRows([3]int{0, 0, 10}, [3]int{1, 40, 43}))
			},
			flow: all,
		},
		{
			name: "fresh slave", cfg: three, pod: 2, action: ActionStart,
			setup: freshSetup, hold: freshHold("AKU_REP"), want: freshWant, flow: all,
		},
		{
			// docs/behaviour.md, "Rejoining slave start": pod 2 ended with
			// AKU_REPLICATION_RESET_AT_END = 0 (its last rows flushed) and
			// comes back; the rows written meanwhile on pods 0 and 1 reach it
			// from the restart points, with no TRUNCATE or SYNC.
			name: "rejoining slave", cfg: noReset, pod: 2, action: ActionStart,
			setup: func(t *testing.T, tc *testCluster) {
				tc.startAll(t, 3)
				tc.insert(t, 2, 50, 53)
				tc.mustRun(t, 2, ActionEnd)
				tc.c.Stop(tc.host(2))
				tc.insert(t, 0, 60, 63)
				tc.insert(t, 1, 70, 73)
				tc.boot(t, 2)
			},
			want: func(o oracle) map[int]serverState {
				return o.mesh(pods, expectRows([3]int{0, 0, 10}, [3]int{2, 50, 53}, [3]int{0, 60, 63}, [3]int{1, 70, 73}))
			},
			flow: all,
		},
		{
			// docs/behaviour.md, "end": a slave's end flushes (the row held
			// in its gap reaches both peers only through its FLUSHes), stops
			// both sides of every pair and resets both sides.
			name: "slave end", cfg: three, pod: 2, action: ActionEnd,
			setup: func(t *testing.T, tc *testCluster) { tc.startAll(t, 3) },
			hold: &gapHold{source: 2, key: 500, held: []int{0, 1}, release: map[int]*regexp.Regexp{
				0: regexp.MustCompile(`^ALTER REPLICATION AKU_REP_02 FLUSH`),
				1: regexp.MustCompile(`^ALTER REPLICATION AKU_REP_12 FLUSH`),
			}},
			want: func(o oracle) map[int]serverState {
				return o.left(pods, 2, &blank, blank, expectRows([3]int{0, 0, 10}, [3]int{2, 500, 501}))
			},
			flow: apart(pods, 2),
		},
		{
			// docs/behaviour.md, "end": with AKU_REPLICATION_RESET_AT_END = 0
			// both sides of the leaving pod's pairs are stopped and keep
			// their restart points.
			name: "slave end without reset", cfg: noReset, pod: 2, action: ActionEnd,
			setup: running3(2),
			want:  func(o oracle) map[int]serverState { return o.left(pods, 2, &kept, kept, leftRows(2)) },
			flow:  apart(pods, 2),
		},
		{
			// docs/behaviour.md, "end": AKU_FLUSH_AT_END = 0 skips the
			// FLUSHes (what was not sent is not handed over); stop and reset
			// as with it.
			name: "slave end without flush", cfg: noFlush, pod: 2, action: ActionEnd,
			setup: running3(2),
			want:  func(o oracle) map[int]serverState { return o.left(pods, 2, &blank, blank, leftRows(2)) },
			flow:  apart(pods, 2),
		},
		{
			// docs/behaviour.md, "end": the MASTER's end never resets: both
			// sides of its pairs are stopped with their restart points; the
			// slaves go on replicating with each other.
			name: "master end", cfg: three, pod: 0, action: ActionEnd,
			setup: running3(0),
			want:  func(o oracle) map[int]serverState { return o.left(pods, 0, &kept, kept, leftRows(0)) },
			flow:  apart(pods, 0),
		},
		{
			// docs/behaviour.md, "clean": the pod's objects are dropped, their
			// counterparts stopped (a STOP keeps the restart point), the
			// marker removed.
			name: "clean on a slave", cfg: three, pod: 2, action: ActionClean,
			setup: running3(2),
			want:  func(o oracle) map[int]serverState { return o.left(pods, 2, nil, kept, leftRows(2)) },
			flow:  apart(pods, 2),
		},
		{
			name: "clean on the master", cfg: three, pod: 0, action: ActionClean,
			setup: running3(0),
			want:  func(o oracle) map[int]serverState { return o.left(pods, 0, nil, kept, leftRows(0)) },
			flow:  apart(pods, 0),
		},
		{
			// docs/behaviour.md, "Master failure": the MASTER lost its data
			// (a new, empty server) while pod 1 runs with its restart point.
			// The start creates the MASTER's missing objects (not started),
			// leaves it closed (ADMIN_MODE 1, no marker) and fails. Pod 1's
			// side still runs and now finds the MASTER's object, so its new
			// rows reach the MASTER (the manual recovery truncates it).
			name: "master failure", cfg: three, pod: 0, action: ActionStart, final: ErrMasterFailure,
			setup: func(t *testing.T, tc *testCluster) {
				tc.startAll(t, 2)
				tc.c.Crash(tc.host(0))
				tc.wipe(t, 0)
				tc.boot(t, 0)
			},
			want: func(o oracle) map[int]serverState {
				return map[int]serverState{
					0: o.pod(0, func(int) objState { return blank }, 1, false, nil),
					1: o.started(1, []int{0, 1}, expectRows([3]int{0, 0, 10})),
				}
			},
			flow: map[int][]int{1: {0, 1}},
		},
		{
			// A fresh slave with two replication groups: each group's pairs
			// follow the rules of "Fresh slave start" on their own.
			name: "fresh slave, two groups", cfg: twoGroups, pod: 2, action: ActionStart,
			setup: freshSetup, hold: freshHold("AKU_REP2?"), want: freshWant, flow: all,
		},
	}
}

// checkFinal compares the running pods with the oracle's final state, the
// rows once replication has delivered them, and then shows which pods a
// new row on each pod reaches.
func checkFinal(t *testing.T, tc *testCluster, sc crashScenario, what string) {
	t.Helper()
	want := sc.want(oracle{cfg: tc.cfg})
	tc.expectState(t, want, what)
	keys := make([]int, 0, len(sc.flow))
	for w := range sc.flow {
		keys = append(keys, w)
	}
	sort.Ints(keys)
	for _, w := range keys {
		tc.userInsert(t, w, 900+w, 901+w)
		for _, q := range sc.flow[w] {
			s := want[q]
			s.Rows = append(append([]string{}, s.Rows...), expectRows([3]int{w, 900 + w, 901 + w})...)
			sort.Strings(s.Rows)
			want[q] = s
		}
	}
	tc.expectState(t, want, what+", then a row written on each pod")
}

// expectState waits (replication is asynchronous) until every pod of want
// is in its state, then fails with the differences.
func (tc *testCluster) expectState(t *testing.T, want map[int]serverState, what string) {
	t.Helper()
	pods := make([]int, 0, len(want))
	for q := range want {
		pods = append(pods, q)
	}
	sort.Ints(pods)
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := tc.states(t, pods...)
		if reflect.DeepEqual(normalize(got), normalize(want)) {
			return
		}
		if time.Now().After(deadline) {
			for _, q := range pods {
				if g, w := normalize(got)[q], normalize(want)[q]; !reflect.DeepEqual(g, w) {
					t.Errorf("%s: pod %d\n got %+v\nwant %+v", what, q, g, w)
				}
			}
			t.FailNow()
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// normalize makes empty and nil lists equal.
func normalize(m map[int]serverState) map[int]serverState {
	out := map[int]serverState{}
	for q, s := range m {
		if len(s.Objects) == 0 {
			s.Objects = nil
		}
		if len(s.Rows) == 0 {
			s.Rows = nil
		}
		out[q] = s
	}
	return out
}

// TestResumeAfterInterruption: for every scenario, the uninterrupted
// command leaves the oracle's state; then, for every step of its plan and
// every way of stopping there (sqlModes for statements; a kill before a
// local step), the interrupted run, a rerun stopped once more at the middle
// step of what remains, and a last rerun leave that same state.
func TestResumeAfterInterruption(t *testing.T) {
	for _, sc := range crashScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			ref := newTestCluster(t, sc.cfg())
			sc.setup(t, ref)
			plan := ref.dryRun(t, sc.pod, sc.action)
			t.Run("uninterrupted", func(t *testing.T) {
				_, err := ref.watchedRun(t, sc.pod, sc.action, interruption{plan: plan}, sc.hold)
				if !sameError(err, sc.final) {
					t.Fatalf("aku -p %s on pod %d: %v, want %v\nlogs:\n%s", sc.action, sc.pod, err, sc.final, ref.logs.String())
				}
				checkFinal(t, ref, sc, "after the command")
			})
			var stops []interruption
			for _, s := range plan.Steps {
				modes := []mode{modeKillBefore}
				if s.Kind == StepSQL {
					modes = sqlModes
				}
				for _, m := range modes {
					stops = append(stops, interruption{plan: plan, step: s, mode: m})
				}
			}
			for i, stop := range stops {
				t.Run(fmt.Sprintf("step %d %s", stop.step.ID, stop.mode), func(t *testing.T) {
					resumeAfter(t, sc, plan, stop, i)
				})
			}
		})
	}
}

// resumeAfter runs the scenario stopped at stop, then twice more: the
// first rerun is stopped at the middle step of its own plan (in a way
// chosen by n), the second must complete; then it checks the final state.
func resumeAfter(t *testing.T, sc crashScenario, ref *Plan, stop interruption, n int) {
	tc := newTestCluster(t, sc.cfg())
	sc.setup(t, tc)
	plan := tc.dryRun(t, sc.pod, sc.action)
	if !reflect.DeepEqual(keysOf(plan), keysOf(ref)) {
		t.Fatalf("the scenario's setup is not reproducible: this cluster's plan is\n%s\nthe reference's\n%s", describe(plan), describe(ref))
	}
	stop.plan = plan
	interrupted := func(stop interruption, hold *gapHold, which string) {
		t.Helper()
		before := tc.localFiles(sc.pod)
		fired, err := tc.watchedRun(t, sc.pod, sc.action, stop, hold)
		if !fired {
			t.Fatalf("%s: the interruption (%s) did not happen; plan %s\nlogs:\n%s", which, stop, describe(stop.plan), tc.logs.String())
		}
		optional := stop.step.Optional && (stop.mode == modeFail || stop.mode == modeDrop)
		if err == nil && !optional {
			t.Fatalf("%s: interrupted (%s), the run succeeded", which, stop)
		}
		if stop.step.Kind != StepSQL && !undone(stop.step.Kind, before, tc.localFiles(sc.pod)) {
			t.Fatalf("%s: killed before %s, the run did it anyway (marker, journal before %v, after %v)", which, stop.step.Kind, before, tc.localFiles(sc.pod))
		}
	}
	interrupted(stop, sc.hold, "first run")

	second := tc.dryRun(t, sc.pod, sc.action)
	if len(second.Steps) > 0 {
		s := second.Steps[(len(second.Steps)-1)/2]
		m := modeKillBefore
		if s.Kind == StepSQL {
			m = sqlModes[n%len(sqlModes)]
		}
		interrupted(interruption{plan: second, step: s, mode: m}, nil, "second run")
	}

	last := tc.dryRun(t, sc.pod, sc.action)
	_, err := tc.watchedRun(t, sc.pod, sc.action, interruption{plan: last}, nil)
	if !sameError(err, sc.final) {
		t.Fatalf("last run: %v, want %v\nlogs:\n%s", err, sc.final, tc.logs.String())
	}
	checkFinal(t, tc, sc, "after resuming")
}

// localFiles says whether pod q's marker and DDL journal exist.
func (tc *testCluster) localFiles(q int) [2]bool {
	_, journal, _ := Marker{Path: filepath.Join(tc.tmp[q], "aku_start_completed")}.readDDLJournal()
	return [2]bool{tc.markerExists(q), journal}
}

// undone reports whether a local step of kind did not happen, judging by
// the marker and the journal before and after the run.
func undone(kind StepKind, before, after [2]bool) bool {
	switch kind {
	case StepWriteMarker:
		return before[0] || !after[0]
	case StepRemoveMarker:
		return !before[0] || after[0]
	case StepSaveDDL:
		return before[1] || !after[1]
	case StepClearDDL:
		return after[1]
	}
	return true
}

// sameError reports whether err is want's class (nil for nil).
func sameError(err, want error) bool {
	if want == nil {
		return err == nil
	}
	return errors.Is(err, want)
}

func keysOf(p *Plan) []stepKey {
	var out []stepKey
	for _, s := range p.Steps {
		out = append(out, keyOf(s))
	}
	return out
}
