package podlife

import (
	"github.com/aku-project/aku/replication"
)

func (b *planner) clean() {
	p := b.plan
	me := b.me
	self := b.obs.Servers[me]
	p.Path = PathClean
	p.Why = "drop this pod's replication objects and stop their counterparts on the other pods (docs/behaviour.md, \"clean\"; Altibase 7.1.0.9.6 patch notes, BUG-50873)"
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
