package manager

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aku-project/aku/internal/retry"
	"github.com/aku-project/aku/podlife"
	"github.com/aku-project/aku/podlife/health"
)

// snapshot is the outcome of one check: one observation of the mesh
// through ordinary sessions, and the report made of it.
type snapshot struct {
	obs      health.Observation
	report   *health.Report
	duration time.Duration
}

// checker runs the check every interval in one goroutine and keeps the
// last snapshot; the endpoints and the metrics answer from it and never
// touch a server.
type checker struct {
	in       health.Input
	interval time.Duration
	// after is called with each new snapshot, in the checker's goroutine.
	after func(*snapshot)

	mu          sync.RWMutex
	last        *snapshot
	lastSuccess time.Time // the last check that read this pod's server
	began       time.Time // the check that runs began then; zero between checks
	beat        time.Time // the loop's last sign of life: a check began or ended
}

// run checks until ctx ends: at once, then interval after each check ended.
func (c *checker) run(ctx context.Context) {
	c.mu.Lock()
	c.beat = time.Now()
	c.mu.Unlock()
	for {
		c.once(ctx)
		if retry.Sleep(ctx, c.interval) != nil {
			return
		}
	}
}

// once runs one check and keeps its snapshot.
func (c *checker) once(ctx context.Context) {
	begin := time.Now()
	c.mu.Lock()
	c.began, c.beat = begin, begin
	c.mu.Unlock()
	obs := health.Observe(ctx, c.in)
	s := &snapshot{obs: obs, report: health.Assess(c.in.Config, c.in.Identity, obs), duration: time.Since(begin)}
	end := time.Now()
	c.mu.Lock()
	c.last, c.began, c.beat = s, time.Time{}, end
	if me := c.in.Identity.Ordinal; me < len(obs.Servers) && obs.Servers[me].Read() {
		c.lastSuccess = end
	}
	c.mu.Unlock()
	if c.after != nil {
		c.after(s)
	}
}

// snapshot returns the last check's snapshot; nil before the first one
// ended.
func (c *checker) snapshot() *snapshot {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.last
}

// bound is how long one check may take: the connect and, again, the reads
// of a server are each bounded by AKU_OBSERVE_TIMEOUT.
func (c *checker) bound() time.Duration { return 2*podlife.ObserveWait(c.in.Config) + time.Second }

// alive is the check loop's part of /livez: it ran within three intervals
// (a check began or ended), or the check that runs is within its bound.
func (c *checker) alive(now time.Time) (bool, string) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	switch {
	case now.Sub(c.beat) <= 3*c.interval:
		return true, ""
	case !c.began.IsZero() && now.Sub(c.began) <= c.bound():
		return true, ""
	case !c.began.IsZero():
		return false, fmt.Sprintf("not alive: aku run's check has run for %s, longer than its bound %s", now.Sub(c.began).Round(time.Second), c.bound())
	}
	return false, fmt.Sprintf("not alive: aku run's check loop has not run for %s (interval %s)", now.Sub(c.beat).Round(time.Second), c.interval)
}
