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
	if len(lost) > 0 {
		return fmt.Errorf("%w: a rejoin would miss the rows written on the peers meanwhile, which hold no restart point for this pod: %s; "+
			"run aku -p end with AKU_REPLICATION_RESET_AT_END = 1 on this pod, then aku -p start, which truncates it and SYNCs it from the MASTER (docs/behaviour.md, \"Fresh slave start\")",
			ErrUnsafe, strings.Join(lost, "; "))
	}
	b.startPairs(pairs, func(replication.State, bool, replication.State) bool { return true })
	return nil
}
