package podlife

import (
	"errors"
	"fmt"
)

// The original's exact failure messages (docs/behaviour.md, "Master
// failure", "Slave failure").
const (
	MasterFailureMessage = "The MASTER server is detected to have failed. Check and perform a manual recovery."
	SlaveFailureMessage  = "The SLAVE server is detected to have failed. Check and perform a manual recovery."
)

// FailureError is a master or slave failure: Message is the original's
// exact sentence, Objects the evidence.
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

// masterFailures applies the MASTER-failure rule (docs/behaviour.md,
// "Master failure") to the slaves that answered. For each, m is whether
// the MASTER's object toward it holds a restart point (started, or XSN ≠
// −1; a missing object holds none) and s whether the slave's object toward
// the MASTER does:
//
//   - m = no, s = yes: the MASTER lost what a slave still holds — master
//     failure;
//   - m = yes, s = no, slave open to users: the slave lost its state —
//     slave failure (a missing object counts as lost when the slave holds
//     other objects of the group; one holding none was cleaned);
//   - otherwise nothing is lost.
//
// The vendor's reviewers count every answering slave toward which the
// MASTER's object is −1. aku does not count a slave that holds no restart
// point toward the MASTER either (a slave that never finished its first
// start, or one that ended with a reset, as the other slaves of the manual
// recovery do): its next start truncates it and SYNCs it from the MASTER,
// so nothing of it is lost, and counting it would fail the recovery's last
// step.
func (b *planner) masterFailures(pairs []pair) (masterLost, slaveLost []string) {
	self := b.obs.Servers[0]
	for _, pr := range pairs {
		peer := b.obs.Servers[pr.peer]
		if !peer.Reachable {
			continue
		}
		mine, mineOK := self.Objects[pr.name]
		m := mineOK && hasState(mine)
		theirs, ok := peer.object(pr.name)
		if ok && !m && hasState(theirs) {
			masterLost = append(masterLost, fmt.Sprintf("%s (XSN -1 or missing here, XSN %d started=%t on %s)", pr.name, theirs.XSN, theirs.Started, peer.Host))
		} else if lost := b.lostRestartPoint(pr); m && lost != "" {
			slaveLost = append(slaveLost, fmt.Sprintf("%s (XSN %d here, %s, which is open to users)", pr.name, mine.XSN, lost))
		}
	}
	return masterLost, slaveLost
}

// lostRestartPoint says how a running peer's side of pair pr holds no
// restart point toward this pod — "XSN -1 on HOST" or "missing on HOST"
// (for a peer that holds other aku objects of the group; one holding none
// was cleaned) — or "" when it holds one or the peer is not running. A
// rejoin cannot use such a pair, and a MASTER that holds a restart point
// toward it sees a slave failure.
func (b *planner) lostRestartPoint(pr pair) string {
	if !b.running(pr.peer) {
		return ""
	}
	peer := b.obs.Servers[pr.peer]
	theirs, ok := peer.object(pr.name)
	switch {
	case ok && !hasState(theirs):
		return "XSN -1 on " + peer.Host
	case !ok && b.member(pr):
		return "missing on " + peer.Host
	}
	return ""
}

// reportFailure logs the original's sentence when err is a master or
// slave failure: the one place it is logged (the error returned carries
// the evidence). A failure found while planning comes before any other
// line, so the original's opening line is logged first.
func (r *run) reportFailure(err error, planning bool) {
	var fe *FailureError
	if !errors.As(err, &fe) {
		return
	}
	if planning {
		r.podLog.Info("Start as " + r.role() + " Pod.")
	}
	r.podLog.Error(fe.Message)
}
