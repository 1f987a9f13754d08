package podlife

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aku-project/aku/altisim"
	"github.com/aku-project/aku/replication"
)

// goneSlave starts pods 0..2 with rows on every pod, then removes pod 2
// for good: its server is gone and its name no longer resolves, as a
// deleted pod whose DNS record is withdrawn. The survivors keep their
// started sides toward it, with restart points, and write on.
func goneSlave(t *testing.T, tc *testCluster) {
	t.Helper()
	tc.startAll(t, 3)
	tc.insert(t, 2, 20, 23)
	tc.waitRows(t, 0, expectRows([3]int{0, 0, 10}, [3]int{2, 20, 23}))
	if err := tc.c.RemoveServer(tc.host(2)); err != nil {
		t.Fatal(err)
	}
	tc.insert(t, 0, 30, 33)
	tc.insert(t, 1, 40, 43)
	for q := 0; q < 2; q++ {
		tc.waitRows(t, q, expectRows([3]int{0, 0, 10}, [3]int{2, 20, 23}, [3]int{0, 30, 33}, [3]int{1, 40, 43}))
	}
}

// repState is one object on pod q: whether it runs, its restart point, and
// whether V$REPSENDER shows a sender for it.
func (tc *testCluster) repState(t *testing.T, q int, name string) (started bool, xsn string, sender bool) {
	t.Helper()
	r := tc.mustSQL(t, q, "SELECT IS_STARTED, XSN FROM SYSTEM_.SYS_REPLICATIONS_ WHERE REPLICATION_NAME = '"+name+"'")
	if len(r.Rows) != 1 {
		t.Fatalf("pod %d: %s: %d rows", q, name, len(r.Rows))
	}
	s := tc.mustSQL(t, q, "SELECT REP_NAME FROM V$REPSENDER WHERE REP_NAME = '"+name+"'")
	return fmt.Sprint(r.Rows[0][0]) == "1", fmt.Sprint(r.Rows[0][1]), len(s.Rows) > 0
}

// runInput runs one lifecycle command with in.
func runInput(t *testing.T, in Input) (*Plan, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return Run(ctx, in)
}

// release runs aku -p release --peer peers on pod q.
func (tc *testCluster) release(t *testing.T, q int, peers ...int) (*Plan, error) {
	t.Helper()
	in := tc.input(t, q, ActionRelease)
	in.Release = peers
	return runInput(t, in)
}

// A release frees this pod's side of each pair with the gone pod (its
// sender stops, its restart point is forgotten), logs a WARNING per pair,
// and touches nothing else: not the other pairs, not the other pods, not
// the marker. Run again, it has nothing to do.
func TestReleaseGonePeer(t *testing.T) {
	tc := newTestCluster(t, flowConfig(3))
	goneSlave(t, tc)
	if started, xsn, sender := tc.repState(t, 0, "AKU_REP_02"); !started || xsn == "-1" || !sender {
		t.Fatalf("before the release, pod 0's AKU_REP_02: started %v, XSN %s, sender %v; want a started side with a restart point", started, xsn, sender)
	}
	before1 := tc.state(t, 1)
	tc.logs.Reset()
	p, err := tc.release(t, 0, 2, 2)
	if err != nil {
		t.Fatalf("release: %v\n%s", err, tc.logs.String())
	}
	if p.Path != PathRelease {
		t.Errorf("path %q, want %q", p.Path, PathRelease)
	}
	var stmts []string
	for _, s := range p.Steps {
		if s.Server != 0 {
			t.Errorf("step %d runs on server %d: a release touches this pod only", s.ID, s.Server)
		}
		stmts = append(stmts, s.Statement)
	}
	if want := []string{"ALTER REPLICATION AKU_REP_02 STOP", "ALTER REPLICATION AKU_REP_02 RESET"}; !reflect.DeepEqual(stmts, want) {
		t.Errorf("statements %q, want %q", stmts, want)
	}
	if started, xsn, sender := tc.repState(t, 0, "AKU_REP_02"); started || xsn != "-1" || sender {
		t.Errorf("after the release, pod 0's AKU_REP_02: started %v, XSN %s, sender %v; want stopped, -1, no sender", started, xsn, sender)
	}
	if started, xsn, sender := tc.repState(t, 0, "AKU_REP_01"); !started || xsn == "-1" || !sender {
		t.Errorf("pod 0's AKU_REP_01 with running pod 1 changed: started %v, XSN %s, sender %v", started, xsn, sender)
	}
	if after1 := tc.state(t, 1); !reflect.DeepEqual(after1.Objects, before1.Objects) {
		t.Errorf("pod 1's objects changed:\n%+v\nwant\n%+v", after1.Objects, before1.Objects)
	}
	if !tc.markerExists(0) {
		t.Error("the release removed pod 0's marker")
	}
	var warned int
	for _, line := range strings.Split(tc.logs.String(), "\n") {
		if strings.Contains(line, "level=WARN") && strings.Contains(line, "Replication released: altibase-sts-2 is gone") && strings.Contains(line, "replication=AKU_REP_02") {
			warned++
		}
	}
	if warned != 1 {
		t.Errorf("%d WARNING lines for the released pair, want 1:\n%s", warned, tc.logs.String())
	}
	// Replication between the survivors goes on.
	tc.insert(t, 0, 50, 53)
	tc.waitRows(t, 1, expectRows([3]int{0, 0, 10}, [3]int{2, 20, 23}, [3]int{0, 30, 33}, [3]int{1, 40, 43}, [3]int{0, 50, 53}))

	p, err = tc.release(t, 0, 2)
	if err != nil || p.Path != PathNothing {
		t.Errorf("second release: path %v, %v; want %q", p.Path, err, PathNothing)
	}
}

// A peer that answers is not released, whatever the caller's TTL said: the
// run refuses before it changes anything.
func TestReleaseRefusedForLivePeer(t *testing.T) {
	for _, tt := range []struct {
		name  string
		fault func(tc *testCluster)
	}{
		{"running", func(*testCluster) {}},
		{"not answering", func(tc *testCluster) { tc.c.SetHostFault(tc.host(2), altisim.HostBlackhole) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tc := newTestCluster(t, flowConfig(3))
			tc.startAll(t, 3)
			tt.fault(tc)
			before := tc.state(t, 0)
			p, err := tc.release(t, 0, 2)
			if !errors.Is(err, ErrUnsafe) {
				t.Fatalf("release of a live peer: %v, want ErrUnsafe", err)
			}
			if !strings.Contains(err.Error(), tc.host(2)) || !strings.Contains(err.Error(), "a live pair is never reset") {
				t.Errorf("refusal %q does not name %s and why", err, tc.host(2))
			}
			if p == nil || len(p.Steps) != 0 {
				t.Errorf("refused release planned steps: %+v", p)
			}
			if after := tc.state(t, 0); !reflect.DeepEqual(after, before) {
				t.Errorf("refused release changed pod 0:\n%+v\nwant\n%+v", after, before)
			}
		})
	}
}

// A release names gone peers other than this pod, below AKU_SERVER_COUNT.
func TestReleaseBadPeers(t *testing.T) {
	tc := newTestCluster(t, flowConfig(3))
	tc.boot(t, 0)
	for _, peers := range [][]int{nil, {0}, {3}, {-1}, {1, 7}} {
		_, err := tc.release(t, 0, peers...)
		if !errors.Is(err, ErrBadRelease) {
			t.Errorf("release %v: %v, want ErrBadRelease", peers, err)
		}
	}
}

// --dry-run prints the release's plan and changes nothing.
func TestReleaseDryRun(t *testing.T) {
	tc := newTestCluster(t, flowConfig(3))
	goneSlave(t, tc)
	before := tc.state(t, 0)
	in := tc.input(t, 0, ActionRelease)
	in.Release = []int{2}
	var out bytes.Buffer
	in.DryRun, in.PlanOutput = true, &out
	if _, err := runInput(t, in); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"aku -p release on altibase-sts-0 (ordinal 0): release",
		"[altibase-sts-0.altibase-svc] ALTER REPLICATION AKU_REP_02 STOP",
		"[altibase-sts-0.altibase-svc] ALTER REPLICATION AKU_REP_02 RESET",
		"then warns: Replication released: altibase-sts-2 is gone",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("plan lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "AKU_REP_01") || strings.Contains(out.String(), "AKU_REP_12") {
		t.Errorf("plan touches a pair with a running pod:\n%s", out.String())
	}
	if after := tc.state(t, 0); !reflect.DeepEqual(after, before) {
		t.Errorf("dry run changed pod 0:\n%+v\nwant\n%+v", after, before)
	}
}

// A slave released by its peers comes back on its old volume. With
// AKU_STALE_PEER_TTL = 0 its start is refused as before (a rejoin would
// miss rows); with a TTL it starts afresh from the MASTER, warns what it
// loses, and ends with every row of the MASTER, as every pod does.
func TestReturnAfterRelease(t *testing.T) {
	for _, ttl := range []time.Duration{0, time.Hour} {
		t.Run(fmt.Sprint("ttl ", ttl), func(t *testing.T) {
			cfg := flowConfig(3)
			cfg.StalePeerTTL = ttl
			tc := newTestCluster(t, cfg)
			goneSlave(t, tc)
			for _, q := range []int{0, 1} {
				if _, err := tc.release(t, q, 2); err != nil {
					t.Fatalf("release on pod %d: %v", q, err)
				}
			}
			tc.boot(t, 2)
			tc.logs.Reset()
			p, err := tc.run(t, 2, ActionStart)
			if ttl == 0 {
				if !errors.Is(err, ErrUnsafe) || p.Path != PathRejoinSlave || len(p.Steps) != 0 {
					t.Fatalf("return with no TTL: path %q, %d steps, %v; want the rejoin refused (ErrUnsafe)", p.Path, len(p.Steps), err)
				}
				if st := tc.state(t, 2); st.AdminMode != 1 || st.Marker {
					t.Errorf("refused start opened pod 2: %+v", st)
				}
				return
			}
			if err != nil {
				t.Fatalf("return with a TTL: %v\n%s", err, tc.logs.String())
			}
			if p.Path != PathFreshSlave {
				t.Errorf("path %q, want %q", p.Path, PathFreshSlave)
			}
			logs := tc.logs.String()
			if !strings.Contains(logs, "level=WARN") || !strings.Contains(logs, "changes that were never sent are lost: those after the restart points AKU_REP_02 toward") {
				t.Errorf("no WARNING names the lost changes:\n%s", logs)
			}
			master := tc.rows(t, 0)
			if want := expectRows([3]int{0, 0, 10}, [3]int{2, 20, 23}, [3]int{0, 30, 33}, [3]int{1, 40, 43}); !reflect.DeepEqual(master, want) {
				t.Errorf("master rows %v, want %v", master, want)
			}
			for q := 0; q < 3; q++ {
				tc.waitRows(t, q, master)
				tc.checkStarted(t, q, 0, 1, 2)
			}
			tc.insert(t, 2, 60, 63)
			all := expectRows([3]int{0, 0, 10}, [3]int{2, 20, 23}, [3]int{0, 30, 33}, [3]int{1, 40, 43}, [3]int{2, 60, 63})
			for q := 0; q < 3; q++ {
				tc.waitRows(t, q, all)
			}
		})
	}
}

// A MASTER released by its slaves comes back on its old volume: with no
// TTL, the slave-failure rule holds as before (exit 12); with a TTL, the
// slaves went on without it, so it is a MASTER failure (exit 11) to be
// recovered from a slave: re-seeding the slaves from it would lose what
// they wrote meanwhile. Either way it stays closed to users.
func TestMasterReturnAfterRelease(t *testing.T) {
	for _, tt := range []struct {
		ttl  time.Duration
		want error
		path Path
	}{
		{0, ErrSlaveFailure, PathSlaveFailure},
		{time.Hour, ErrMasterFailure, PathMasterFailure},
	} {
		t.Run(fmt.Sprint("ttl ", tt.ttl), func(t *testing.T) {
			cfg := flowConfig(3)
			cfg.StalePeerTTL = tt.ttl
			tc := newTestCluster(t, cfg)
			tc.startAll(t, 3)
			if err := tc.c.RemoveServer(tc.host(0)); err != nil {
				t.Fatal(err)
			}
			for _, q := range []int{1, 2} {
				if _, err := tc.release(t, q, 0); err != nil {
					t.Fatalf("release on pod %d: %v", q, err)
				}
			}
			tc.insert(t, 1, 40, 43)
			slaveRows := expectRows([3]int{0, 0, 10}, [3]int{1, 40, 43})
			tc.waitRows(t, 2, slaveRows)
			tc.boot(t, 0)
			p, err := tc.run(t, 0, ActionStart)
			if !errors.Is(err, tt.want) || p.Path != tt.path {
				t.Fatalf("master's return: path %q, %v; want %q, %v", p.Path, err, tt.path, tt.want)
			}
			if st := tc.state(t, 0); st.AdminMode != 1 || st.Marker {
				t.Errorf("the returning master opened: %+v", st)
			}
			for _, q := range []int{1, 2} {
				if got := tc.rows(t, q); !reflect.DeepEqual(got, slaveRows) {
					t.Errorf("pod %d rows %v, want %v", q, got, slaveRows)
				}
			}
		})
	}
}

// BuildReleasePlan releases an absent peer only: one that answers in any
// way — up, busy, refusing, not answering, or dropping the connection it
// accepted — is refused.
func TestReleasePlanPeerClasses(t *testing.T) {
	cfg := testConfig(3, 1)
	id := testIdentity(t, cfg, 0)
	self := up(0, obj("AKU_REP_01", 5, true), obj("AKU_REP_02", 7, true))
	for _, tt := range []struct {
		name string
		peer ServerView
		ok   bool
	}{
		{"absent", ServerView{Class: ClassAbsent, Err: errors.New("no such host")}, true},
		{"up", up(0, obj("AKU_REP_02", 3, true)), false},
		{"busy", ServerView{Class: ClassSysdbaBusy, Err: replication.ErrSysdbaBusy}, false},
		{"refused", ServerView{Class: ClassRefused, Err: replication.ErrRefused}, false},
		{"not answering", ServerView{Class: ClassNotAnswering, Err: replication.ErrNoAnswer}, false},
		{"dropped", ServerView{Class: ClassAbsent, Dropped: true, Err: replication.ErrUnreachable}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			obs := Observation{Servers: []ServerView{self, up(0, obj("AKU_REP_01", 5, true)), tt.peer}}
			for q := range obs.Servers {
				obs.Servers[q].Ordinal, obs.Servers[q].Host = q, PeerHost(cfg, q)
			}
			p, err := BuildReleasePlan(cfg, id, obs, []int{2})
			switch {
			case tt.ok && (err != nil || p.Statements() != 2):
				t.Errorf("release: %v, %d statements; want STOP and RESET", err, p.Statements())
			case !tt.ok && (!errors.Is(err, ErrUnsafe) || len(p.Steps) != 0):
				t.Errorf("release: %v, %d steps; want ErrUnsafe and no step", err, len(p.Steps))
			}
		})
	}
}
