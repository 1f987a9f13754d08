package health_test

import (
	"context"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aku-project/aku/altisim"
	"github.com/aku-project/aku/podlife/health"
	"github.com/aku-project/aku/replication"
)

// TestStatusHealthy observes a full mesh of three pods from each pod while
// every server's SYSDBA slot is held by someone else: status reads every
// server through ordinary sessions, finds nothing wrong, and reports each
// side built, started, sending and receiving, with a known gap.
func TestStatusHealthy(t *testing.T) {
	m := newMesh(t, 3)
	m.startAll(t, 3)
	for q := 0; q < 3; q++ {
		release := m.c.Server(m.host(q)).Faults().HoldSysdba()
		defer release()
	}
	for q := 0; q < 3; q++ {
		r := m.status(t, q, false)
		if r.Health != health.Healthy || len(r.Findings) != 0 {
			t.Fatalf("from pod %d: %s, findings %v; want healthy", q, r.Health, kinds(r))
		}
		if r.Pod != m.pod(q) || r.Ordinal != q || len(r.Servers) != 3 || len(r.Pairs) != 3 {
			t.Fatalf("from pod %d: pod %q ordinal %d, %d servers, %d pairs", q, r.Pod, r.Ordinal, len(r.Servers), len(r.Pairs))
		}
		for _, s := range r.Servers {
			role := map[bool]string{true: "master", false: "slave"}[s.Ordinal == 0]
			if s.State != health.StateOpen || *s.AdminMode != 0 || s.Role != role || s.Self != (s.Ordinal == q) || s.LogFile == nil || s.ViaSysdba {
				t.Errorf("from pod %d: server %+v", q, s)
			}
			if s.Self != (s.Marker != nil) || s.Self && (!*s.Marker || *s.Start != health.StartCompleted) {
				t.Errorf("from pod %d: server %d marker %v start %v", q, s.Ordinal, s.Marker, s.Start)
			}
		}
		waitReceivers(t, m, q)
	}
}

// waitReceivers waits until every side seen from pod q has its peer's
// sender connected (a receiver appears at the peer's handshake), then
// checks each side in full.
func waitReceivers(t *testing.T, m *mesh, q int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := m.status(t, q, false)
		bad := ""
		for _, p := range r.Pairs {
			for _, s := range p.Sides {
				switch {
				case !s.Read || !*s.Exists || !*s.MatchesConfig || !*s.Started || *s.XSN < 0:
					bad = p.Name + ": not built"
				case s.Sender == nil || s.Sender.Status != "RUN" || s.Sender.NetError:
					bad = p.Name + ": sender not running"
				case s.GapBytes == nil || s.HeldLogFiles == nil || s.Sync == nil || len(s.Sync) != 0 || s.GivenUp != nil:
					bad = p.Name + ": gap, held files or SYNC wrong"
				case !*s.Receiver:
					bad = p.Name + ": no receiver"
				}
			}
		}
		if bad == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("from pod %d: %s in %+v", q, bad, r.Pairs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestStatusFindings builds each finding on a running mesh and checks
// that status reports exactly it, and for those whose fix is SQL, that the
// fix clears it.
func TestStatusFindings(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, m *mesh)
		from  int
		want  []string
		// fix is the fix's statements and the pod they run on; after it
		// the findings are empty.
		fix    []string
		fixPod int
	}{
		{
			name:  "half-built pair: a side stopped",
			setup: func(t *testing.T, m *mesh) { m.mustSQL(t, 2, "ALTER REPLICATION AKU_REP_12 STOP") },
			from:  0,
			want:  []string{"half-built 2 AKU_REP_12"},
			fix:   []string{"ALTER REPLICATION AKU_REP_12 START"}, fixPod: 2,
		},
		{
			name: "half-built pair: a side missing",
			setup: func(t *testing.T, m *mesh) {
				m.mustSQL(t, 0, "ALTER REPLICATION AKU_REP_02 STOP", "DROP REPLICATION AKU_REP_02")
			},
			from: 1,
			want: []string{"half-built 0 AKU_REP_02"},
		},
		{
			name: "stale peer: a pod gone without end",
			setup: func(t *testing.T, m *mesh) {
				if err := m.c.RemoveServer(m.host(2)); err != nil {
					t.Fatal(err)
				}
			},
			from: 1,
			want: []string{"stale-peer 0 AKU_REP_02", "stale-peer 1 AKU_REP_12"},
		},
		{
			name: "configuration drift: a side rebuilt toward another port",
			setup: func(t *testing.T, m *mesh) {
				m.mustSQL(t, 1, "ALTER REPLICATION AKU_REP_12 STOP", "DROP REPLICATION AKU_REP_12",
					"CREATE REPLICATION AKU_REP_12 WITH 'altibase-sts-2.altibase-svc', 20399 FROM SYS.T1 TO SYS.T1")
			},
			from: 2,
			want: []string{"drift 1 AKU_REP_12", "half-built 1 AKU_REP_12"},
		},
		{
			name: "server down: a pod whose name resolves",
			setup: func(t *testing.T, m *mesh) {
				if err := m.c.Crash(m.host(1)); err != nil {
					t.Fatal(err)
				}
			},
			from: 0,
			want: []string{"unreachable 1 "},
		},
		{
			name:  "server not answering: its connects hang",
			setup: func(t *testing.T, m *mesh) { m.c.SetHostFault(m.host(2), altisim.HostBlackhole) },
			from:  1,
			want:  []string{"unreachable 2 "},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMesh(t, 3)
			m.startAll(t, 3)
			tt.setup(t, m)
			r := m.status(t, tt.from, false)
			if got := kinds(r); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("findings %q, want %q; report: %+v", got, tt.want, r.Findings)
			}
			if r.Health != health.Degraded {
				t.Errorf("health %s, want degraded", r.Health)
			}
			for _, f := range r.Findings {
				if f.Message == "" || f.Fix == "" {
					t.Errorf("finding %+v: no message or fix", f)
				}
			}
			if tt.fix != nil {
				if !strings.Contains(r.Findings[0].Fix, strings.Join(tt.fix, "; ")) {
					t.Fatalf("fix %q does not say %q", r.Findings[0].Fix, strings.Join(tt.fix, "; "))
				}
				m.mustSQL(t, tt.fixPod, tt.fix...)
				waitFor(t, "the fix to clear the finding", func() bool { return len(m.status(t, tt.from, false).Findings) == 0 })
			}
		})
	}
}

// TestStalePeerFix applies the fix status gives for a stale peer, on each
// survivor, and the findings go away: the survivors no longer keep log
// for the pod that is gone.
func TestStalePeerFix(t *testing.T) {
	m := newMesh(t, 3)
	m.startAll(t, 3)
	if err := m.c.RemoveServer(m.host(2)); err != nil {
		t.Fatal(err)
	}
	r := m.status(t, 0, false)
	for _, f := range r.Findings {
		want := "on altibase-sts-" + strconv.Itoa(f.Server) + ", as SYS: ALTER REPLICATION " + f.Replication + " STOP; ALTER REPLICATION " + f.Replication + " RESET"
		if f.Kind != health.KindStalePeer || !strings.HasPrefix(f.Fix, want) {
			t.Fatalf("finding %+v; want a stale peer fixed by %q", f, want)
		}
		if release := "kubectl exec altibase-sts-" + strconv.Itoa(f.Server) + " -- aku -p release --peer 2"; !strings.Contains(f.Fix, release) {
			t.Errorf("fix %q does not offer %q", f.Fix, release)
		}
		m.mustSQL(t, f.Server, "ALTER REPLICATION "+f.Replication+" STOP", "ALTER REPLICATION "+f.Replication+" RESET")
	}
	if r := m.status(t, 0, false); len(r.Findings) != 0 || r.Health != health.Healthy {
		t.Fatalf("after the fixes: %s, %v", r.Health, kinds(r))
	}
	if s := side(t, m.status(t, 1, false), "AKU_REP_12", 1); *s.Started || *s.XSN != -1 || s.GapBytes != nil || s.HeldLogFiles != nil {
		t.Fatalf("after the fix, side %+v; want stopped, reset, gap and held files unknown", s)
	}
}

// TestStatusAdminMode reports a server in ADMIN_MODE = 1: without --sysdba
// as not open (start running or failed); with --sysdba read through
// SYSDBA when no start holds its session (admin-mode: the start failed or
// never ran), and as starting when its SYSDBA session is taken. Its own
// pod, which knows from its progress file that no start runs, reports
// admin-mode without --sysdba, and status never takes a SYSDBA slot of an
// open server.
func TestStatusAdminMode(t *testing.T) {
	m := newMesh(t, 3)
	m.startAll(t, 2)
	m.boot(t, 2)
	tests := []struct {
		name   string
		from   int
		sysdba bool
		hold   bool
		state  health.State
		want   []string
	}{
		{"without --sysdba", 0, false, false, health.StateNotOpen, []string{"not-open 2 "}},
		{"with --sysdba", 0, true, false, health.StateAdminMode, []string{"admin-mode 2 "}},
		{"with --sysdba, its SYSDBA session taken", 1, true, true, health.StateStarting, []string{}},
		{"its own pod, no start running", 2, false, false, health.StateNotOpen, []string{"admin-mode 2 "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.hold {
				release := m.c.Server(m.host(2)).Faults().HoldSysdba()
				defer release()
			}
			for _, q := range []int{0, 1} {
				release := m.c.Server(m.host(q)).Faults().HoldSysdba()
				defer release()
			}
			r := m.status(t, tt.from, tt.sysdba)
			if got := kinds(r); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("findings %q, want %q", got, tt.want)
			}
			s := r.Servers[2]
			if s.State != tt.state || s.ViaSysdba != (tt.state == health.StateAdminMode) {
				t.Fatalf("server 2: %+v; want state %s", s, tt.state)
			}
			if tt.state == health.StateAdminMode && *s.AdminMode != 1 {
				t.Fatalf("server 2 read as SYSDBA: ADMIN_MODE %v", s.AdminMode)
			}
			for _, q := range []int{0, 1} {
				if r.Servers[q].State != health.StateOpen || r.Servers[q].ViaSysdba {
					t.Fatalf("server %d: %+v; want open, read without SYSDBA", q, r.Servers[q])
				}
			}
			want := health.Degraded
			if len(tt.want) == 0 {
				want = health.Healthy
			}
			if r.Health != want {
				t.Fatalf("health %s, want %s", r.Health, want)
			}
		})
	}
}

// TestStatusUnknown: when this pod's own server cannot be read, status
// cannot tell (health unknown), whatever it saw of the others.
func TestStatusUnknown(t *testing.T) {
	m := newMesh(t, 2)
	m.startAll(t, 2)
	if err := m.c.Crash(m.host(1)); err != nil {
		t.Fatal(err)
	}
	r := m.status(t, 1, false)
	if r.Health != health.Unknown || r.Servers[1].State != health.StateRefused || r.Servers[0].State != health.StateOpen {
		t.Fatalf("health %s, servers %+v; want unknown with this pod's server refused", r.Health, r.Servers)
	}
}

// TestStatusSyncInProgress watches a new slave's start from the master and
// from the slave itself while the master's SYNC copies rows slowly: the
// master's side shows the SYNC's progress and its sender in SYNC, the new
// pod is starting (its own status knows from the progress file), and
// nothing is a finding; once the start is done the mesh is healthy.
func TestStatusSyncInProgress(t *testing.T) {
	m := newMesh(t, 3)
	m.startAll(t, 2)
	m.slowSync(t, 40, 15*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w := &health.Watcher{Path: health.ProgressPath(m.markerPath(2)), Dialer: m.dialer(false), Interval: 20 * time.Millisecond}
	done := make(chan error, 1)
	go func() { done <- m.start(t, ctx, 2, w) }()

	waitFor(t, "the SYNC to show on the master's side", func() bool {
		select {
		case err := <-done:
			t.Fatalf("the start ended before its SYNC was seen: %v", err)
		default:
		}
		s := side(t, m.status(t, 0, false), "AKU_REP_02", 0)
		return len(s.Sync) == 1 && s.Sync[0].Table == "T1" && s.Sync[0].Records > 0 && s.Sender != nil && s.Sender.Status == "SYNC"
	})
	from0 := m.status(t, 0, true)
	from2 := m.status(t, 2, false)
	for _, r := range []*health.Report{from0, from2} {
		if r.Servers[2].State != health.StateStarting || len(r.Findings) != 0 || r.Health != health.Healthy {
			t.Fatalf("from %s during the SYNC: server 2 %+v, findings %v, health %s", r.Pod, r.Servers[2], kinds(r), r.Health)
		}
	}
	if s := from2.Servers[2]; *s.Start != health.StartRunning || *s.Marker {
		t.Fatalf("pod 2's own start: %v, marker %v; want running, no marker", *s.Start, *s.Marker)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a healthy mesh after the start", func() bool { return m.status(t, 2, false).Health == health.Healthy })
}

// TestAssessSenders covers what the simulator cannot be made to show while
// both servers stay readable: a sender that gave up (SYS_REPLICATIONS_
// records a GIVE_UP_TIME; give-ups are not modelled) and a started side
// whose sender does not run or lost its peer. The observation is built by
// hand; Assess is a pure function of it.
func TestAssessSenders(t *testing.T) {
	tests := []struct {
		name   string
		change func(m *replication.Monitor)
		want   []string
		msg    string
		fix    string
	}{
		{"healthy", func(*replication.Monitor) {}, []string{}, "", ""},
		{"given up", func(m *replication.Monitor) {
			m.GiveUps["AKU_REP_01"] = replication.GiveUp{Time: "2024-03-18 14:01:59", XSN: 90}
		}, []string{"sender-given-up 0 AKU_REP_01"}, "gave up sending at 2024-03-18 14:01:59 (GIVE_UP_XSN 90)", "kubectl exec altibase-sts-1 -- aku -p end"},
		{"sender retrying", func(m *replication.Monitor) {
			m.Senders["AKU_REP_01"] = replication.Sender{Status: replication.SenderRetry, NetError: true, XSN: 100}
		}, []string{"sender-down 0 AKU_REP_01"}, "its sender is RETRY (network error)", "ALTER REPLICATION AKU_REP_01 STOP; ALTER REPLICATION AKU_REP_01 START"},
		{"no sender", func(m *replication.Monitor) {
			delete(m.Senders, "AKU_REP_01")
			delete(m.Gaps, "AKU_REP_01")
		}, []string{"sender-down 0 AKU_REP_01"}, "no sender runs", "check the network"},
	}
	cfg := meshConfig(2)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs := health.Observation{At: time.Unix(1700000000, 0), Self: health.SelfView{Marker: true}}
			for q := 0; q < 2; q++ {
				peer := 1 - q
				st := replication.State{Name: "AKU_REP_01", XSN: 100, Started: true, ItemCount: 1,
					PeerHost: "altibase-sts-" + strconv.Itoa(peer) + ".altibase-svc", PeerPort: 20301, Items: cfg.Groups[0].Items}
				mon := replication.Monitor{
					Senders:   map[string]replication.Sender{"AKU_REP_01": {Status: replication.SenderRun, XSN: 100}},
					Receivers: map[string]replication.Receiver{"AKU_REP_01": {}},
					Gaps:      map[string]replication.Gap{"AKU_REP_01": {Bytes: 0, ReadFile: 3}},
					GiveUps:   map[string]replication.GiveUp{}, LogFile: 3,
				}
				if q == 0 {
					tt.change(&mon)
				}
				obs.Servers = append(obs.Servers, health.ServerView{Ordinal: q, Host: "altibase-sts-" + strconv.Itoa(q) + ".altibase-svc",
					State: health.StateOpen, AdminMode: 0, Objects: map[string]replication.State{"AKU_REP_01": st}, Monitor: mon})
			}
			r := health.Assess(cfg, (&mesh{cfg: cfg}).identity(t, 1), obs)
			if got := kinds(r); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("findings %q, want %q", got, tt.want)
			}
			if len(tt.want) == 0 {
				if r.Health != health.Healthy {
					t.Fatalf("health %s", r.Health)
				}
				return
			}
			if f := r.Findings[0]; r.Health != health.Degraded || !strings.Contains(f.Message, tt.msg) || !strings.Contains(f.Fix, tt.fix) {
				t.Fatalf("health %s, finding %+v; want degraded, %q, fix %q", r.Health, f, tt.msg, tt.fix)
			}
			s := side(t, r, "AKU_REP_01", 0)
			if g := s.GivenUp; tt.name == "given up" && (g == nil || g.Time != "2024-03-18 14:01:59" || *g.XSN != 90) {
				t.Fatalf("side givenUp %+v", g)
			}
			if tt.name == "no sender" && (s.Sender != nil || s.GapBytes != nil || s.HeldLogFiles != nil) {
				t.Fatalf("side without a sender: %+v; want sender, gap and held files unknown", s)
			}
		})
	}
}

// waitFor polls ok every 10 ms for 10 s at most.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: timed out", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
