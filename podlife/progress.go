package podlife

import "context"

// Progress is told how a start goes, so that something outside the run can
// tell a start that makes progress from one that is stuck: the startup
// and liveness probes (docs/status.md, "aku probe"). podlife calls it for
// `start` only, and never for a dry run.
type Progress interface {
	// Begin is called once the start holds the run lock; End when the
	// start returns, whatever its outcome.
	Begin()
	End()
	// Step is called when a step of the plan begins; the returned func
	// when that step ends.
	Step(ctx context.Context, s Step) (done func())
}

// progressOf is in.Progress when it applies to the run, else a Progress
// that does nothing.
func progressOf(in Input) Progress {
	if in.Progress == nil || in.Action != ActionStart || in.DryRun {
		return noProgress{}
	}
	return in.Progress
}

type noProgress struct{}

func (noProgress) Begin()                                   {}
func (noProgress) End()                                     {}
func (noProgress) Step(context.Context, Step) (done func()) { return func() {} }
