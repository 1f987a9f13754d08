package podlife

import (
	"fmt"

	"github.com/aku-project/aku/conf"
)

// Path is the way through a lifecycle command that the observed state
// selects (docs/behaviour.md, "Observe, plan, execute").
type Path string

// The paths.
const (
	PathMaster        Path = "master start"          // docs/behaviour.md, "Master start"
	PathFreshSlave    Path = "fresh slave start"     // docs/behaviour.md, "Fresh slave start"
	PathRejoinSlave   Path = "rejoining slave start" // docs/behaviour.md, "Rejoining slave start"
	PathMasterFailure Path = "master failure"        // docs/behaviour.md, "Master failure"
	PathSlaveFailure  Path = "slave failure"         // docs/behaviour.md, "Slave failure"
	PathEnd           Path = "end"                   // docs/behaviour.md, "end"
	PathClean         Path = "clean"                 // docs/behaviour.md, "clean"
	PathRelease       Path = "release"               // docs/behaviour.md, "Stale peers"
	// PathNothing: the servers already are as the action leaves them;
	// only the marker is written or removed. Why names the path it would
	// have been.
	PathNothing Path = "nothing to do"
)

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
// docs/behaviour.md, "Master failure" and "Slave failure".
func BuildPlan(action Action, cfg *conf.Config, id Identity, obs Observation) (*Plan, error) {
	return planWithin(action, cfg, id, obs, nil)
}

// planWithin is BuildPlan for an end whose FLUSHes and closing steps share
// budget (nil: no deadline).
func planWithin(action Action, cfg *conf.Config, id Identity, obs Observation, budget *flushBudget) (*Plan, error) {
	b, err := newPlanner(action, cfg, id, obs)
	if err != nil {
		return b.result(), err
	}
	b.budget = budget
	if err := b.skipUnreachable(action); err != nil {
		return b.plan, err
	}
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
	return b.finish(err)
}

// newPlanner checks what every plan needs — one view per ordinal, this
// pod's ordinal below AKU_SERVER_COUNT, this pod's own server reachable —
// and returns the planner of an empty plan (nil when even the plan cannot
// be named).
func newPlanner(action Action, cfg *conf.Config, id Identity, obs Observation) (*planner, error) {
	podName, me := id.PodName, id.Ordinal
	if len(obs.Servers) != cfg.ServerCount {
		return nil, fmt.Errorf("planning %s: observation has %d servers, configuration %d", action, len(obs.Servers), cfg.ServerCount)
	}
	if me < 0 || me >= cfg.ServerCount {
		return nil, fmt.Errorf("%w: ordinal %d of %s is not below AKU_SERVER_COUNT %d", ErrIdentity, me, podName, cfg.ServerCount)
	}
	b := &planner{cfg: cfg, me: me, obs: &obs, plan: &Plan{Action: action, Pod: podName, Ordinal: me}}
	if self := obs.Servers[me]; !self.Reachable {
		return b, neededError("this pod's own server", self)
	}
	return b, nil
}

// result is the planner's plan, nil for no planner.
func (b *planner) result() *Plan {
	if b == nil {
		return nil
	}
	return b.plan
}

// finish returns the plan once its path has planned it, with err or the
// first builder error; a plan without statements or failure gets the path
// PathNothing.
func (b *planner) finish(err error) (*Plan, error) {
	p := b.plan
	if err == nil {
		err = b.err
	}
	if err != nil {
		return p, err
	}
	if p.Statements() == 0 && p.Failure == nil {
		p.Why = fmt.Sprintf("%s, already done on the servers: %s", p.Path, p.Why)
		p.Path = PathNothing
	}
	return p, nil
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

// skipUnreachable notes each peer that observe could not use, or refuses
// a start that cannot do without it.
func (b *planner) skipUnreachable(action Action) error {
	for q, v := range b.obs.Servers {
		if q == b.me || v.Reachable {
			continue
		}
		switch {
		case v.Class == ClassSysdbaBusy || v.Class == ClassRefused:
			// A running pod whose SYSDBA slot is taken (or that refuses
			// aku's session) is not an absent pod (docs/behaviour.md, "A
			// busy SYSDBA session"). A start without it would leave that
			// pair unreplicated, so start refuses; end and clean do the
			// rest and then fail, naming what is left.
			if action == ActionStart {
				return fmt.Errorf("%s is running but aku cannot open its session: %w", v.Host, v.Err)
			}
			b.plan.Busy = append(b.plan.Busy, v)
			b.note("%s is running but refused aku's session (%v): its side is skipped, and the run will fail once the rest is done", v.Host, v.Err)
		case action != ActionStart && q < b.me:
			// At end, pods with a higher ordinal are normally gone already
			// (scale-down goes from the top), but a lower one is expected
			// to run: its side of the pair keeps its restart point and its
			// logs for this pod.
			b.warn("%s %s: its side is skipped; if this pod leaves for good, that side is a stale replication to release there with ALTER REPLICATION ... STOP and RESET (docs/behaviour.md, \"Stale replications\")", v.Host, v.Status())
		default:
			b.note("%s %s: its side is skipped", v.Host, v.Status())
		}
	}
	return nil
}

// neededError is the error of a run that cannot do without server v,
// in words that match why v could not be used; v's error names the
// server.
func neededError(what string, v ServerView) error {
	switch v.Class {
	case ClassSysdbaBusy, ClassRefused, ClassDriver:
		return fmt.Errorf("%s %s, %w", what, v.Status(), v.Err)
	}
	return fmt.Errorf("%w: %s %s, %w", ErrNeededServerUnreachable, what, v.Status(), v.Err)
}
