package podlife

import (
	"fmt"
	"sort"

	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/replication"
)

// pair is one replication object of this pod: a group's PREFIX_ij with
// peer q.
type pair struct {
	name  string
	group conf.Group
	peer  int
}

// pairsOf lists the objects of pod p in group order, then peer order
// (docs/behaviour.md, "Replication objects").
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
	// budget, for an end with a deadline, is the time its FLUSHes and
	// closing steps share; nil without one.
	budget *flushBudget
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

// all returns the IDs of every step so far.
func (b *planner) all() []int {
	ids := make([]int, len(b.plan.Steps))
	for i := range ids {
		ids[i] = i + 1
	}
	return ids
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

// createMissing adds CREATE REPLICATION for this pod's missing objects
// (docs/behaviour.md, "Observe, plan, execute": an object that exists is
// not created) and returns each object's create step ID (0 when it exists).
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
// every step so far (docs/behaviour.md, "Choosing the path").
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

// startPairs plans a master or rejoining start after its checks: this
// pod's missing objects are created, every pair with a peer whose side
// exists (or is built here, on a running peer that lacks it) is started on
// both sides, and flushed both ways where flush says so; then the closing
// check, ADMIN_MODE = 0 and the marker.
func (b *planner) startPairs(pairs []pair, flush func(mine replication.State, mineOK bool, theirs replication.State) bool) {
	self := b.obs.Servers[b.me]
	first := b.restoreSavedDDL()
	created := b.createMissing(pairs, []int{first})
	for _, pr := range pairs {
		theirs, side := b.peerSide(pr)
		if side == sideSkip {
			continue
		}
		after := []int{created[pr.name]}
		if side == sideMissing {
			after = append(after, b.createPeerSide(pr, after))
		}
		mine, mineOK := self.Objects[pr.name]
		selfStart, peerStart := b.startPair(pr, mine, mineOK, theirs, side, after)
		if side == sideExists && flush(mine, mineOK, theirs) {
			b.flushPair(pr, selfStart, peerStart)
		}
	}
	b.finishStart()
}
