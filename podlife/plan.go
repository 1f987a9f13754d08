package podlife

import (
	"time"

	"github.com/aku-project/aku/replication"
)

// StepKind says what a Step does.
type StepKind string

// The step kinds. Only StepSQL talks to a server; the others act on this
// pod's files or wait.
const (
	StepSQL          StepKind = "sql"
	StepWait         StepKind = "wait"          // AKU_DELAY_START_COMPLETE_TIME
	StepWriteMarker  StepKind = "write marker"  // docs/behaviour.md, "The marker"
	StepRemoveMarker StepKind = "remove marker" // docs/behaviour.md, "The marker"
	StepSaveDDL      StepKind = "save REPLICATION_DDL_ENABLE"
	StepClearDDL     StepKind = "forget saved REPLICATION_DDL_ENABLE"
	// StepCheckPairs is a start's closing check (docs/behaviour.md,
	// "Half-built pairs"): it reads the servers and fails the run unless
	// every pair with a running peer is built and started on both sides.
	StepCheckPairs StepKind = "check the pairs"
	// StepCheckGaps follows the FLUSH WAIT statements of an end with a
	// deadline (docs/behaviour.md, "The deadline"): it reads this pod's
	// V$REPGAP and keeps every restart point when a pair it flushed (the
	// FLUSH steps in its After list) still has something to send.
	StepCheckGaps StepKind = "check the gaps"
)

// Phase groups steps under the original's log messages (docs/behaviour.md,
// "Log lines"): the first step of a phase logs its start message, the last
// its end message.
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
	// Warning, when set, is logged at WARNING once the step succeeded,
	// after its own line: something the operator should know it did (a
	// released pair: docs/behaviour.md, "Stale peers").
	Warning string
	// IfOK lists steps that must have succeeded for this one to run; when
	// one of them failed (optionally), this step is skipped and the run
	// ends with ErrRestartPointsKept. It orders nothing: After does.
	IfOK []int
}

// Guard is clean-up the executor runs when a run fails after step From
// succeeded and before step To succeeded: it restores
// REPLICATION_DDL_ENABLE after a failed TRUNCATE (docs/behaviour.md, "The
// DDL journal").
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
	// Leaving is the Kubernetes verdict an end with
	// AKU_REPLICATION_RESET_AT_END = 2 decided its reset on ("leaving",
	// "returning" or "unknown"); "" otherwise.
	Leaving string
	Steps   []Step
	Guards  []Guard
	Notes   []string
	// Warnings are notes the operator should act on (logged at WARNING).
	Warnings []string
	// Failure, when set, is the master or slave failure (docs/behaviour.md,
	// "Master failure") the run reports after its steps (which prepare the
	// manual recovery) have run.
	Failure *FailureError
	// Kept are the pairs whose FLUSH was skipped at end, so that no
	// replication was reset: the run then fails with ErrRestartPointsKept
	// after its steps.
	Kept []string
	// Deadline, set for an end with a deadline, is how its time was
	// shared (docs/behaviour.md, "The deadline").
	Deadline *DeadlineShare
	// Busy are running peers that would not let aku in: their SYSDBA
	// session was taken (docs/behaviour.md, "A busy SYSDBA session"), or
	// they refused the session. end and
	// clean skip their side and then fail with that peer's error.
	Busy []ServerView
}

// CriticalPath is the number of statements on the longest chain of steps
// that must run one after another: along After, and along the order of
// steps on one server (one session each). The closing check counts as one
// statement: it reads every server once, in parallel; so does the check of
// the gaps after an end's FLUSH WAIT. With every statement
// taking the same time t, no schedule can finish before CriticalPath × t.
func (p *Plan) CriticalPath() int {
	return p.pathOf(func(s Step) bool { return s.Kind == StepSQL || s.Kind == StepCheckPairs || s.Kind == StepCheckGaps })
}

// pathOf is CriticalPath counting only the steps count accepts: the
// longest chain, along After and along each server's order, of steps that
// count.
func (p *Plan) pathOf(count func(Step) bool) int {
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
		if count(s) {
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
