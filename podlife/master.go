package podlife

import (
	"fmt"

	"github.com/aku-project/aku/replication"
)

// startMaster plans the start of the MASTER pod (docs/behaviour.md,
// "Master start"): create its missing objects, build and start every pair
// with every running slave on both sides, and flush the pairs that kept
// their restart points, after the failure checks of masterFailures.
func (b *planner) startMaster(pairs []pair) error {
	p := b.plan
	self := b.obs.Servers[0]
	p.Path = PathMaster
	p.Why = "ordinal 0 is the MASTER pod: create missing objects, start the pairs with every reachable pod, flush the pairs that kept their restart points (docs/behaviour.md, \"Master start\")"
	masterLost, slaveLost := b.masterFailures(pairs)
	if len(slaveLost) > 0 && b.cfg.StalePeerTTL > 0 {
		// With AKU_STALE_PEER_TTL set, a running slave without restart
		// point toward this MASTER most likely released it while it was
		// gone, and went on serving users: its data, not this MASTER's,
		// is the reference now, and re-seeding it from here would lose
		// what it wrote meanwhile. So this is a MASTER failure, recovered
		// from a slave (docs/behaviour.md, "Stale peers").
		for _, s := range slaveLost {
			masterLost = append(masterLost, s+": with AKU_STALE_PEER_TTL set, that slave released this MASTER while it was gone (or lost its state) and went on without it, so this MASTER is not the reference any more: recover it from a running slave (docs/behaviour.md, \"Stale peers\")")
		}
		slaveLost = nil
	}
	if len(masterLost) > 0 {
		// The failure is reported after this MASTER's missing objects are
		// created, as the original does (it creates before it detects):
		// the manual recovery (docs/behaviour.md, "Recovering a failed
		// master") SYNCs from the chosen slave into them and STARTs them
		// here. Creating an object starts nothing and moves no data.
		p.Path = PathMasterFailure
		p.Why = "this MASTER lost the replication state that running slaves still hold: its missing objects are created for the manual recovery, then the start fails (docs/behaviour.md, \"Master failure\")"
		b.createMissing(pairs, []int{b.restoreSavedDDL()})
		p.Failure = &FailureError{Class: ErrMasterFailure, Message: MasterFailureMessage, Objects: masterLost}
		return nil
	}
	if len(slaveLost) > 0 {
		p.Path = PathSlaveFailure
		p.Why = "a running slave lost its replication state toward this MASTER (docs/behaviour.md, \"Slave failure\")"
		return &FailureError{Class: ErrSlaveFailure, Message: SlaveFailureMessage, Objects: slaveLost}
	}
	// A restarted MASTER, or the last step of the manual recovery, flushes
	// the pairs that kept their restart points on both sides: each side
	// sends what it had not sent (the vendor's transcript logs "Flush
	// replications." here). A MASTER already open to users is a rerun after
	// a start that flushed and opened it.
	b.startPairs(pairs, func(mine replication.State, mineOK bool, theirs replication.State) bool {
		return mineOK && hasState(mine) && hasState(theirs) && self.AdminMode != 0
	})
	return nil
}

// flushPair flushes both sides of a pair that kept its restart points,
// after their STARTs (docs/behaviour.md, "Rejoining slave start"): this
// pod's side with FLUSH ALL, the peer's with FLUSH ALL or FLUSH WAIT
// AKU_FLUSH_TIMEOUT_AT_START; nothing when AKU_FLUSH_AT_START = 0.
func (b *planner) flushPair(pr pair, selfStart, peerStart int) {
	if !b.cfg.FlushAtStart {
		return
	}
	b.sql(b.me, PhaseFlush, "send what this pod had not sent yet", []int{selfStart}, b.must(replication.FlushStmt(pr.name, 0)))
	why := "send this pod what the peer had not sent yet (AKU_FLUSH_TIMEOUT_AT_START = 0: FLUSH ALL)"
	if b.cfg.FlushTimeoutAtStart > 0 {
		why = fmt.Sprintf("send this pod what the peer had not sent yet, waiting at most AKU_FLUSH_TIMEOUT_AT_START = %d s", int64(b.cfg.FlushTimeoutAtStart.Seconds()))
	}
	b.sql(pr.peer, PhaseFlush, why, []int{peerStart}, b.must(replication.FlushStmt(pr.name, b.cfg.FlushTimeoutAtStart)))
}
