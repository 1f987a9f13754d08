package podlife

import (
	"fmt"
	"strings"
	"time"

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
	p.Path = PathEnd
	reset, why := b.endDecision()
	p.Why = why
	first := b.restoreSavedDDL()
	pairs := pairsOf(b.cfg, b.me)
	window, limited := b.endWindow()
	flushes, restarted, unflushed, cut := b.endFlush(pairs, reset, first, window, limited)
	if limited {
		if check := b.checkGaps(flushes); check != 0 {
			flushes = append(flushes, check)
		}
	}
	barrier := append([]int{first}, flushes...)
	stops := b.endStop(pairs, restarted, barrier)
	if len(unflushed) > 0 {
		// On the MASTER, or with AKU_REPLICATION_RESET_AT_END = 0, nothing
		// is reset anyway; the run still says that not everything was
		// handed over.
		p.Kept = append(p.Kept, unflushed...)
		b.warn("restart points kept: not flushed because the peer is not reachable: %s; no replication is reset, so the next aku -p start rejoins and flushes what this pod has not sent (docs/behaviour.md, \"end\")",
			strings.Join(unflushed, "; "))
	}
	if len(cut) > 0 {
		p.Kept = append(p.Kept, cut...)
		b.warn("restart points kept: less than a second was left before the deadline for the FLUSH of %s; no replication is reset, so the next aku -p start rejoins and flushes what this pod has not sent (docs/behaviour.md, \"The deadline\")",
			strings.Join(cut, "; "))
	}
	if len(unflushed) == 0 && len(cut) == 0 && reset {
		b.endReset(pairs, append(barrier, stops...), flushes)
	}
	b.add(Step{Kind: StepRemoveMarker, Server: Local, After: b.all(), Why: "this pod is no longer started"})
}

// endFlush plans the FLUSH phase of end: what this pod has not sent yet is
// handed over on every pair whose peer answered. It returns the steps of
// the phase, the stopped sides it starts to flush them, and the pairs that
// could not be flushed because their peer is not reachable and not gone.
//
// A stopped side that kept its restart point (an earlier end that could not
// flush everything, or was killed) may still hold rows it never sent:
// before a RESET forgets them, it is started and flushed like a running
// one. A FLUSH (or the START before it) that fails is logged and the run
// goes on to STOP; it keeps every restart point (IfOK in endReset) instead
// of failing the whole end.
//
// With a deadline (limited), each FLUSH is FLUSH WAIT for the window (the
// executor shortens it to what is left when its turn comes); a window
// shorter than a second flushes nothing, and the pairs it would have
// flushed are returned as cut.
func (b *planner) endFlush(pairs []pair, reset bool, first int, window time.Duration, limited bool) (flushes []int, restarted map[string]bool, unflushed, cut []string) {
	restarted = map[string]bool{}
	self := b.obs.Servers[b.me]
	for _, pr := range pairs {
		mine, ok := self.Objects[pr.name]
		pending := ok && (mine.Started || (reset && hasState(mine)))
		if !pending || !b.cfg.FlushAtEnd {
			continue
		}
		peer := b.obs.Servers[pr.peer]
		switch {
		case peer.Reachable && limited && window < time.Second:
			cut = append(cut, fmt.Sprintf("%s to %s (cut at the deadline: no time left to flush)", pr.name, peer.Host))
		case peer.Reachable:
			after := []int{first}
			if !mine.Started {
				restarted[pr.name] = true
				after = []int{b.sql(b.me, PhaseFlush, "stopped with its restart point: start it, so what it has not sent is flushed before the reset", after, b.must(replication.StartStmt(pr.name)))}
				flushes = append(flushes, after[0])
			}
			why, flush := "hand over what this pod has not sent yet (AKU_FLUSH_AT_END = 1)", b.must(replication.FlushStmt(pr.name, 0))
			if limited {
				why = "hand over what this pod has not sent yet (AKU_FLUSH_AT_END = 1), for what is left of the FLUSH window when its turn comes: the deadline"
				flush = b.must(replication.FlushAllWaitStmt(pr.name, window.Truncate(time.Second)))
			}
			flushes = append(flushes, b.sql(b.me, PhaseFlush, why, after, flush))
		case b.peerGone(pr.peer):
			b.note("%s not flushed: its peer %s is gone (%v); a pod above this one is removed first when the set scales down", pr.name, peer.Host, peer.Err)
		default:
			unflushed = append(unflushed, fmt.Sprintf("%s (%s %s)", pr.name, peer.Host, peer.Status()))
		}
	}
	for _, id := range flushes {
		b.plan.Steps[id-1].Optional = true
		b.plan.Steps[id-1].KeepsOnFailure = true
	}
	return flushes, restarted, unflushed, cut
}

// endStop plans the STOP phase of end, after every FLUSH: what this pod
// hands over reaches each peer before any peer's side changes state. The
// peers' STOPs are optional: a peer that fails to stop is a warning.
func (b *planner) endStop(pairs []pair, restarted map[string]bool, barrier []int) []int {
	var stops []int
	self := b.obs.Servers[b.me]
	for _, pr := range pairs {
		if mine, ok := self.Objects[pr.name]; ok && (mine.Started || restarted[pr.name]) {
			stops = append(stops, b.sql(b.me, PhaseStop, "stop this side", barrier, b.must(replication.StopStmt(pr.name))))
		}
		if theirs, ok := b.obs.Servers[pr.peer].object(pr.name); ok && theirs.Started {
			stops = append(stops, b.optional(b.sql(pr.peer, PhaseStop, "stop the peer's side toward this pod", barrier, b.must(replication.StopStmt(pr.name)))))
		}
	}
	return stops
}

// endReset plans the RESET phase of a slave's end, after every STOP
// (RESET needs a stopped replication), each step only if every FLUSH
// succeeded. This pod's RESETs come first: an end killed in between then
// leaves this pod without restart points, so its next start SYNCs afresh;
// the other order would leave restart points here only, which a rejoin
// cannot use (see startRejoin).
func (b *planner) endReset(pairs []pair, barrier, flushes []int) {
	self := b.obs.Servers[b.me]
	var resets []int
	for _, pr := range pairs {
		if mine, ok := self.Objects[pr.name]; ok && hasState(mine) {
			resets = append(resets, b.sql(b.me, PhaseReset, "forget the restart point", barrier, b.must(replication.ResetStmt(pr.name))))
		}
	}
	ownResets := append([]int{}, resets...)
	for _, pr := range pairs {
		if theirs, ok := b.obs.Servers[pr.peer].object(pr.name); ok && hasState(theirs) {
			resets = append(resets, b.optional(b.sql(pr.peer, PhaseReset, "the peer forgets its restart point for this pod, and its logs for it", append(append([]int{}, barrier...), ownResets...), b.must(replication.ResetStmt(pr.name)))))
		}
	}
	for _, id := range resets {
		b.plan.Steps[id-1].IfOK = flushes
	}
}

// peerGone reports whether an unreachable peer counts as gone at end or
// clean: a pod above this one that does not exist or does not listen (a
// scale-down removes the highest ordinals first). A pod below this one is
// expected to run, and a pod that does not answer in time, that has its
// SYSDBA session taken or that refused aku's session exists: none of those
// is gone, and what this pod has not sent them still matters.
func (b *planner) peerGone(q int) bool {
	v := b.obs.Servers[q]
	return q > b.me && !v.Reachable && v.Class == ClassAbsent
}
