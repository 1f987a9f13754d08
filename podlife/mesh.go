package podlife

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/replication"
)

// A start builds every pair of this pod with every reachable running peer
// on both sides (docs/behaviour.md, "Half-built pairs"), and checks at the
// end that it did (checkBuilt). A running peer is one open to users
// (ADMIN_MODE = 0): its own start has completed. A peer still in
// ADMIN_MODE = 1 is starting (or its start failed); its own start builds
// its side, and aku leaves it alone: creating or starting its objects now
// would make that start take the rejoin path and skip its SYNC.

// sideKind says what a start does with the peer's side of a pair.
type sideKind int

const (
	sideSkip     sideKind = iota // the peer is not reachable, or its own start builds its side
	sideExists                   // a running peer has its side
	sideMissing                  // a running peer lacks its side: this start creates it there
	sideStarting                 // a peer still starting has its side: only this pod's side is started
)

// running reports whether server q answered and is open to users.
func (b *planner) running(q int) bool {
	v := b.obs.Servers[q]
	return v.Reachable && v.AdminMode == 0
}

// member reports whether peer q holds any of aku's objects of pr's group
// toward any pod: a running peer with none of them was cleaned (aku -p
// clean: it no longer replicates) or never started by aku, and a start
// leaves it alone.
func (b *planner) member(pr pair) bool {
	return hadAny(b.obs.Servers[pr.peer], b.cfg, pr.peer, pr.group.Prefix)
}

// peerSide returns the peer's object of pair pr and what this start does
// with it, noting why a side is skipped. Only a running peer's side is
// touched: starting the side of a peer whose own start has not completed
// would give that pod a restart point, and its next start would rejoin
// instead of taking the SYNC it still needs.
func (b *planner) peerSide(pr pair) (replication.State, sideKind) {
	peer := b.obs.Servers[pr.peer]
	if !peer.Reachable {
		return replication.State{}, sideSkip
	}
	theirs, ok := peer.object(pr.name)
	switch {
	case !b.running(pr.peer):
		b.note("%s is still starting (ADMIN_MODE = %d): its own start builds and starts its side of %s", peer.Host, peer.AdminMode, pr.name)
		if ok {
			return theirs, sideStarting
		}
		return replication.State{}, sideSkip
	case ok:
		return theirs, sideExists
	case !b.member(pr):
		b.warn("%s runs but holds none of aku's %s objects (it was cleaned, or never started by aku): no pair is built with it; run aku -p start there to make it replicate again", peer.Host, pr.group.Prefix)
		return replication.State{}, sideSkip
	}
	return replication.State{XSN: -1}, sideMissing
}

// createPeerSide adds the CREATE REPLICATION of pr on its peer, pointing
// at this pod, and returns its step ID.
func (b *planner) createPeerSide(pr pair, after []int) int {
	return b.sql(pr.peer, PhaseNone, fmt.Sprintf("pod %d runs without its side of this pair (a half-built pair: AKU_SERVER_COUNT raised, or objects lost): build it", pr.peer), after, b.must(replication.CreateReplication(pr.name, PeerHost(b.cfg, b.me), b.cfg.ReplicationPortNo, pr.group.Items)))
}

// drifted lists the objects of this pod's pairs, here and on reachable
// peers, whose host, port or items differ from aku.conf
// (docs/behaviour.md, "Configuration drift"). Only what the server
// reported is compared: an object without host rows is not judged by its
// host.
func (b *planner) drifted() []string {
	var out []string
	for _, pr := range pairsOf(b.cfg, b.me) {
		sides := []struct {
			server, toward int
		}{{b.me, pr.peer}, {pr.peer, b.me}}
		for _, s := range sides {
			st, ok := b.obs.Servers[s.server].object(pr.name)
			if !ok {
				continue
			}
			if why := DriftOf(st, PeerHost(b.cfg, s.toward), b.cfg.ReplicationPortNo, pr.group.Items); why != "" {
				out = append(out, fmt.Sprintf("%s on %s %s", pr.name, b.obs.Servers[s.server].Host, why))
			}
		}
	}
	return out
}

// DriftOf says how st differs from an object toward host:port replicating
// items, or "" when it does not (docs/behaviour.md, "Configuration
// drift"). Only what the server reported is compared: an object without
// host rows is not judged by its host, one without items not by its items.
func DriftOf(st replication.State, host string, port int, items []conf.Item) string {
	var diffs []string
	if st.PeerHost != "" && (!strings.EqualFold(st.PeerHost, host) || st.PeerPort != port) {
		diffs = append(diffs, fmt.Sprintf("points at %s:%d, aku.conf says %s:%d", st.PeerHost, st.PeerPort, host, port))
	}
	if st.ItemCount > 0 && !sameItems(st.Items, items) {
		diffs = append(diffs, fmt.Sprintf("replicates %s, aku.conf says %s", itemList(st.Items), itemList(items)))
	}
	return strings.Join(diffs, " and ")
}

// sameItems compares two item lists as sets; Altibase stores unquoted
// names in upper case, so case is not significant.
func sameItems(a, b []conf.Item) bool {
	key := func(items []conf.Item) []string {
		out := make([]string, len(items))
		for i, it := range items {
			out[i] = strings.ToUpper(it.User + "." + it.Table + " " + it.Partition)
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	return slices.Equal(key(a), key(b))
}

func itemList(items []conf.Item) string {
	if len(items) == 0 {
		return "no items"
	}
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.String()
	}
	return strings.Join(out, ", ")
}

// refuseDrift returns the refusal of a start that found drifted objects,
// with the procedure that rebuilds each pair from aku.conf without losing
// rows (docs/behaviour.md, "Configuration drift").
func (b *planner) refuseDrift(drift []string) error {
	var steps []string
	seen := map[string]bool{}
	for _, pr := range pairsOf(b.cfg, b.me) {
		for _, d := range drift {
			if !strings.HasPrefix(d, pr.name+" ") || seen[pr.name] {
				continue
			}
			seen[pr.name] = true
			steps = append(steps, RebuildProcedure(b.cfg, pr.name, b.me, pr.peer))
		}
	}
	return fmt.Errorf("%w: configuration drift: %s; aku never alters a replication object in place: %s (docs/behaviour.md, \"Configuration drift\")",
		ErrUnsafe, strings.Join(drift, "; "), strings.Join(steps, "; "))
}

// RebuildProcedure is how an operator rebuilds the pair name between the
// pods with ordinals i and j from aku.conf without losing rows
// (docs/behaviour.md, "Configuration drift").
func RebuildProcedure(cfg *conf.Config, name string, i, j int) string {
	lo, hi := min(i, j), max(i, j)
	return fmt.Sprintf("for %s: on pod %s-%d run aku -p end, then aku -p clean; on pod %s-%d run ALTER REPLICATION %s STOP (if started) and DROP REPLICATION %s; then aku -p start on pod %s-%d, which rebuilds the pair and SYNCs that pod from the MASTER",
		name, cfg.StsName, hi, cfg.StsName, lo, name, name, cfg.StsName, hi)
}

// checkBuilt is a start's closing check (docs/behaviour.md, "Half-built
// pairs"): every pair of this pod with every peer that was running when
// the start observed it — and with any peer whose side this start created
// — exists on both sides, and both sides are started. (Their definition
// was checked against aku.conf before anything ran, or comes from it.) It
// reads each server's SYS_REPLICATIONS_ again, in parallel, over the run's
// sessions.
func checkBuilt(ctx context.Context, p *Plan, cfg *conf.Config, me int, obs Observation, open sessions) error {
	if p.Action != ActionStart || p.Failure != nil {
		return nil
	}
	created := map[[2]string]bool{}
	for _, s := range p.Steps {
		if s.Kind == StepSQL && s.Server != me && strings.HasPrefix(s.Statement, "CREATE REPLICATION") {
			created[[2]string{s.Host, s.Replication}] = true
		}
	}
	var checks []replication.Object
	servers := map[int]bool{}
	for _, o := range replication.Objects(cfg, me) {
		peer := obs.Servers[o.Peer]
		wasRunning := peer.Reachable && peer.AdminMode == 0 && hadAny(peer, cfg, o.Peer, cfg.Groups[o.Group].Prefix)
		if wasRunning || created[[2]string{peer.Host, o.Name}] {
			checks = append(checks, o)
			servers[me], servers[o.Peer] = true, true
		}
	}
	now, readErr := readAll(ctx, servers, open, ObserveWait(cfg))
	if err := ctx.Err(); err != nil {
		// aku was stopped during the check: that is the outcome, not pairs
		// it could not read.
		return fmt.Errorf("reading the servers for the closing check: %w", err)
	}
	var missing []string
	for _, o := range checks {
		for _, server := range []int{me, o.Peer} {
			host := obs.Servers[server].Host
			if err := readErr[server]; err != nil {
				missing = append(missing, fmt.Sprintf("%s on %s could not be read (%v)", o.Name, host, err))
				continue
			}
			st, ok := now[server][o.Name]
			switch {
			case !ok:
				missing = append(missing, o.Name+" is missing on "+host)
			case !st.Started:
				missing = append(missing, o.Name+" is not started on "+host)
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("%w: the closing check found pairs with running peers not built on both sides: %s; run aku -p start again on this pod once the peers answer (docs/behaviour.md, \"Half-built pairs\")",
		ErrIncomplete, strings.Join(missing, "; "))
}

// hadAny reports whether peer q held any of aku's objects with prefix
// when observed.
func hadAny(v ServerView, cfg *conf.Config, q int, prefix string) bool {
	for _, o := range replication.Objects(cfg, q) {
		if cfg.Groups[o.Group].Prefix != prefix {
			continue
		}
		if _, ok := v.object(o.Name); ok {
			return true
		}
	}
	return false
}

// readAll reads the replication objects of the servers in parallel, each
// within wait.
func readAll(ctx context.Context, servers map[int]bool, open sessions, wait time.Duration) (map[int]map[string]replication.State, map[int]error) {
	now := map[int]map[string]replication.State{}
	errs := map[int]error{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for q := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, err := readObjects(ctx, open[q], wait)
			mu.Lock()
			defer mu.Unlock()
			now[q], errs[q] = m, err
		}()
	}
	wg.Wait()
	return now, errs
}

// readObjects reads a server's replication objects by name within wait.
func readObjects(ctx context.Context, sess Session, wait time.Duration) (map[string]replication.State, error) {
	if sess == nil {
		return nil, errors.New("no session")
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	states, err := sess.States(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[string]replication.State, len(states))
	for _, st := range states {
		m[st.Name] = st
	}
	return m, nil
}
