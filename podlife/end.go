package podlife

import (
	"fmt"
	"strings"

	"github.com/aku-project/aku/replication"
)

// end plans aku -p end in the manual's order (docs/behaviour.md, "end"):
// every FLUSH of this pod's replications first, then STOP on every pod of
// every pair, then RESET on every pod, each phase starting once the one
// before it has finished everywhere, so its log lines come in that order.
//
// A slave's RESET is all or nothing. When a FLUSH is skipped (its peer is
// not reachable) or fails, no pair is reset: a RESET would throw away what
// this pod has not sent, and a slave with some pairs reset and others not
// would rejoin over pairs whose peers kept nothing for it. Keeping every
// restart point makes the next start rejoin and flush instead, and the run
// fails with ErrRestartPointsKept so the hook knows.
func (b *planner) end() {
	p := b.plan
	me := b.me
	self := b.obs.Servers[me]
	p.Path = PathEnd
	reset := me != 0 && b.cfg.ReplicationResetAtEnd
	switch {
	case me == 0:
		p.Why = "MASTER end: flush, stop both sides; never reset, the MASTER's restart points must survive (docs/behaviour.md, \"end\")"
	case reset:
		p.Why = "SLAVE end: flush, stop both sides, reset both sides so no pod keeps logs for this one (docs/behaviour.md, \"end\")"
	default:
		p.Why = "SLAVE end with AKU_REPLICATION_RESET_AT_END = 0: flush, stop both sides, keep the restart points for a rejoin (docs/behaviour.md, \"end\")"
	}
	first := b.restoreSavedDDL()
	pairs := pairsOf(b.cfg, me)

	// Phase 1: FLUSH what this pod has not sent yet. A side of this pod
	// that is stopped with its restart point, when this end resets, was
	// stopped by an earlier end that did not reset (a FLUSH skipped or
	// failed, or the run was killed): what it had not sent is still behind
	// its restart point, so it is started again and flushed before the
	// RESET forgets it.
	var flushes []int
	var unflushed []string
	restarted := map[string]bool{}
	for _, pr := range pairs {
		mine, ok := self.Objects[pr.name]
		stale := ok && !mine.Started && hasState(mine) && reset
		if !ok || !(mine.Started || stale) || !b.cfg.FlushAtEnd {
			continue
		}
		peer := b.obs.Servers[pr.peer]
		if _, theirs := peer.object(pr.name); stale && peer.Reachable && !theirs {
			b.note("%s not flushed: %s has no side of it to receive what this pod did not send", pr.name, peer.Host)
			continue
		}
		if peer.Reachable {
			after := []int{first}
			if stale {
				// Optional: when it fails, the FLUSH after it fails too and
				// keeps every restart point.
				stmt, err := replication.StartStmt(pr.name)
				after = []int{b.sql(me, pr.name, PhaseNone, "stopped by an earlier end with what it had not sent: start it again to flush that", []int{first}, true, stmt, err)}
				restarted[pr.name] = true
			}
			stmt, err := replication.FlushStmt(pr.name, 0)
			flushes = append(flushes, b.sql(me, pr.name, PhaseFlush, "hand over what this pod has not sent yet (AKU_FLUSH_AT_END = 1)", after, false, stmt, err))
			continue
		}
		if b.peerGone(pr.peer) {
			b.note("%s not flushed: its peer %s is gone (%v); a pod above this one is removed first when the set scales down", pr.name, peer.Host, peer.Err)
			continue
		}
		unflushed = append(unflushed, fmt.Sprintf("%s (%s %s)", pr.name, peer.Host, peer.Status()))
	}
	// A FLUSH that fails is logged and the run goes on to STOP; it keeps
	// the restart points (IfOK below) instead of failing the whole end.
	for _, id := range flushes {
		b.plan.Steps[id-1].Optional = true
		b.plan.Steps[id-1].KeepsOnFailure = true
	}

	// Phase 2: STOP both sides, after every FLUSH: what this pod hands
	// over reaches each peer before any peer's side changes state.
	barrier := append([]int{first}, flushes...)
	var stops []int
	for _, pr := range pairs {
		if mine, ok := self.Objects[pr.name]; ok && (mine.Started || restarted[pr.name]) {
			stmt, err := replication.StopStmt(pr.name)
			// A side started again above may have failed to start: its STOP
			// is then optional (its FLUSH failed, so nothing is reset).
			stops = append(stops, b.sql(me, pr.name, PhaseStop, "stop this side", barrier, restarted[pr.name], stmt, err))
		}
		if theirs, ok := b.obs.Servers[pr.peer].object(pr.name); ok && theirs.Started {
			stmt, err := replication.StopStmt(pr.name)
			stops = append(stops, b.sql(pr.peer, pr.name, PhaseStop, "stop the peer's side toward this pod", barrier, true, stmt, err))
		}
	}

	// Phase 3: RESET, after every STOP (RESET needs a stopped replication).
	if !reset {
		b.add(Step{Kind: StepRemoveMarker, Server: Local, After: b.all(), Why: "this pod is no longer started"})
		return
	}
	if len(unflushed) > 0 {
		p.Kept = append(p.Kept, unflushed...)
		b.warn("restart points kept: not flushed because the peer is not reachable: %s; no replication is reset, so the next aku -p start rejoins and flushes what this pod has not sent (docs/behaviour.md, \"end\")",
			strings.Join(unflushed, "; "))
		b.add(Step{Kind: StepRemoveMarker, Server: Local, After: b.all(), Why: "this pod is no longer started"})
		return
	}
	barrier = append(barrier, stops...)
	var ownResets []int
	for _, pr := range pairs {
		if mine, ok := self.Objects[pr.name]; ok && hasState(mine) {
			stmt, err := replication.ResetStmt(pr.name)
			ownResets = append(ownResets, b.sql(me, pr.name, PhaseReset, "forget the restart point", barrier, false, stmt, err))
		}
	}
	for _, pr := range pairs {
		if theirs, ok := b.obs.Servers[pr.peer].object(pr.name); ok && hasState(theirs) {
			stmt, err := replication.ResetStmt(pr.name)
			// After this pod's own RESETs: an end killed in between then
			// leaves this pod without restart points, so its next start
			// SYNCs afresh; the other order would leave restart points
			// here only, which a rejoin cannot use (see startRejoin).
			b.sql(pr.peer, pr.name, PhaseReset, "the peer forgets its restart point for this pod, and its logs for it", append(append([]int{}, barrier...), ownResets...), true, stmt, err)
		}
	}
	for _, id := range b.idsInPhase(PhaseReset) {
		b.plan.Steps[id-1].IfOK = flushes
	}
	b.add(Step{Kind: StepRemoveMarker, Server: Local, After: b.all(), Why: "this pod is no longer started"})
}

// idsInPhase returns the IDs of the plan's steps in phase ph.
func (b *planner) idsInPhase(ph Phase) []int {
	var ids []int
	for _, s := range b.plan.Steps {
		if s.Phase == ph {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

// peerGone reports whether an unreachable peer counts as gone at end or
// clean: a pod above this one that does not exist or does not listen (a
// scale-down removes the highest ordinals first). A pod below this one is
// expected to run, and a pod that does not answer in time exists: neither
// is gone, and what this pod has not sent them still matters.
func (b *planner) peerGone(q int) bool {
	v := b.obs.Servers[q]
	return q > b.me && !v.Reachable && v.Class != ClassNotAnswering && v.Class != ClassRefused
}
