package podlife

import (
	"fmt"
	"strings"

	"github.com/aku-project/aku/replication"
)

// startRejoin plans the start of a slave that kept its restart points
// (docs/behaviour.md, "Rejoining slave start"): no truncate or SYNC; start
// the pairs on both sides and flush the gap each way.
//
// A rejoin catches up by flushing from the restart points. A running peer
// that holds no restart point toward this pod (an end killed between the
// peer's RESET and this pod's, a peer that started afresh while this pod
// was away, a pair it never had) would start its side from now: what users
// wrote there meanwhile would never reach this pod. The start refuses
// then, before changing anything.
func (b *planner) startRejoin(pairs []pair) error {
	p := b.plan
	p.Path = PathRejoinSlave
	p.Why = "this SLAVE's replication kept its restart points (XSN ≠ -1): no truncate or SYNC; start the pairs and flush the gap (docs/behaviour.md, \"Rejoining slave start\")"
	var lost []string
	for _, pr := range pairs {
		if why := b.lostRestartPoint(pr); why != "" {
			lost = append(lost, fmt.Sprintf("%s (%s, which is open to users)", pr.name, why))
		}
	}
	if len(lost) > 0 && b.cfg.StalePeerTTL > 0 {
		return b.startAfterRelease(pairs, lost)
	}
	if len(lost) > 0 {
		return fmt.Errorf("%w: a rejoin would miss the rows written on the peers meanwhile, which hold no restart point for this pod: %s; "+
			"run aku -p end with AKU_REPLICATION_RESET_AT_END = 1 on this pod, then aku -p start, which truncates it and SYNCs it from the MASTER (docs/behaviour.md, \"Fresh slave start\")",
			ErrUnsafe, strings.Join(lost, "; "))
	}
	b.startPairs(pairs, func(replication.State, bool, replication.State) bool { return true })
	return nil
}

// startAfterRelease plans the start of a slave whose running peers hold no
// restart point for it while AKU_STALE_PEER_TTL is set: they released it
// while it was gone (docs/behaviour.md, "Stale peers"). A rejoin would
// miss what they wrote meanwhile, so it takes the fresh path, as a new pod:
// its own sides are stopped and reset, which drops what it had never sent,
// then it is truncated and SYNCed from the MASTER. A warning names those
// sides and their restart points: the changes after them are lost.
func (b *planner) startAfterRelease(pairs []pair, lost []string) error {
	self := b.obs.Servers[b.me]
	var held []string
	for _, pr := range pairs {
		if mine, ok := self.Objects[pr.name]; ok && hasState(mine) {
			held = append(held, fmt.Sprintf("%s toward %s from XSN %d", pr.name, PeerHost(b.cfg, pr.peer), mine.XSN))
		}
	}
	if err := b.startFresh(pairs); err != nil {
		return err
	}
	ttl := int64(b.cfg.StalePeerTTL.Seconds())
	b.plan.Why = fmt.Sprintf("this SLAVE kept restart points, but running peers released their side after AKU_STALE_PEER_TTL = %d s: reset this pod's sides, truncate its tables, SYNC from the MASTER, start the pairs (docs/behaviour.md, \"Stale peers\")", ttl)
	b.warn("the peers released this pod while it was gone (AKU_STALE_PEER_TTL = %d s) and kept no log for it: %s; a rejoin would miss the rows written there meanwhile, so this pod starts afresh from the MASTER. "+
		"Its changes that were never sent are lost: those after the restart points %s (docs/behaviour.md, \"Stale peers\")",
		ttl, strings.Join(lost, "; "), strings.Join(held, ", "))
	return nil
}
