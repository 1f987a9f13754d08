package podlife

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/replication"
)

// BuildReleasePlan decides what aku -p release does on pod id for the gone
// peers (docs/behaviour.md, "Stale peers"). It does no I/O.
//
// For each of this pod's pairs with one of the peers, this pod's side is
// stopped if it runs and then reset: its restart point is forgotten, and
// with it the log files the server keeps for that peer and what it had
// not sent there. Nothing is done on the gone peer, on any other peer, or
// to the marker. A side already stopped without restart point is left
// alone, so a release run again has nothing to do.
//
// It fails with ErrBadRelease when peers is empty or names this pod or an
// ordinal not below AKU_SERVER_COUNT, and with ErrUnsafe, before planning
// any step, when one of the peers answers (its connect got through, or it
// did not answer in time): a peer that is only restarting rejoins through
// these pairs, so a live pair is never reset.
func BuildReleasePlan(cfg *conf.Config, id Identity, obs Observation, peers []int) (*Plan, error) {
	gone, err := releaseTargets(cfg, id, peers)
	if err != nil {
		return nil, err
	}
	b, err := newPlanner(ActionRelease, cfg, id, obs)
	if err != nil {
		return b.result(), err
	}
	return b.finish(b.release(gone))
}

// releaseTargets checks the ordinals of a release and returns them sorted,
// each once.
func releaseTargets(cfg *conf.Config, id Identity, peers []int) ([]int, error) {
	if len(peers) == 0 {
		return nil, fmt.Errorf("%w: aku -p release needs the ordinals of the gone peers (--peer N[,M])", ErrBadRelease)
	}
	for _, q := range peers {
		switch {
		case q == id.Ordinal:
			return nil, fmt.Errorf("%w: peer %d is this pod (%s): a pod releases its pairs with other pods", ErrBadRelease, q, id.PodName)
		case q < 0 || q >= cfg.ServerCount:
			return nil, fmt.Errorf("%w: peer %d is not an ordinal below AKU_SERVER_COUNT %d", ErrBadRelease, q, cfg.ServerCount)
		}
	}
	gone := slices.Clone(peers)
	slices.Sort(gone)
	return slices.Compact(gone), nil
}

// refuseAnswering refuses the release when a gone peer answers: only a
// peer whose connect failed (its name does not resolve, or nothing accepts
// the connection) may be released.
func (b *planner) refuseAnswering(gone []int) error {
	var live []string
	for _, q := range gone {
		v := b.obs.Servers[q]
		switch {
		case v.Dropped:
			live = append(live, v.Host+" accepted aku's connection and lost it while it was read")
		case v.Reachable || v.Class != ClassAbsent:
			live = append(live, v.Host+" "+v.Status())
		}
	}
	if len(live) == 0 {
		return nil
	}
	return fmt.Errorf("%w: release refused, nothing was changed: %s; a pod whose server answers is not gone, and a live pair is never reset: "+
		"if it is only restarting, it rejoins through these pairs (docs/behaviour.md, \"Stale peers\")", ErrUnsafe, strings.Join(live, "; "))
}

// release plans the STOP and RESET of this pod's side of each pair with a
// gone peer, or refuses before any step when one of them answers.
func (b *planner) release(gone []int) error {
	p := b.plan
	p.Path = PathRelease
	names := make([]string, len(gone))
	for i, q := range gone {
		names[i] = b.cfg.StsName + "-" + strconv.Itoa(q)
	}
	p.Why = fmt.Sprintf("release this pod's pairs with %s, which is gone: stop and reset this pod's side only, so that its server no longer keeps log files for it; nothing is done on other pods, nor to the marker (docs/behaviour.md, \"Stale peers\")",
		strings.Join(names, ", "))
	if err := b.refuseAnswering(gone); err != nil {
		return err
	}
	first := b.restoreSavedDDL()
	self := b.obs.Servers[b.me]
	for _, pr := range pairsOf(b.cfg, b.me) {
		if !slices.Contains(gone, pr.peer) {
			continue
		}
		mine, ok := self.Objects[pr.name]
		if !ok || !hasState(mine) {
			b.note("%s holds no restart point on this pod: nothing to release", pr.name)
			continue
		}
		after := []int{first}
		if mine.Started {
			after = []int{b.sql(b.me, PhaseStop, fmt.Sprintf("RESET needs it stopped: its sender toward pod %d stops", pr.peer), after, b.must(replication.StopStmt(pr.name)))}
		}
		id := b.sql(b.me, PhaseReset, fmt.Sprintf("forget the restart point toward pod %d and the log files kept for it", pr.peer), after, b.must(replication.ResetStmt(pr.name)))
		p.Steps[id-1].Warning = fmt.Sprintf("Replication released: %s-%d is gone, so this pod no longer keeps log files for it and drops what it had not sent there; if that pod comes back, it cannot rejoin through this pair (docs/behaviour.md, \"Stale peers\").",
			b.cfg.StsName, pr.peer)
	}
	return nil
}
