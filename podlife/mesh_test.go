package podlife

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aku-project/aku/replication"
)

// Pods 0 and 1 ran with AKU_SERVER_COUNT = 2; the configuration is raised
// to 3 and pod 2 starts. Pod 1 has no AKU_REP_12: pod 2's start builds it
// there (docs/behaviour.md, "Half-built pairs"), so a row written on pod 1
// afterwards reaches pod 2.
func TestStartBuildsHalfBuiltPairAfterServerCountRaised(t *testing.T) {
	tc := newTestCluster(t, flowConfig(2))
	tc.startAll(t, 2)
	tc.cfg = flowConfig(3)
	tc.data = append(tc.data, t.TempDir())
	tc.tmp = append(tc.tmp, t.TempDir())
	tc.boot(t, 2)
	p := tc.mustRun(t, 2, ActionStart)
	var plan strings.Builder
	if err := p.Format(&plan); err != nil {
		t.Fatal(err)
	}
	if want := "[" + tc.host(1) + "] CREATE REPLICATION AKU_REP_12"; !strings.Contains(plan.String(), want) {
		t.Errorf("the plan does not say %q:\n%s", want, plan.String())
	}
	tc.checkStarted(t, 2, 0, 1, 2)
	tc.checkStarted(t, 1, 0, 1, 2)
	tc.insert(t, 1, 100, 105)
	tc.insert(t, 2, 200, 205)
	for q := 0; q < 3; q++ {
		tc.waitRows(t, q, expectRows([3]int{0, 0, 10}, [3]int{1, 100, 105}, [3]int{2, 200, 205}))
	}
}

// A running peer whose object toward a starting slave was dropped by hand:
// a fresh start builds it again; a rejoin refuses, since that peer kept no
// restart point for the rows written on it meanwhile.
func TestStartWithPeerObjectDropped(t *testing.T) {
	tc := newTestCluster(t, flowConfig(3))
	tc.startAll(t, 3)
	// Pod 2 crashes (its objects keep their restart points); on pod 1 the
	// pair with pod 2 is dropped by hand.
	if err := tc.c.Crash(tc.host(2)); err != nil {
		t.Fatal(err)
	}
	tc.mustSQL(t, 1, "ALTER REPLICATION AKU_REP_12 STOP")
	tc.mustSQL(t, 1, "DROP REPLICATION AKU_REP_12")
	tc.boot(t, 2)
	_, err := tc.run(t, 2, ActionStart)
	if !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "AKU_REP_12 (missing on "+tc.host(1)) {
		t.Fatalf("rejoin with the peer's side dropped: %v, want ErrUnsafe naming AKU_REP_12 on pod 1", err)
	}
	// The advised way: end (which resets), then a fresh start.
	if _, err := tc.run(t, 2, ActionEnd); err != nil {
		t.Fatalf("end: %v", err)
	}
	tc.mustRun(t, 2, ActionStart)
	tc.checkStarted(t, 2, 0, 1, 2)
	tc.checkStarted(t, 1, 0, 1, 2)
	tc.insert(t, 1, 100, 105)
	for q := 0; q < 3; q++ {
		tc.waitRows(t, q, expectRows([3]int{0, 0, 10}, [3]int{1, 100, 105}))
	}
}

// An object whose items differ from aku.conf (a table added to
// REPLICATIONS while the set runs) is refused before anything changes,
// with the procedure that rebuilds the pair.
func TestStartRefusesDrift(t *testing.T) {
	tc := newTestCluster(t, flowConfig(2))
	tc.startAll(t, 2)
	if err := tc.c.Crash(tc.host(1)); err != nil {
		t.Fatal(err)
	}
	tc.boot(t, 1)
	cfg := flowConfig(2)
	cfg.Groups[0].Items = cfg.Groups[0].Items[:1]
	tc.cfg = cfg
	before := tc.state(t, 1)
	_, err := tc.run(t, 1, ActionStart)
	if !errors.Is(err, ErrUnsafe) {
		t.Fatalf("start with drift: %v, want ErrUnsafe", err)
	}
	for _, want := range []string{"configuration drift", "AKU_REP_01 on " + tc.host(1) + " replicates SYS.T1, SYS.T2, aku.conf says SYS.T1",
		"on pod altibase-sts-1 run aku -p end, then aku -p clean", "DROP REPLICATION AKU_REP_01"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if after := tc.state(t, 1); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("refused start changed pod 1:\nbefore %+v\nafter  %+v", before, after)
	}
}

// The closing check reads the servers again before the server opens: a
// pair that is not started on both sides by then (here pod 1's side of
// AKU_REP_12, stopped behind aku's back right after aku's last statement
// there) fails the start with ErrIncomplete, leaves the server closed and
// writes no marker, so that running the start again finishes the pair.
func TestClosingCheckFindsHalfBuiltPair(t *testing.T) {
	tc := newTestCluster(t, flowConfig(3))
	tc.startAll(t, 3)
	if err := tc.c.Crash(tc.host(2)); err != nil {
		t.Fatal(err)
	}
	tc.boot(t, 2)
	in := tc.input(t, 2, ActionStart)
	in.Connector = stopAfter{Connector: in.Connector, host: tc.host(1),
		after: "ALTER REPLICATION AKU_REP_12 FLUSH WAIT 5", stmt: "ALTER REPLICATION AKU_REP_12 STOP"}
	_, err := Run(context.Background(), in)
	if !errors.Is(err, ErrIncomplete) || !strings.Contains(err.Error(), "AKU_REP_12 is not started on "+tc.host(1)) {
		t.Fatalf("start: %v, want ErrIncomplete naming AKU_REP_12 on pod 1", err)
	}
	if st := tc.state(t, 2); st.Marker || st.AdminMode != 1 {
		t.Errorf("after the failed check pod 2 has marker %v, ADMIN_MODE %d; want no marker, 1", st.Marker, st.AdminMode)
	}
	tc.mustRun(t, 2, ActionStart)
	tc.checkStarted(t, 2, 0, 1, 2)
	tc.checkStarted(t, 1, 0, 1, 2)
}

// stopAfter runs stmt on host's session right after aku's statement after
// succeeded there, as an operator acting behind aku's back would.
type stopAfter struct {
	Connector
	host, after, stmt string
}

func (c stopAfter) Connect(ctx context.Context, host string) (Session, error) {
	s, err := c.Connector.Connect(ctx, host)
	if err != nil || host != c.host {
		return s, err
	}
	return hookedSession{Session: s, after: c.after, stmt: c.stmt}, nil
}

type hookedSession struct {
	Session
	after, stmt string
}

func (s hookedSession) Exec(ctx context.Context, stmt string) error {
	if err := s.Session.Exec(ctx, stmt); err != nil || stmt != s.after {
		return err
	}
	return s.Session.Exec(ctx, s.stmt)
}

// The MASTER-failure rule (docs/behaviour.md, "Master failure") over every
// combination of 1–5 answering slaves, each open to users or not, with the
// MASTER's object toward it and its object toward the MASTER each holding a
// restart point or not. The oracle is the documented rule; the test also
// checks how it relates to the vendor's (any answering slave toward which
// the MASTER's object is −1): aku never reports a failure the vendor's rule
// would not, and differs only for slaves that hold no restart point toward
// the MASTER.
func TestMasterFailureRuleTable(t *testing.T) {
	for n := 1; n <= 5; n++ {
		cfg := testConfig(n+1, 1)
		for combo := 0; combo < 1<<(3*n); combo++ {
			views := []ServerView{}
			var masterObjs []replication.State
			var masterFail, slaveFail, vendorFail, vendorOnly bool
			slaves := []ServerView{}
			for q := 1; q <= n; q++ {
				bits := combo >> (3 * (q - 1))
				open, m, s := bits&1 == 1, bits&2 == 2, bits&4 == 4
				name := replication.ObjectName("AKU_REP", 0, q)
				masterObjs = append(masterObjs, state(name, m))
				var objs []replication.State
				for _, o := range replication.Objects(cfg, q) {
					objs = append(objs, state(o.Name, s))
				}
				admin := int64(1)
				if open {
					admin = 0
				}
				slaves = append(slaves, up(admin, objs...))
				switch {
				case !m && s:
					masterFail = true
				case m && !s && open:
					slaveFail = true
				}
				if !m {
					vendorFail = true
					if !s {
						vendorOnly = true
					}
				}
			}
			views = append(append(views, up(1, masterObjs...)), slaves...)
			p, err := BuildPlan(ActionStart, cfg, testIdentity(t, cfg, 0), observation(cfg, views...))
			label := fmt.Sprintf("%d slaves, combo %b", n, combo)
			switch {
			case masterFail:
				if err != nil || p.Failure == nil || !errors.Is(p.Failure, ErrMasterFailure) {
					t.Fatalf("%s: plan %v, error %v; want a master failure", label, p.Path, err)
				}
			case slaveFail:
				if !errors.Is(err, ErrSlaveFailure) {
					t.Fatalf("%s: error %v, want a slave failure", label, err)
				}
			default:
				if err != nil || p.Failure != nil {
					t.Fatalf("%s: error %v, failure %v; want a master start", label, err, p.Failure)
				}
			}
			if masterFail && !vendorFail {
				t.Fatalf("%s: aku reports a master failure the vendor's rule would not", label)
			}
			if vendorFail && !masterFail && !vendorOnly {
				t.Fatalf("%s: the vendor's rule fails here and aku does not, yet every such slave holds a restart point", label)
			}
		}
	}
}

// state is an object with a restart point (started, XSN 70) or without one
// (stopped, XSN −1).
func state(name string, has bool) replication.State {
	if has {
		return obj(name, 70, true)
	}
	return obj(name, -1, false)
}
