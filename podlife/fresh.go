package podlife

import (
	"fmt"

	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/replication"
)

// freshStart carries what one phase of a fresh slave start hands to the
// next: the step IDs the later phases wait for.
type freshStart struct {
	pairs       []pair
	created     map[string]int  // this pod's CREATE steps, by object
	syncs       []pair          // the pairs with the MASTER, one per group
	masterReady map[string]int  // the last step preparing the MASTER's side
	truncs      []int           // the TRUNCATE steps
	clear       int             // the step that forgets the saved REPLICATION_DDL_ENABLE
	beforeSync  []int           // the peers' STARTs and FLUSHes before the SYNC
	peerHas     map[string]bool // pairs whose peer side exists or is created
	syncIDs     []int           // the SYNC steps
	ownResets   []int           // this pod's RESETs of sides that held state
	ownStopped  map[string]bool // this pod's sides this run stops
}

// startFresh plans the start of a slave whose objects are all new or reset
// (docs/behaviour.md, "Fresh slave start"): create its objects, prepare the
// MASTER's side, truncate, let the running peers start their side and
// flush to the MASTER, SYNC from the MASTER, start this pod's sides.
func (b *planner) startFresh(pairs []pair) error {
	p := b.plan
	p.Path = PathFreshSlave
	p.Why = "every replication object of this SLAVE is new or reset (XSN -1): truncate its tables, SYNC from the MASTER, start the pairs (docs/behaviour.md, \"Fresh slave start\")"
	if err := b.freshSource(); err != nil {
		return err
	}
	f := &freshStart{pairs: pairs, created: b.createMissing(pairs, nil)}
	b.resetOwnSides(f)
	b.prepareMasterSides(f)
	b.truncateItems(f)
	b.peersBeforeSync(f)
	b.syncFromMaster(f)
	b.startOwnSides(f)
	if d := b.cfg.DelayStartComplete; d > 0 {
		b.add(Step{Kind: StepWait, Server: Local, Wait: d, After: f.syncIDs, Why: "AKU_DELAY_START_COMPLETE_TIME after the data sync"})
	}
	b.finishStart()
	return nil
}

// freshSource refuses a fresh start whose MASTER cannot be its SYNC source.
func (b *planner) freshSource() error {
	master := b.obs.Servers[0]
	if !master.Reachable {
		// Truncating without a SYNC source would empty this pod for good.
		return neededError("the MASTER, which must SYNC this pod after its tables are truncated,", master)
	}
	if master.AdminMode != 0 {
		// The MASTER opens itself (ADMIN_MODE = 0) only at the end of a
		// successful start. Until then it may be a failed MASTER
		// (docs/behaviour.md, "Master failure"), which lost its data: a
		// SYNC from it would replace this pod's rows with what it has left.
		return fmt.Errorf("%w: the MASTER server %s is still in ADMIN_MODE = %d, so its aku -p start has not completed (or found a failure): this pod is not truncated and SYNCed from it until it has",
			ErrUnsafe, master.Host, master.AdminMode)
	}
	return nil
}

// resetOwnSides stops and resets this pod's sides that still hold state,
// before anything else of the fresh path: only a start after the peers
// released this pod has any (docs/behaviour.md, "Stale peers"), and what
// they had not sent is dropped. This pod's objects are then all reset, so
// a run killed after them takes the fresh path again.
func (b *planner) resetOwnSides(f *freshStart) {
	self := b.obs.Servers[b.me]
	f.ownStopped = map[string]bool{}
	for _, pr := range f.pairs {
		mine, ok := self.Objects[pr.name]
		if !ok || !hasState(mine) {
			continue
		}
		last := 0
		if mine.Started {
			f.ownStopped[pr.name] = true
			last = b.sql(b.me, PhaseNone, "RESET needs it stopped; it starts again after the SYNC", nil, b.must(replication.StopStmt(pr.name)))
		}
		f.ownResets = append(f.ownResets, b.sql(b.me, PhaseNone, fmt.Sprintf("its peer released this pair: forget the restart point toward pod %d and what this pod had not sent there", pr.peer), []int{last}, b.must(replication.ResetStmt(pr.name))))
	}
}

// prepareMasterSides creates the MASTER's side of PREFIX_0<me> if missing,
// and stops and resets it if it runs or holds a restart point. That happens
// when a previous run died after the SYNC but before this pod's side
// started (the objects here are still XSN -1): this pod is truncated
// again, so the SYNC must be redone from scratch (SYNC needs a stopped
// replication).
func (b *planner) prepareMasterSides(f *freshStart) {
	master := b.obs.Servers[0]
	f.masterReady = map[string]int{}
	for _, pr := range f.pairs {
		if pr.peer != 0 {
			continue
		}
		f.syncs = append(f.syncs, pr)
		last := 0
		theirs, ok := master.object(pr.name)
		if !ok {
			last = b.sql(0, PhaseNone, "missing on the MASTER, which must SYNC it", nil, b.must(replication.CreateReplication(pr.name, PeerHost(b.cfg, b.me), b.cfg.ReplicationPortNo, pr.group.Items)))
		}
		if ok && theirs.Started {
			last = b.sql(0, PhaseNone, "running on the MASTER from an earlier, unfinished start: SYNC needs it stopped", nil, b.must(replication.StopStmt(pr.name)))
		}
		if ok && hasState(theirs) {
			last = b.sql(0, PhaseNone, "the MASTER holds a restart point for this pod from an earlier life: SYNC starts afresh", []int{last}, b.must(replication.ResetStmt(pr.name)))
		}
		f.masterReady[pr.name] = last
	}
}

// truncateItems empties every configured item with REPLICATION_DDL_ENABLE
// set to 1 and restored (docs/behaviour.md, "The DDL journal"): the value
// to restore is saved in a file first, so a run killed in between restores
// it next time, and a guard restores it when the run fails in between.
func (b *planner) truncateItems(f *freshStart) {
	me := b.me
	self := b.obs.Servers[me]
	prev := self.DDLEnable
	if b.obs.HasSavedDDL {
		prev = b.obs.SavedDDLEnable
	}
	save := b.add(Step{Kind: StepSaveDDL, Server: Local, Value: prev, After: f.ownResets, Why: "remember REPLICATION_DDL_ENABLE to restore it, even after a killed run"})
	toggle := 0
	if self.DDLEnable != 1 {
		toggle = b.sql(me, PhaseTruncate, "TRUNCATE of a replicated table needs it", []int{save}, b.must(replication.SetSystem("REPLICATION_DDL_ENABLE", 1)))
	}
	var createdIDs []int
	for _, id := range f.created {
		createdIDs = append(createdIDs, id)
	}
	seen := map[conf.Item]bool{}
	for _, g := range b.cfg.Groups {
		for _, it := range g.Items {
			key := conf.Item{User: it.User, Table: it.Table, Partition: it.Partition}
			if seen[key] {
				continue
			}
			seen[key] = true
			// After the objects exist: a TRUNCATE then already counts as DDL
			// on a replicated table, as in the original's order.
			f.truncs = append(f.truncs, b.sql(me, PhaseTruncate, "empty this pod before the SYNC copies the MASTER's rows (no duplicate rows)", append([]int{save, toggle}, createdIDs...), b.must(replication.TruncateStmt(it))))
		}
	}
	restore := 0
	if prev != 1 {
		restore = b.sql(me, PhaseNone, fmt.Sprintf("restore the value it had (%d)", prev), f.truncs, b.must(replication.SetSystem("REPLICATION_DDL_ENABLE", prev)))
	}
	f.clear = b.add(Step{Kind: StepClearDDL, Server: Local, After: []int{restore, save}, Why: "REPLICATION_DDL_ENABLE is restored"})
	if prev != 1 {
		guard := b.must(replication.SetSystem("REPLICATION_DDL_ENABLE", prev))
		b.plan.Guards = append(b.plan.Guards, Guard{From: save, To: f.clear, Steps: []Step{
			{Kind: StepSQL, Server: me, Host: self.Host, Statement: guard.SQL, Verb: guard.Verb, Why: "the run failed after REPLICATION_DDL_ENABLE was set to 1: restore it"},
			{Kind: StepClearDDL, Server: Local, Why: "restored"},
		}})
	}
}

// peersBeforeSync starts the running peers' sides toward this pod and
// flushes their pairs with the MASTER, before the SYNC. SYNC copies only
// the MASTER's rows, and a MASTER does not pass on what it receives by
// replication. A row written on pod q shortly before the SYNC, still on its
// way to the MASTER, would never reach this pod if q's side of the pair
// with this pod started only after the SYNC (the original's order). So q's
// side starts first — from then on q sends this pod its new rows itself —
// and then q flushes its pair with the MASTER, so that every older row of q
// is in the MASTER's copy. A row that arrives both ways is the same row. If
// a run dies after this, the rerun truncates again: rows q sent directly
// are lost here, but they also went to the MASTER, and the rerun's FLUSH
// puts them in its SYNC.
func (b *planner) peersBeforeSync(f *freshStart) {
	f.peerHas = map[string]bool{}
	for _, pr := range f.pairs {
		if pr.peer == 0 {
			continue
		}
		peer := b.obs.Servers[pr.peer]
		theirs, side := b.peerSide(pr)
		if side == sideSkip || side == sideStarting {
			continue
		}
		f.peerHas[pr.name] = true
		deps := append([]int{f.created[pr.name]}, f.truncs...)
		if side == sideMissing {
			deps = []int{b.createPeerSide(pr, deps)}
		}
		if !theirs.Started {
			id := b.sql(pr.peer, PhaseNone, fmt.Sprintf("pod %d sends this pod its new rows itself from now on", pr.peer), deps, b.must(replication.StartStmt(pr.name)))
			f.beforeSync = append(f.beforeSync, id)
			deps = []int{id}
		}
		toMaster := replication.ObjectName(pr.group.Prefix, 0, pr.peer)
		if st, ok := peer.object(toMaster); ok && st.Started {
			f.beforeSync = append(f.beforeSync, b.sql(pr.peer, PhaseNone, fmt.Sprintf("pod %d's older rows reach the MASTER before its SYNC copies them", pr.peer), deps, b.must(replication.FlushStmt(toMaster, 0))))
		}
	}
}

// syncFromMaster has the MASTER SYNC each pair with this pod: MASTER →
// this pod, after which that replication runs on the MASTER.
func (b *planner) syncFromMaster(f *freshStart) {
	var prep []int
	for _, pr := range f.syncs {
		prep = append(prep, f.masterReady[pr.name])
	}
	for _, pr := range f.syncs {
		after := append([]int{f.masterReady[pr.name], f.created[pr.name]}, f.truncs...)
		after = append(after, f.beforeSync...)
		f.syncIDs = append(f.syncIDs, b.sql(0, PhaseSync, "copy the MASTER's rows to this pod and start MASTER → this pod", append(after, prep...), b.must(replication.SyncStmt(pr.name, pr.group.SyncParallelCount))))
	}
}

// startOwnSides starts this pod's side of every pair after the SYNCs: its
// objects keep XSN -1 until then, so a run killed before takes this fresh
// path again, never the rejoin path that would skip the SYNC.
func (b *planner) startOwnSides(f *freshStart) {
	self := b.obs.Servers[b.me]
	for _, pr := range f.pairs {
		if pr.peer != 0 && !f.peerHas[pr.name] {
			continue
		}
		if mine := self.Objects[pr.name]; mine.Started && !f.ownStopped[pr.name] {
			continue
		}
		why := fmt.Sprintf("replicate this pod's changes to pod %d", pr.peer)
		if pr.peer == 0 {
			why = "replicate this pod's changes to the MASTER (the SYNC started the MASTER's side)"
		}
		b.sql(b.me, PhaseNone, why, append([]int{f.created[pr.name], f.clear}, f.syncIDs...), b.must(replication.StartStmt(pr.name)))
	}
}
