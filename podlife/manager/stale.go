package manager

import (
	"strconv"
	"sync"
	"time"

	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/podlife/health"
	"github.com/aku-project/aku/replication"
)

// staleTracker follows, per peer, since when its name has not resolved
// (NXDOMAIN: health.StateAbsent; a peer that does not answer or refuses
// is not stale), and says when the pairs toward one are to be released
// (docs/run.md, "Stale peers").
type staleTracker struct {
	ttl time.Duration
	cfg *conf.Config
	me  int

	mu        sync.Mutex
	since     map[int]time.Time // peer → first check that found it absent
	requested map[int]time.Time // peer → when its release was last asked for
}

// observe records an observation and returns the peers whose pairs to
// release: absent for longer than the TTL, with a pair this pod still
// holds (started, or with a restart point). started is false while this
// pod's own start has not completed: then nothing is released.
func (t *staleTracker) observe(obs health.Observation, started bool) []int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.since == nil {
		t.since, t.requested = map[int]time.Time{}, map[int]time.Time{}
	}
	var due []int
	for q, v := range obs.Servers {
		if q == t.me {
			continue
		}
		if v.State != health.StateAbsent {
			delete(t.since, q)
			continue
		}
		if _, ok := t.since[q]; !ok {
			t.since[q] = obs.At
		}
		if t.ttl <= 0 || !started || !obs.Self.Marker || obs.At.Sub(t.since[q]) <= t.ttl {
			continue
		}
		// A release that failed is asked for again after another TTL.
		if last, ok := t.requested[q]; ok && obs.At.Sub(last) <= t.ttl {
			continue
		}
		if t.holds(obs, q) {
			t.requested[q] = obs.At
			due = append(due, q)
		}
	}
	return due
}

// holds reports whether this pod's server, as observed, keeps a pair
// toward peer q: started, or with a restart point.
func (t *staleTracker) holds(obs health.Observation, q int) bool {
	if t.me >= len(obs.Servers) || !obs.Servers[t.me].Read() {
		return false
	}
	self := obs.Servers[t.me]
	for _, o := range replication.Objects(t.cfg, t.me) {
		if st, ok := self.Objects[o.Name]; ok && o.Peer == q && (st.Started || st.XSN != -1) {
			return true
		}
	}
	return false
}

// unresolved returns, per peer name, how long it has not resolved, as of
// now.
func (t *staleTracker) unresolved(now time.Time) map[string]time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]time.Duration, len(t.since))
	for q, since := range t.since {
		out[t.peerName(q)] = now.Sub(since)
	}
	return out
}

// peerName is the pod name of ordinal q.
func (t *staleTracker) peerName(q int) string { return t.cfg.StsName + "-" + strconv.Itoa(q) }
