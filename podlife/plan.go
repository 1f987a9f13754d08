package podlife

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/replication"
)

// Path is the way through a lifecycle command that the observed state
// selects (architecture guide, "Plan").
type Path string

// The paths.
const (
	PathMaster        Path = "master start"          // spec §6.1
	PathFreshSlave    Path = "fresh slave start"     // spec §6.2
	PathRejoinSlave   Path = "rejoining slave start" // spec §6.3
	PathMasterFailure Path = "master failure"        // spec §8
	PathSlaveFailure  Path = "slave failure"         // spec §8
	PathEnd           Path = "end"                   // spec §7
	PathClean         Path = "clean"                 // spec §7
	// PathNothing: the servers already are as the action leaves them;
	// only the marker is written or removed. Why names the path it would
	// have been.
	PathNothing Path = "nothing to do"
)

// The original's exact failure messages (spec §8).
const (
	MasterFailureMessage = "The MASTER server is detected to have failed. Check and perform a manual recovery."
	SlaveFailureMessage  = "The SLAVE server is detected to have failed. Check and perform a manual recovery."
)

// StepKind says what a Step does.
type StepKind string

// The step kinds. Only StepSQL talks to a server; the others act on this
// pod's files or wait.
const (
	StepSQL          StepKind = "sql"
	StepWait         StepKind = "wait"          // AKU_DELAY_START_COMPLETE_TIME
	StepWriteMarker  StepKind = "write marker"  // spec §6 last step
	StepRemoveMarker StepKind = "remove marker" // spec §7 last step
	StepSaveDDL      StepKind = "save REPLICATION_DDL_ENABLE"
	StepClearDDL     StepKind = "forget saved REPLICATION_DDL_ENABLE"
)

// Phase groups steps under the original's log messages (spec §9): the
// first step of a phase logs its start message, the last its end message.
type Phase string

// The phases that have messages of their own.
const (
	PhaseNone     Phase = ""
	PhaseTruncate Phase = "truncate"
	PhaseSync     Phase = "sync"
	PhaseFlush    Phase = "flush"
	PhaseReset    Phase = "reset"
)

// Local is the Step.Server of steps that run on this pod without a server
// (files, waits).
const Local = -1

// Step is one thing a plan does.
type Step struct {
	ID          int // 1-based, the step's position in Plan.Steps
	Kind        StepKind
	Server      int    // ordinal of the server the statement runs on, or Local
	Host        string // that server's DNS name ("" for Local)
	Statement   string // for StepSQL
	Replication string // the replication object concerned, "" if none
	Phase       Phase
	Why         string
	// After lists the steps (IDs) that must have finished before this one
	// starts. Steps on the same server also run one after another in plan
	// order, over the server's one session; nothing else orders steps.
	After []int
	// Optional steps may fail without failing the run (a peer going away
	// at end): the failure is logged as a warning.
	Optional bool
	// Wait is the duration of a StepWait; Value the number a StepSaveDDL
	// saves.
	Wait  time.Duration
	Value int64
}

// Guard is clean-up the executor runs when a run fails after step From
// succeeded and before step To succeeded: it restores
// REPLICATION_DDL_ENABLE after a failed TRUNCATE (spec §6.2 step 5).
type Guard struct {
	From, To int
	Steps    []Step
}

// Plan is what a lifecycle command will do and why: the path, the steps
// with their dependencies, and notes on what is skipped.
type Plan struct {
	Action  Action
	Pod     string
	Ordinal int
	Path    Path
	Why     string
	Steps   []Step
	Guards  []Guard
	Notes   []string
	// Warnings are notes the operator should act on (logged at WARNING).
	Warnings []string
	// Failure, when set, is the failure of spec §8 the run reports after
	// its steps (which prepare the manual recovery) have run.
	Failure *FailureError
	// Busy are running peers that would not let aku in: their SYSDBA
	// session was taken (spec §10), or they refused the session. end and
	// clean skip their side and then fail with that peer's error.
	Busy []string
}

// pair is one replication object of this pod: a group's PREFIX_ij with
// peer q.
type pair struct {
	name  string
	group conf.Group
	peer  int
}

// pairsOf lists the objects of pod p in group order, then peer order
// (spec §4).
func pairsOf(cfg *conf.Config, p int) []pair {
	var out []pair
	for _, o := range replication.Objects(cfg, p) {
		out = append(out, pair{name: o.Name, group: cfg.Groups[o.Group], peer: o.Peer})
	}
	return out
}

// planner accumulates steps; its methods add a step and return its ID.
type planner struct {
	cfg  *conf.Config
	me   int
	obs  *Observation
	plan *Plan
	err  error
}

func (b *planner) add(s Step) int {
	s.ID = len(b.plan.Steps) + 1
	if s.Server != Local && s.Host == "" {
		s.Host = b.obs.Servers[s.Server].Host
	}
	s.After = uniqueIDs(s.After)
	b.plan.Steps = append(b.plan.Steps, s)
	return s.ID
}

// sql adds a statement step; build is one of the replication builders.
func (b *planner) sql(server int, repl string, phase Phase, why string, after []int, optional bool, stmt string, err error) int {
	if err != nil && b.err == nil {
		b.err = fmt.Errorf("building the statement for %s on %s: %w", repl, b.obs.Servers[server].Host, err)
	}
	return b.add(Step{Kind: StepSQL, Server: server, Statement: stmt, Replication: repl, Phase: phase, Why: why, After: after, Optional: optional})
}

func (b *planner) note(format string, args ...any) {
	b.plan.Notes = append(b.plan.Notes, fmt.Sprintf(format, args...))
}

// warn records something the operator should act on; the run logs it at
// WARNING level.
func (b *planner) warn(format string, args ...any) {
	b.plan.Warnings = append(b.plan.Warnings, fmt.Sprintf(format, args...))
}

func uniqueIDs(ids []int) []int {
	seen := map[int]bool{}
	var out []int
	for _, id := range ids {
		if id > 0 && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	sort.Ints(out)
	return out
}

// BuildPlan decides what action does on pod me, given what Observe saw. It does
// no I/O. The observation must have one ServerView per ordinal
// 0..cfg.ServerCount−1.
//
// Every path is idempotent: it acts only where the observation shows the
// work undone (create what is missing, start what is stopped, reset what
// has a restart point ...), so a run killed at any statement is finished
// by running the same command again.
//
// It fails with ErrNeededServerUnreachable when this pod's server, or the
// master for a fresh slave, was not reached; with ErrMasterFailure or
// ErrSlaveFailure (and the plan's Path saying which) on the failures of
// spec §8.
func BuildPlan(action Action, cfg *conf.Config, id Identity, obs Observation) (*Plan, error) {
	podName, me := id.PodName, id.Ordinal
	if len(obs.Servers) != cfg.ServerCount {
		return nil, fmt.Errorf("planning %s: observation has %d servers, configuration %d", action, len(obs.Servers), cfg.ServerCount)
	}
	if me < 0 || me >= cfg.ServerCount {
		return nil, fmt.Errorf("%w: ordinal %d of %s is not below AKU_SERVER_COUNT %d", ErrIdentity, me, podName, cfg.ServerCount)
	}
	p := &Plan{Action: action, Pod: podName, Ordinal: me}
	self := obs.Servers[me]
	if !self.Reachable {
		return p, fmt.Errorf("%w: this pod's server %s: %w", ErrNeededServerUnreachable, self.Host, self.Err)
	}
	b := &planner{cfg: cfg, me: me, obs: &obs, plan: p}
	for q, v := range obs.Servers {
		if q == me || v.Reachable {
			continue
		}
		if answered(v.Err) {
			// spec §10: a running pod whose SYSDBA slot is taken (or that
			// refuses aku's session) is not an absent pod. A start without
			// it would leave that pair unreplicated, so start refuses; end
			// and clean do the rest and then fail, naming what is left
			// (see Run).
			if action == ActionStart {
				return p, fmt.Errorf("%s is running but aku cannot open its session: %w", v.Host, v.Err)
			}
			p.Busy = append(p.Busy, v.Host)
			b.note("%s is running but refused aku's session (%v): its side is skipped, and the run will fail once the rest is done", v.Host, v.Err)
			continue
		}
		if action != ActionStart && q < me {
			// spec §7: at end, pods with a higher ordinal are normally gone
			// already (scale-down goes from the top), but a lower one is
			// expected to run: its side of the pair keeps its restart
			// point and its logs for this pod (the stale replication of
			// spec §8).
			b.warn("%s is not reachable (%v): its side is skipped; once it is back, run ALTER REPLICATION ... STOP and RESET there for its objects toward this pod (spec §8, stale replication)", v.Host, v.Err)
			continue
		}
		b.note("%s is not reachable (%v): its side is skipped", v.Host, v.Err)
	}
	var err error
	switch action {
	case ActionStart:
		err = b.start()
	case ActionEnd:
		b.end()
	case ActionClean:
		b.clean()
	default:
		return nil, fmt.Errorf("planning: unknown action %q", action)
	}
	if err != nil {
		return p, err
	}
	if b.err != nil {
		return p, b.err
	}
	if p.Statements() == 0 && p.Failure == nil {
		p.Why = fmt.Sprintf("%s, already done on the servers: %s", p.Path, p.Why)
		p.Path = PathNothing
	}
	return p, nil
}

// restoreSavedDDL restores REPLICATION_DDL_ENABLE saved by a killed fresh
// start and forgets the saved value; it returns the last step's ID.
func (b *planner) restoreSavedDDL() int {
	if !b.obs.HasSavedDDL {
		return 0
	}
	last := 0
	v := b.obs.SavedDDLEnable
	if b.obs.Servers[b.me].DDLEnable != v {
		stmt, err := replication.SetSystem("REPLICATION_DDL_ENABLE", v)
		last = b.sql(b.me, "", PhaseNone, "a previous run was killed between setting REPLICATION_DDL_ENABLE = 1 and restoring it; restore the saved value", nil, false, stmt, err)
	}
	return b.add(Step{Kind: StepClearDDL, Server: Local, After: []int{last}, Why: "the saved value is restored"})
}

// all returns the IDs of every step so far.
func (b *planner) all() []int {
	ids := make([]int, len(b.plan.Steps))
	for i := range ids {
		ids[i] = i + 1
	}
	return ids
}

func (b *planner) start() error {
	me := b.me
	self := b.obs.Servers[me]
	pairs := pairsOf(b.cfg, me)
	if me == 0 {
		return b.startMaster(pairs)
	}
	fresh := true
	for _, pr := range pairs {
		if st, ok := self.Objects[pr.name]; ok && hasState(st) {
			fresh = false
			break
		}
	}
	if fresh {
		return b.startFresh(pairs)
	}
	return b.startRejoin(pairs)
}

// createMissing adds CREATE REPLICATION for this pod's missing objects
// (spec §6 step 4) and returns each object's create step ID (0 when it
// exists).
func (b *planner) createMissing(pairs []pair, after []int) map[string]int {
	self := b.obs.Servers[b.me]
	created := map[string]int{}
	for _, pr := range pairs {
		if _, ok := self.Objects[pr.name]; ok {
			continue
		}
		stmt, err := replication.CreateReplication(pr.name, PeerHost(b.cfg, pr.peer), b.cfg.ReplicationPortNo, pr.group.Items)
		created[pr.name] = b.sql(b.me, pr.name, PhaseNone, "missing on this pod", after, false, stmt, err)
	}
	return created
}

// finishStart adds ADMIN_MODE = 0 (unless already 0) and the marker after
// every step so far (spec §6.1 step 6, §6.2 steps 8–9).
func (b *planner) finishStart() {
	deps := b.all()
	last := 0
	if b.obs.Servers[b.me].AdminMode != 0 {
		stmt, err := replication.SetSystem("ADMIN_MODE", 0)
		last = b.sql(b.me, "", PhaseNone, "open this server to users", deps, false, stmt, err)
	}
	if last != 0 {
		deps = []int{last}
	}
	b.add(Step{Kind: StepWriteMarker, Server: Local, After: deps, Why: "the startup probe waits for it"})
}

// startPair starts one pair on this pod and on its peer, each side unless
// it runs already, and returns the IDs of the two START steps (0 when
// skipped).
func (b *planner) startPair(pr pair, mine replication.State, mineExists bool, theirs replication.State, after []int) (selfID, peerID int) {
	if !mineExists || !mine.Started {
		stmt, err := replication.StartStmt(pr.name)
		selfID = b.sql(b.me, pr.name, PhaseNone, fmt.Sprintf("replicate this pod's changes to pod %d", pr.peer), after, false, stmt, err)
	}
	if !theirs.Started {
		stmt, err := replication.StartStmt(pr.name)
		peerID = b.sql(pr.peer, pr.name, PhaseNone, fmt.Sprintf("replicate pod %d's changes to this pod", pr.peer), after, false, stmt, err)
	}
	return selfID, peerID
}

// peerSide returns the peer's object of pair pr, or false when the peer's
// side is skipped: the peer is not reachable, or it runs without the object
// yet (a note says so; that pod's own start creates and starts it).
func (b *planner) peerSide(pr pair) (replication.State, bool) {
	peer := b.obs.Servers[pr.peer]
	if !peer.Reachable {
		return replication.State{}, false
	}
	theirs, ok := peer.object(pr.name)
	if !ok {
		b.note("%s has no %s yet: that pod's own start creates and starts it", peer.Host, pr.name)
	}
	return theirs, ok
}

func (b *planner) startMaster(pairs []pair) error {
	p := b.plan
	self := b.obs.Servers[0]
	p.Path = PathMaster
	p.Why = "ordinal 0 is the MASTER pod: create missing objects, start the pairs with every reachable pod (spec §6.1)"
	var masterLost, slaveLost []string
	for _, pr := range pairs {
		peer := b.obs.Servers[pr.peer]
		theirs, ok := peer.object(pr.name)
		if !ok {
			continue
		}
		mine, mineOK := self.Objects[pr.name]
		switch {
		case (!mineOK || !hasState(mine)) && hasState(theirs):
			masterLost = append(masterLost, fmt.Sprintf("%s (XSN -1 or missing here, XSN %d started=%t on %s)", pr.name, theirs.XSN, theirs.Started, peer.Host))
		case mineOK && hasState(mine) && !hasState(theirs) && peer.AdminMode == 0:
			slaveLost = append(slaveLost, fmt.Sprintf("%s (XSN %d here, XSN -1 on %s, which is open to users)", pr.name, mine.XSN, peer.Host))
		}
	}
	if len(masterLost) > 0 {
		// The failure is reported after this MASTER's missing objects are
		// created, as the original does (it creates, spec §6.1 step 4,
		// before it detects): the manual recovery of spec §8 SYNCs from
		// the chosen slave into them and STARTs them here. Creating an
		// object starts nothing and moves no data.
		p.Path = PathMasterFailure
		p.Why = "this MASTER lost the replication state that running slaves still hold (spec §8): its missing objects are created for the manual recovery, then the start fails"
		b.createMissing(pairs, []int{b.restoreSavedDDL()})
		p.Failure = &FailureError{Class: ErrMasterFailure, Message: MasterFailureMessage, Objects: masterLost}
		return nil
	}
	if len(slaveLost) > 0 {
		p.Path = PathSlaveFailure
		p.Why = "a running slave lost its replication state toward this MASTER (spec §8)"
		return &FailureError{Class: ErrSlaveFailure, Message: SlaveFailureMessage, Objects: slaveLost}
	}
	first := b.restoreSavedDDL()
	created := b.createMissing(pairs, []int{first})
	for _, pr := range pairs {
		theirs, ok := b.peerSide(pr)
		if !ok {
			continue
		}
		mine, mineOK := self.Objects[pr.name]
		b.startPair(pr, mine, mineOK, theirs, []int{created[pr.name]})
	}
	b.finishStart()
	return nil
}

func (b *planner) startFresh(pairs []pair) error {
	p := b.plan
	me := b.me
	self := b.obs.Servers[me]
	master := b.obs.Servers[0]
	p.Path = PathFreshSlave
	p.Why = "every replication object of this SLAVE is new or reset (XSN -1): truncate its tables, SYNC from the MASTER, start the pairs (spec §6.2)"
	if !master.Reachable {
		// Truncating without a SYNC source would empty this pod for good.
		return fmt.Errorf("%w: the MASTER server %s, which must SYNC this pod after its tables are truncated: %w", ErrNeededServerUnreachable, master.Host, master.Err)
	}
	if master.AdminMode != 0 {
		// The MASTER opens itself (ADMIN_MODE = 0) only at the end of a
		// successful start (spec §6.1 step 6). Until then it may be the
		// MASTER of spec §8, which lost its data: a SYNC from it would
		// replace this pod's rows with what it has left.
		return fmt.Errorf("%w: the MASTER server %s is still in ADMIN_MODE = %d, so its aku -p start has not completed (or found a failure): this pod is not truncated and SYNCed from it until it has",
			ErrUnsafe, master.Host, master.AdminMode)
	}
	created := b.createMissing(pairs, nil)

	// Master side of PREFIX_0<me>: create if missing, and stop + reset it
	// if it runs or holds a restart point. That happens when a previous
	// run died after the SYNC but before this pod's side started (the
	// objects here are still XSN -1): this pod is truncated again, so the
	// SYNC must be redone from scratch (altibase.md §3.1: SYNC needs a
	// stopped replication).
	var syncPrep []int
	var syncs []pair
	for _, pr := range pairs {
		if pr.peer == 0 {
			syncs = append(syncs, pr)
		}
	}
	masterReady := map[string]int{}
	for _, pr := range syncs {
		last := 0
		theirs, ok := master.object(pr.name)
		if !ok {
			stmt, err := replication.CreateReplication(pr.name, PeerHost(b.cfg, me), b.cfg.ReplicationPortNo, pr.group.Items)
			last = b.sql(0, pr.name, PhaseNone, "missing on the MASTER, which must SYNC it", nil, false, stmt, err)
		}
		if ok && theirs.Started {
			stmt, err := replication.StopStmt(pr.name)
			last = b.sql(0, pr.name, PhaseNone, "running on the MASTER from an earlier, unfinished start: SYNC needs it stopped", nil, false, stmt, err)
		}
		if ok && hasState(theirs) {
			stmt, err := replication.ResetStmt(pr.name)
			last = b.sql(0, pr.name, PhaseNone, "the MASTER holds a restart point for this pod from an earlier life: SYNC starts afresh", []int{last}, false, stmt, err)
		}
		masterReady[pr.name] = last
		syncPrep = append(syncPrep, last)
	}

	// TRUNCATE with REPLICATION_DDL_ENABLE toggled (spec §6.2 step 5,
	// altibase.md §3.1). The value to restore is saved in a file first, so
	// a run killed in between restores it next time.
	prev := self.DDLEnable
	if b.obs.HasSavedDDL {
		prev = b.obs.SavedDDLEnable
	}
	save := b.add(Step{Kind: StepSaveDDL, Server: Local, Value: prev, Why: "remember REPLICATION_DDL_ENABLE to restore it, even after a killed run"})
	toggle := 0
	if self.DDLEnable != 1 {
		stmt, err := replication.SetSystem("REPLICATION_DDL_ENABLE", 1)
		toggle = b.sql(me, "", PhaseTruncate, "TRUNCATE of a replicated table needs it", []int{save}, false, stmt, err)
	}
	var truncs []int
	seen := map[conf.Item]bool{}
	var createdIDs []int
	for _, id := range created {
		createdIDs = append(createdIDs, id)
	}
	for _, g := range b.cfg.Groups {
		for _, it := range g.Items {
			key := conf.Item{User: it.User, Table: it.Table, Partition: it.Partition}
			if seen[key] {
				continue
			}
			seen[key] = true
			stmt, err := replication.TruncateStmt(it)
			// After the objects exist: a TRUNCATE then already counts as DDL
			// on a replicated table, as in the original's order.
			truncs = append(truncs, b.sql(me, "", PhaseTruncate, "empty this pod before the SYNC copies the MASTER's rows (no duplicate rows)", append([]int{save, toggle}, createdIDs...), false, stmt, err))
		}
	}
	restore := 0
	if prev != 1 {
		stmt, err := replication.SetSystem("REPLICATION_DDL_ENABLE", prev)
		restore = b.sql(me, "", PhaseNone, fmt.Sprintf("restore the value it had (%d)", prev), truncs, false, stmt, err)
	}
	clear := b.add(Step{Kind: StepClearDDL, Server: Local, After: []int{restore, save}, Why: "REPLICATION_DDL_ENABLE is restored"})
	if prev != 1 {
		guardStmt, _ := replication.SetSystem("REPLICATION_DDL_ENABLE", prev)
		p.Guards = append(p.Guards, Guard{From: save, To: clear, Steps: []Step{
			{Kind: StepSQL, Server: me, Host: self.Host, Statement: guardStmt, Why: "the run failed after REPLICATION_DDL_ENABLE was set to 1: restore it"},
			{Kind: StepClearDDL, Server: Local, Why: "restored"},
		}})
	}

	// The other running pods, before the SYNC: SYNC copies only the
	// MASTER's rows, and a MASTER does not pass on what it receives by
	// replication. A row written on pod q shortly before the SYNC, still
	// on its way to the MASTER, would never reach this pod if q's side of
	// the pair with this pod started only after the SYNC (the original's
	// order, spec §6.2 step 7). So q's side starts first — from then on q
	// sends this pod its new rows itself — and then q flushes its pair with
	// the MASTER, so that every older row of q is in the MASTER's copy.
	// A row that arrives both ways is the same row. If a run dies after
	// this, the rerun truncates again: rows q sent directly are lost here,
	// but they also went to the MASTER, and the rerun's FLUSH puts them in
	// its SYNC.
	var beforeSync []int
	for _, pr := range pairs {
		if pr.peer == 0 {
			continue
		}
		peer := b.obs.Servers[pr.peer]
		theirs, ok := b.peerSide(pr)
		if !ok {
			continue
		}
		deps := append([]int{created[pr.name]}, truncs...)
		if !theirs.Started {
			stmt, err := replication.StartStmt(pr.name)
			id := b.sql(pr.peer, pr.name, PhaseNone, fmt.Sprintf("pod %d sends this pod its new rows itself from now on", pr.peer), deps, false, stmt, err)
			beforeSync = append(beforeSync, id)
			deps = []int{id}
		}
		toMaster := replication.ObjectName(pr.group.Prefix, 0, pr.peer)
		if st, ok := peer.object(toMaster); ok && st.Started {
			stmt, err := replication.FlushStmt(toMaster, 0)
			beforeSync = append(beforeSync, b.sql(pr.peer, toMaster, PhaseNone, fmt.Sprintf("pod %d's older rows reach the MASTER before its SYNC copies them", pr.peer), deps, false, stmt, err))
		}
	}

	// SYNC on the MASTER: master → this pod, then that replication starts
	// on the master (spec §6.2 step 6).
	var syncIDs []int
	for _, pr := range syncs {
		stmt, err := replication.SyncStmt(pr.name, pr.group.SyncParallelCount)
		after := append([]int{masterReady[pr.name], created[pr.name]}, truncs...)
		after = append(after, beforeSync...)
		syncIDs = append(syncIDs, b.sql(0, pr.name, PhaseSync, "copy the MASTER's rows to this pod and start MASTER → this pod", append(after, syncPrep...), false, stmt, err))
	}

	// This pod's side of every pair starts after the SYNCs: its objects
	// keep XSN -1 until then, so a run killed before takes this fresh path
	// again, never the rejoin path that would skip the SYNC.
	for _, pr := range pairs {
		if pr.peer != 0 && !b.obs.Servers[pr.peer].Reachable {
			continue
		}
		if _, ok := b.obs.Servers[pr.peer].object(pr.name); pr.peer != 0 && !ok {
			continue
		}
		if mine := self.Objects[pr.name]; mine.Started {
			continue
		}
		why := fmt.Sprintf("replicate this pod's changes to pod %d", pr.peer)
		if pr.peer == 0 {
			why = "replicate this pod's changes to the MASTER (the SYNC started the MASTER's side)"
		}
		stmt, err := replication.StartStmt(pr.name)
		b.sql(me, pr.name, PhaseNone, why, append([]int{created[pr.name], clear}, syncIDs...), false, stmt, err)
	}
	if d := b.cfg.DelayStartComplete; d > 0 {
		b.add(Step{Kind: StepWait, Server: Local, Wait: d, After: syncIDs, Why: "AKU_DELAY_START_COMPLETE_TIME after the data sync"})
	}
	b.finishStart()
	return nil
}

func (b *planner) startRejoin(pairs []pair) error {
	p := b.plan
	me := b.me
	self := b.obs.Servers[me]
	p.Path = PathRejoinSlave
	p.Why = "this SLAVE's replication kept its restart points (XSN ≠ -1): no truncate or SYNC; start the pairs and flush the gap (spec §6.3)"
	// A rejoin catches up by flushing from the restart points (spec §6.3).
	// A peer that is open to users but holds no restart point toward this
	// pod (an end killed between the peer's RESET and this pod's, or a peer
	// that started afresh while this pod was away) would start its side from
	// now: what users wrote there meanwhile would never reach this pod.
	var lost []string
	for _, pr := range pairs {
		peer := b.obs.Servers[pr.peer]
		theirs, ok := peer.object(pr.name)
		if mine, mineOK := self.Objects[pr.name]; ok && mineOK && hasState(mine) && !hasState(theirs) && peer.AdminMode == 0 {
			lost = append(lost, fmt.Sprintf("%s (XSN %d here, XSN -1 on %s, which is open to users)", pr.name, mine.XSN, peer.Host))
		}
	}
	if len(lost) > 0 {
		return fmt.Errorf("%w: a rejoin would miss the rows written on the peers meanwhile, which hold no restart point for this pod: %s; "+
			"run aku -p end with AKU_REPLICATION_RESET_AT_END = 1 on this pod, then aku -p start, which truncates it and SYNCs it from the MASTER (spec §6.2)",
			ErrUnsafe, strings.Join(lost, "; "))
	}
	first := b.restoreSavedDDL()
	created := b.createMissing(pairs, []int{first})
	for _, pr := range pairs {
		theirs, ok := b.peerSide(pr)
		if !ok {
			continue
		}
		mine, mineOK := self.Objects[pr.name]
		selfStart, peerStart := b.startPair(pr, mine, mineOK, theirs, []int{created[pr.name]})
		if !b.cfg.FlushAtStart {
			continue
		}
		stmt, err := replication.FlushStmt(pr.name, 0)
		b.sql(me, pr.name, PhaseFlush, "send what this pod had not sent yet", []int{selfStart}, false, stmt, err)
		stmt, err = replication.FlushStmt(pr.name, b.cfg.FlushTimeoutAtStart)
		why := "send this pod what the peer had not sent yet (AKU_FLUSH_TIMEOUT_AT_START = 0: FLUSH ALL)"
		if b.cfg.FlushTimeoutAtStart > 0 {
			why = fmt.Sprintf("send this pod what the peer had not sent yet, waiting at most AKU_FLUSH_TIMEOUT_AT_START = %d s", int64(b.cfg.FlushTimeoutAtStart/time.Second))
		}
		b.sql(pr.peer, pr.name, PhaseFlush, why, []int{peerStart}, false, stmt, err)
	}
	b.finishStart()
	return nil
}

func (b *planner) end() {
	p := b.plan
	me := b.me
	self := b.obs.Servers[me]
	p.Path = PathEnd
	reset := me != 0 && b.cfg.ReplicationResetAtEnd
	switch {
	case me == 0:
		p.Why = "MASTER end: flush, stop both sides; never reset, the MASTER's restart points must survive (spec §7)"
	case reset:
		p.Why = "SLAVE end: flush, stop both sides, reset both sides so no pod keeps logs for this one (spec §7)"
	default:
		p.Why = "SLAVE end with AKU_REPLICATION_RESET_AT_END = 0: flush, stop both sides, keep the restart points for a rejoin (spec §7, §6.3)"
	}
	first := b.restoreSavedDDL()
	for _, pr := range pairsOf(b.cfg, me) {
		mine, ok := self.Objects[pr.name]
		peer := b.obs.Servers[pr.peer]
		theirs, theirsOK := peer.object(pr.name)
		last := first
		flushID := 0
		if ok && mine.Started && b.cfg.FlushAtEnd {
			if peer.Reachable {
				stmt, err := replication.FlushStmt(pr.name, 0)
				flushID = b.sql(me, pr.name, PhaseFlush, "hand over what this pod has not sent yet (AKU_FLUSH_AT_END = 1)", []int{first}, false, stmt, err)
				last = flushID
			} else {
				b.note("%s not flushed: its peer %s is not reachable, FLUSH ALL would wait for it until AKU_QUERY_TIMEOUT", pr.name, peer.Host)
			}
		}
		if ok && mine.Started {
			stmt, err := replication.StopStmt(pr.name)
			last = b.sql(me, pr.name, PhaseNone, "stop this side", []int{last}, false, stmt, err)
		}
		selfReset := 0
		if ok && reset && hasState(mine) {
			stmt, err := replication.ResetStmt(pr.name)
			selfReset = b.sql(me, pr.name, PhaseReset, "forget the restart point", []int{last}, false, stmt, err)
		}
		if !theirsOK {
			continue
		}
		peerLast := 0
		if theirs.Started {
			stmt, err := replication.StopStmt(pr.name)
			// After this pod's FLUSH of the pair: what this pod hands over
			// reaches the peer before the peer's side changes state.
			peerLast = b.sql(pr.peer, pr.name, PhaseNone, "stop the peer's side toward this pod", []int{first, flushID}, true, stmt, err)
		}
		if reset && hasState(theirs) {
			stmt, err := replication.ResetStmt(pr.name)
			// After this pod's own RESET: an end killed in between then
			// leaves this pod without a restart point, so its next start
			// SYNCs afresh; the other order would leave a restart point
			// here only, which a rejoin cannot use (see startRejoin).
			b.sql(pr.peer, pr.name, PhaseReset, "the peer forgets its restart point for this pod, and its logs for it", []int{peerLast, selfReset}, true, stmt, err)
		}
	}
	b.add(Step{Kind: StepRemoveMarker, Server: Local, After: b.all(), Why: "this pod is no longer started"})
}

func (b *planner) clean() {
	p := b.plan
	me := b.me
	self := b.obs.Servers[me]
	p.Path = PathClean
	p.Why = "drop this pod's replication objects and stop their counterparts on the other pods (spec §7, BUG-50873)"
	first := b.restoreSavedDDL()
	for _, pr := range pairsOf(b.cfg, me) {
		mine, ok := self.Objects[pr.name]
		if ok {
			last := first
			if mine.Started {
				stmt, err := replication.StopStmt(pr.name)
				last = b.sql(me, pr.name, PhaseNone, "DROP needs it stopped", []int{first}, false, stmt, err)
			}
			stmt, err := replication.DropStmt(pr.name)
			b.sql(me, pr.name, PhaseNone, "clean removes aku's objects from this pod", []int{last}, false, stmt, err)
		}
		peer := b.obs.Servers[pr.peer]
		if theirs, ok := peer.object(pr.name); ok && theirs.Started {
			stmt, err := replication.StopStmt(pr.name)
			b.sql(pr.peer, pr.name, PhaseNone, "stop the counterpart toward this pod", []int{first}, true, stmt, err)
		}
	}
	b.add(Step{Kind: StepRemoveMarker, Server: Local, After: b.all(), Why: "this pod is no longer started"})
}

// FailureError is a failure of spec §8: Message is the original's exact
// sentence, Objects the evidence.
type FailureError struct {
	Class   error // ErrMasterFailure or ErrSlaveFailure
	Message string
	Objects []string
}

// Error is the original's message followed by the objects that show it.
func (e *FailureError) Error() string {
	s := e.Message
	for i, o := range e.Objects {
		if i == 0 {
			s += " Evidence: "
		} else {
			s += "; "
		}
		s += o
	}
	return s
}

// Unwrap returns the class, for errors.Is.
func (e *FailureError) Unwrap() error { return e.Class }

// CriticalPath is the number of statements on the longest chain of steps
// that must run one after another: along After, and along the order of
// steps on one server (one session each). With every statement taking the
// same time t, no schedule can finish before CriticalPath × t.
func (p *Plan) CriticalPath() int {
	depth := make([]int, len(p.Steps)+1)
	lastOn := map[int]int{}
	best := 0
	for _, s := range p.Steps {
		d := 0
		for _, a := range s.After {
			d = max(d, depth[a])
		}
		if s.Server != Local {
			if prev, ok := lastOn[s.Server]; ok {
				d = max(d, depth[prev])
			}
			lastOn[s.Server] = s.ID
		}
		if s.Kind == StepSQL {
			d++
		}
		depth[s.ID] = d
		best = max(best, d)
	}
	return best
}

// Statements counts the plan's SQL steps.
func (p *Plan) Statements() int {
	n := 0
	for _, s := range p.Steps {
		if s.Kind == StepSQL {
			n++
		}
	}
	return n
}
