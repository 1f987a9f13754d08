package podlife

import (
	"fmt"
	"sort"
	"time"

	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/replication"
)

// Action is a lifecycle command: aku -p start|end|clean (spec §5).
type Action string

// The actions.
const (
	ActionStart Action = "start"
	ActionEnd   Action = "end"
	ActionClean Action = "clean"
)

// ParseAction accepts start, end and clean.
func ParseAction(s string) (Action, error) {
	switch a := Action(s); a {
	case ActionStart, ActionEnd, ActionClean:
		return a, nil
	}
	return "", fmt.Errorf("unknown pod action %q: want start, end or clean", s)
}

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
	// StepCheckPairs is a start's closing check (docs/behaviour.md,
	// "Half-built pairs"): it reads the servers and fails the run unless
	// every pair with a running peer is built and started on both sides.
	StepCheckPairs StepKind = "check the pairs"
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
	PhaseStop     Phase = "stop" // no message of its own in the original
	PhaseReset    Phase = "reset"
)

// Local is the Step.Server of steps that run on this pod without a server
// (files, waits).
const Local = -1

// Step is one thing a plan does.
type Step struct {
	ID          int // 1-based, the step's position in Plan.Steps
	Kind        StepKind
	Server      int              // ordinal of the server the statement runs on, or Local
	Host        string           // that server's DNS name ("" for Local)
	Statement   string           // for StepSQL, its SQL
	Verb        replication.Verb // for StepSQL, what it does
	Replication string           // the replication object concerned, "" if none
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
	// KeepsOnFailure marks an optional FLUSH whose failure keeps every
	// restart point: the steps that list it in IfOK are then skipped.
	KeepsOnFailure bool
	// IfOK lists steps that must have succeeded for this one to run; when
	// one of them failed (optionally), this step is skipped and the run
	// ends with ErrRestartPointsKept. It orders nothing: After does.
	IfOK []int
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
	// Kept are the pairs whose FLUSH was skipped at end, so that no
	// replication was reset: the run then fails with ErrRestartPointsKept
	// after its steps.
	Kept []string
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

// sql adds a statement step on server; st comes from a replication
// builder through must.
func (b *planner) sql(server int, phase Phase, why string, after []int, st replication.Statement) int {
	return b.add(Step{Kind: StepSQL, Server: server, Statement: st.SQL, Verb: st.Verb, Replication: st.Replication, Phase: phase, Why: why, After: after})
}

// must returns a builder's statement and records the first builder error,
// which BuildPlan returns: names come from a validated configuration, so
// an error here is a bug, but it is reported, never ignored.
func (b *planner) must(st replication.Statement, err error) replication.Statement {
	if err != nil && b.err == nil {
		b.err = fmt.Errorf("building a statement: %w", err)
	}
	return st
}

// optional marks step id optional (a failure is logged and the run goes
// on) and returns id.
func (b *planner) optional(id int) int {
	b.plan.Steps[id-1].Optional = true
	return id
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
		if v.Class == ClassSysdbaBusy || v.Class == ClassRefused {
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
		last = b.sql(b.me, PhaseNone, "a previous run was killed between setting REPLICATION_DDL_ENABLE = 1 and restoring it; restore the saved value", nil, b.must(replication.SetSystem("REPLICATION_DDL_ENABLE", v)))
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
	if drift := b.drifted(); len(drift) > 0 {
		return b.refuseDrift(drift)
	}
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
		created[pr.name] = b.sql(b.me, PhaseNone, "missing on this pod", after, b.must(replication.CreateReplication(pr.name, PeerHost(b.cfg, pr.peer), b.cfg.ReplicationPortNo, pr.group.Items)))
	}
	return created
}

// finishStart adds ADMIN_MODE = 0 (unless already 0) and the marker after
// every step so far (spec §6.1 step 6, §6.2 steps 8–9).
func (b *planner) finishStart() {
	deps := []int{b.add(Step{Kind: StepCheckPairs, Server: Local, After: b.all(),
		Why: "every pair with a running peer is built and started on both sides, before the server opens and the marker is written"})}
	last := 0
	if b.obs.Servers[b.me].AdminMode != 0 {
		last = b.sql(b.me, PhaseNone, "open this server to users", deps, b.must(replication.SetSystem("ADMIN_MODE", 0)))
	}
	if last != 0 {
		deps = []int{last}
	}
	b.add(Step{Kind: StepWriteMarker, Server: Local, After: deps, Why: "the startup probe waits for it"})
}

// startPair starts one pair on this pod and on its peer, each side unless
// it runs already, and returns the IDs of the two START steps (0 when
// skipped).
func (b *planner) startPair(pr pair, mine replication.State, mineExists bool, theirs replication.State, side sideKind, after []int) (selfID, peerID int) {
	if !mineExists || !mine.Started {
		selfID = b.sql(b.me, PhaseNone, fmt.Sprintf("replicate this pod's changes to pod %d", pr.peer), after, b.must(replication.StartStmt(pr.name)))
	}
	if side != sideStarting && !theirs.Started {
		peerID = b.sql(pr.peer, PhaseNone, fmt.Sprintf("replicate pod %d's changes to this pod", pr.peer), after, b.must(replication.StartStmt(pr.name)))
	}
	return selfID, peerID
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
			last = b.sql(0, PhaseNone, "missing on the MASTER, which must SYNC it", nil, b.must(replication.CreateReplication(pr.name, PeerHost(b.cfg, me), b.cfg.ReplicationPortNo, pr.group.Items)))
		}
		if ok && theirs.Started {
			last = b.sql(0, PhaseNone, "running on the MASTER from an earlier, unfinished start: SYNC needs it stopped", nil, b.must(replication.StopStmt(pr.name)))
		}
		if ok && hasState(theirs) {
			last = b.sql(0, PhaseNone, "the MASTER holds a restart point for this pod from an earlier life: SYNC starts afresh", []int{last}, b.must(replication.ResetStmt(pr.name)))
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
		toggle = b.sql(me, PhaseTruncate, "TRUNCATE of a replicated table needs it", []int{save}, b.must(replication.SetSystem("REPLICATION_DDL_ENABLE", 1)))
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
			// After the objects exist: a TRUNCATE then already counts as DDL
			// on a replicated table, as in the original's order.
			truncs = append(truncs, b.sql(me, PhaseTruncate, "empty this pod before the SYNC copies the MASTER's rows (no duplicate rows)", append([]int{save, toggle}, createdIDs...), b.must(replication.TruncateStmt(it))))
		}
	}
	restore := 0
	if prev != 1 {
		restore = b.sql(me, PhaseNone, fmt.Sprintf("restore the value it had (%d)", prev), truncs, b.must(replication.SetSystem("REPLICATION_DDL_ENABLE", prev)))
	}
	clear := b.add(Step{Kind: StepClearDDL, Server: Local, After: []int{restore, save}, Why: "REPLICATION_DDL_ENABLE is restored"})
	if prev != 1 {
		guard := b.must(replication.SetSystem("REPLICATION_DDL_ENABLE", prev))
		p.Guards = append(p.Guards, Guard{From: save, To: clear, Steps: []Step{
			{Kind: StepSQL, Server: me, Host: self.Host, Statement: guard.SQL, Verb: guard.Verb, Why: "the run failed after REPLICATION_DDL_ENABLE was set to 1: restore it"},
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
	peerHas := map[string]bool{} // pairs whose peer side exists or is created above
	for _, pr := range pairs {
		if pr.peer == 0 {
			continue
		}
		peer := b.obs.Servers[pr.peer]
		theirs, side := b.peerSide(pr)
		if side == sideSkip || side == sideStarting {
			continue
		}
		peerHas[pr.name] = true
		deps := append([]int{created[pr.name]}, truncs...)
		if side == sideMissing {
			deps = []int{b.createPeerSide(pr, deps)}
		}
		if !theirs.Started {
			id := b.sql(pr.peer, PhaseNone, fmt.Sprintf("pod %d sends this pod its new rows itself from now on", pr.peer), deps, b.must(replication.StartStmt(pr.name)))
			beforeSync = append(beforeSync, id)
			deps = []int{id}
		}
		toMaster := replication.ObjectName(pr.group.Prefix, 0, pr.peer)
		if st, ok := peer.object(toMaster); ok && st.Started {
			beforeSync = append(beforeSync, b.sql(pr.peer, PhaseNone, fmt.Sprintf("pod %d's older rows reach the MASTER before its SYNC copies them", pr.peer), deps, b.must(replication.FlushStmt(toMaster, 0))))
		}
	}

	// SYNC on the MASTER: master → this pod, then that replication starts
	// on the master (spec §6.2 step 6).
	var syncIDs []int
	for _, pr := range syncs {
		after := append([]int{masterReady[pr.name], created[pr.name]}, truncs...)
		after = append(after, beforeSync...)
		syncIDs = append(syncIDs, b.sql(0, PhaseSync, "copy the MASTER's rows to this pod and start MASTER → this pod", append(after, syncPrep...), b.must(replication.SyncStmt(pr.name, pr.group.SyncParallelCount))))
	}

	// This pod's side of every pair starts after the SYNCs: its objects
	// keep XSN -1 until then, so a run killed before takes this fresh path
	// again, never the rejoin path that would skip the SYNC.
	for _, pr := range pairs {
		if pr.peer != 0 && !peerHas[pr.name] {
			continue
		}
		if mine := self.Objects[pr.name]; mine.Started {
			continue
		}
		why := fmt.Sprintf("replicate this pod's changes to pod %d", pr.peer)
		if pr.peer == 0 {
			why = "replicate this pod's changes to the MASTER (the SYNC started the MASTER's side)"
		}
		b.sql(me, PhaseNone, why, append([]int{created[pr.name], clear}, syncIDs...), b.must(replication.StartStmt(pr.name)))
	}
	if d := b.cfg.DelayStartComplete; d > 0 {
		b.add(Step{Kind: StepWait, Server: Local, Wait: d, After: syncIDs, Why: "AKU_DELAY_START_COMPLETE_TIME after the data sync"})
	}
	b.finishStart()
	return nil
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
				last = b.sql(me, PhaseNone, "DROP needs it stopped", []int{first}, b.must(replication.StopStmt(pr.name)))
			}
			b.sql(me, PhaseNone, "clean removes aku's objects from this pod", []int{last}, b.must(replication.DropStmt(pr.name)))
		}
		peer := b.obs.Servers[pr.peer]
		if theirs, ok := peer.object(pr.name); ok && theirs.Started {
			b.optional(b.sql(pr.peer, PhaseNone, "stop the counterpart toward this pod", []int{first}, b.must(replication.StopStmt(pr.name))))
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
