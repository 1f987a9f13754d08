package manager

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/aku-project/aku/podlife"
	"github.com/aku-project/aku/podlife/health"
	"github.com/aku-project/aku/replication"
)

// TestStalePeerRelease: pod 1 disappears without its end (its name no
// longer resolves) while pod 0's pair toward it is started. Pod 0's aku
// run exports how long the name has not resolved and, past the TTL,
// releases its pairs toward pod 1 (a lifecycle run with ActionRelease and
// Release [1], podlife's own release), logs a WARNING and counts it; the
// pair is then stopped and reset on pod 0.
func TestStalePeerRelease(t *testing.T) {
	ms := newMesh(t, 2)
	ms.boot(t, 0)
	cfg := ms.config(t, 0)
	cfg.StalePeerTTL = 300 * time.Millisecond
	var mu sync.Mutex
	var releases [][]int
	real := cfg.Lifecycle
	cfg.Lifecycle = func(ctx context.Context, a podlife.Action, d time.Time, rel []int) error {
		if a == podlife.ActionRelease {
			mu.Lock()
			releases = append(releases, slices.Clone(rel))
			mu.Unlock()
		}
		return real(ctx, a, d, rel)
	}
	r0 := run(t, cfg)
	r0.waitStatus(t, "/readyz", http.StatusOK)
	ms.boot(t, 1)
	r1 := run(t, ms.config(t, 1))
	r1.waitStatus(t, "/readyz", http.StatusOK)
	mu.Lock()
	if len(releases) != 0 {
		t.Errorf("releases while every peer resolves: %v", releases)
	}
	mu.Unlock()

	// Pod 1 is deleted without its end: its side stays, pod 0's pair is
	// still started toward a name that no longer resolves.
	r1.cancel()
	if err := ms.c.RemoveServer(ms.host(1)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the release toward pod 1", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(releases) > 0
	})
	mu.Lock()
	if !slices.Equal(releases[0], []int{1}) {
		t.Errorf("released toward %v, want [1]", releases[0])
	}
	mu.Unlock()
	var fams map[string]*dto.MetricFamily
	waitFor(t, "the release counted", func() bool {
		fams = scrape(t, r0)
		return value(fams, "aku_peer_released_total", "peer", "altibase-sts-1") == 1
	})
	// The pair is released on pod 0: stopped, no restart point.
	waitFor(t, "pod 0's side of AKU_REP_01 released", func() bool {
		return value(scrape(t, r0), "altibase_replication_restart_xsn", "replication", "AKU_REP_01") == -1 &&
			value(scrape(t, r0), "altibase_replication_started", "replication", "AKU_REP_01") == 0
	})
	if got := value(fams, "aku_peer_unresolved_seconds", "peer", "altibase-sts-1"); got < cfg.StalePeerTTL.Seconds() {
		t.Errorf("aku_peer_unresolved_seconds{altibase-sts-1} = %v, want past the TTL", got)
	}
	if !strings.Contains(r0.log.String(), "level=WARN") || !strings.Contains(r0.log.String(), "has not resolved for more than 300ms") {
		t.Errorf("no WARNING about the release:\n%s", r0.log)
	}
}

// TestStaleTracker: a peer counts as stale only while its name does not
// resolve (absent; not a peer that refuses or does not answer), never
// before this pod's start completed, and only with a pair held toward it.
func TestStaleTracker(t *testing.T) {
	ms := newMesh(t, 3)
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	obs := func(after time.Duration, marker bool, states ...health.State) health.Observation {
		o := health.Observation{At: at.Add(after), Self: health.SelfView{Marker: marker}}
		for q, st := range states {
			v := health.ServerView{Ordinal: q, State: st, AdminMode: -1}
			if q == 0 {
				v.Objects = map[string]replication.State{"AKU_REP_01": {Name: "AKU_REP_01", Started: true, XSN: 5}, "AKU_REP_02": {Name: "AKU_REP_02", XSN: -1}}
			}
			o.Servers = append(o.Servers, v)
		}
		return o
	}
	tr := &staleTracker{ttl: time.Minute, cfg: ms.cfg, me: 0}
	for _, c := range []struct {
		after   time.Duration
		started bool
		marker  bool
		states  []health.State
		want    []int
	}{
		{0, true, true, []health.State{health.StateOpen, health.StateAbsent, health.StateAbsent}, nil},
		{30 * time.Second, true, true, []health.State{health.StateOpen, health.StateAbsent, health.StateRefused}, nil},
		{2 * time.Minute, false, true, []health.State{health.StateOpen, health.StateAbsent, health.StateAbsent}, nil}, // start not completed
		{2 * time.Minute, true, false, []health.State{health.StateOpen, health.StateAbsent, health.StateAbsent}, nil}, // no marker
		// Pod 1 absent for 2 min with AKU_REP_01 started: due. Pod 2 was
		// refused in between (it resolved), so its time starts again, and
		// no pair is held toward it anyway.
		{2*time.Minute + time.Second, true, true, []health.State{health.StateOpen, health.StateAbsent, health.StateAbsent}, []int{1}},
		{2*time.Minute + 2*time.Second, true, true, []health.State{health.StateOpen, health.StateAbsent, health.StateAbsent}, nil}, // asked for already
		{4 * time.Minute, true, true, []health.State{health.StateOpen, health.StateAbsent, health.StateAbsent}, []int{1}},          // again after another TTL
	} {
		if got := tr.observe(obs(c.after, c.marker, c.states...), c.started); !slices.Equal(got, c.want) {
			t.Errorf("at +%v (started %v, marker %v, %v): release %v, want %v", c.after, c.started, c.marker, c.states, got, c.want)
		}
	}
	if u := tr.unresolved(at.Add(4 * time.Minute)); u["altibase-sts-1"] != 4*time.Minute || u["altibase-sts-2"] != 2*time.Minute {
		t.Errorf("unresolved = %v", u)
	}
}
