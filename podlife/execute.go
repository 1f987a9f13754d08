package podlife

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aku-project/aku/replication"
)

// Log attribute keys: the text handler of cmd/aku prints them in the
// original's [target pod][replication name] fields (docs/behaviour.md, "Log
// lines").
const (
	LogKeyPod         = "pod"
	LogKeyReplication = "replication"
)

// guardTimeout bounds the clean-up of a failed run (restoring
// REPLICATION_DDL_ENABLE), which runs even when ctx was cancelled.
const guardTimeout = 30 * time.Second

// phaseMessages are the original's start and end lines of each phase
// (docs/behaviour.md, "Log lines").
var phaseMessages = map[Phase][2]string{
	PhaseTruncate: {"Truncate tables for replications.", "Table truncation has ended."},
	PhaseSync:     {"Sync tables from MASTER Server.", "Replication sync has ended."},
	PhaseFlush:    {"Flush replications.", "Replication flush has ended."},
	PhaseReset:    {"Reset replications.", "Replication reset has ended."},
}

// executor runs a plan: one goroutine per server (its one session runs
// the server's steps in plan order) plus one for local steps; a step
// starts as soon as the steps in its After list are done, so independent
// servers proceed in parallel and no phase waits for another server's
// unrelated work. Plan order is a topological order, which makes this
// deadlock-free: the earliest waiting step always has its dependencies at
// the heads of other lanes or done.
type executor struct {
	plan     *Plan
	sessions sessions
	marker   Marker
	content  string // the marker's content
	// check is the closing check of StepCheckPairs.
	check   func(ctx context.Context) error
	clock   Clock
	log     *slog.Logger
	podName func(server int) string

	progress Progress // told when each step begins and ends

	// budget is the run's deadline; flushEnd, not zero with a deadline,
	// ends the FLUSH window: the START and FLUSH steps are cut there, and
	// each FLUSH is a FLUSH WAIT for what is left of it.
	budget   budget
	flushEnd time.Time
	// peerHost names the peer of one of this pod's replications.
	peerHost func(replication string) string

	done    []chan struct{}
	ok      []atomic.Bool
	aborted atomic.Bool

	mu         sync.Mutex
	errs       []error
	kept       []string // the FLUSHes that failed (KeepsOnFailure), as "REPL on HOST (...)"
	keptRepl   map[string]bool
	drained    map[string]bool // replications whose FLUSH ALL WAIT returned before its time was up
	phaseLeft  map[Phase]int
	phaseBegun map[Phase]bool
}

func (x *executor) run(ctx context.Context) error {
	n := len(x.plan.Steps)
	x.done = make([]chan struct{}, n+1)
	x.ok = make([]atomic.Bool, n+1)
	for i := range x.done {
		x.done[i] = make(chan struct{})
	}
	close(x.done[0])
	x.ok[0].Store(true)
	x.phaseLeft = map[Phase]int{}
	x.phaseBegun = map[Phase]bool{}
	lanes := map[int][]*Step{}
	var order []int
	for i := range x.plan.Steps {
		s := &x.plan.Steps[i]
		if _, ok := lanes[s.Server]; !ok {
			order = append(order, s.Server)
		}
		lanes[s.Server] = append(lanes[s.Server], s)
		if _, ok := phaseMessages[s.Phase]; ok {
			x.phaseLeft[s.Phase]++
		}
	}
	var wg sync.WaitGroup
	for _, server := range order {
		wg.Add(1)
		go func(steps []*Step) {
			defer wg.Done()
			for _, s := range steps {
				x.step(ctx, s)
			}
		}(lanes[server])
	}
	wg.Wait()
	if !x.aborted.Load() {
		return nil
	}
	x.runGuards(ctx)
	return errors.Join(x.errs...)
}

// step waits for s's dependencies, runs it unless the run was aborted, and
// marks it done.
func (x *executor) step(ctx context.Context, s *Step) {
	defer close(x.done[s.ID])
	for _, a := range s.After {
		<-x.done[a]
	}
	if x.aborted.Load() {
		return
	}
	if err := ctx.Err(); err != nil {
		switch {
		case !errors.Is(err, context.DeadlineExceeded):
			x.fail(fmt.Errorf("before step %d: %w", s.ID, err))
			return
		case s.Kind != StepRemoveMarker:
			// The end's deadline (Input.Deadline) passed: what is left
			// of the plan does not run; the next run finishes it.
			what := string(s.Kind)
			if s.Kind == StepSQL {
				what = s.Statement + " on " + s.Host
			}
			x.fail(fmt.Errorf("%w: the end's deadline passed before step %d (%s)", replication.ErrTimeout, s.ID, what))
			return
		}
		// The marker goes whatever the deadline when every step before
		// it ran (a failed one aborts the run, as without a deadline): it
		// is a local file, and the replications it vouched for are
		// stopped.
	}
	for _, id := range s.IfOK {
		if !x.ok[id].Load() {
			x.log.Warn("Restart point kept (not reset): a FLUSH of this run failed.", x.attrs(s)...)
			return
		}
	}
	x.beginPhase(s.Phase)
	s, wait, err := x.timed(s)
	if err == nil {
		done := x.progress.Step(ctx, *s)
		sctx, cancel := ctx, context.CancelFunc(func() {})
		if s.Kind == StepSQL && s.Phase == PhaseFlush {
			sctx, cancel = x.budget.until(ctx, x.flushEnd)
		}
		began := x.clock.Now()
		err = x.exec(sctx, s)
		if err == nil && wait > 0 && x.clock.Now().Sub(began) < wait-drainMargin {
			x.markDrained(s.Replication)
		}
		cancel()
		done()
	}
	var cut *cutError
	switch {
	case err != nil && errors.As(err, &cut):
		// checkGaps logged each pair.
		for i, name := range cut.names {
			x.keep(name, cut.entries[i], true)
		}
		x.endPhase(s.Phase)
		return
	case err != nil && s.KeepsOnFailure:
		entry, msg := x.keptBy(s, err)
		x.keep(s.Replication, entry, false)
		x.log.Warn(msg+err.Error(), x.attrs(s)...)
		x.endPhase(s.Phase)
		return
	case err != nil && s.Optional:
		// Not done: no success line, and steps that need it (IfOK) see
		// that.
		x.log.Warn("Optional step failed; continuing: "+err.Error(), x.attrs(s)...)
		x.endPhase(s.Phase)
		return
	}
	if err != nil {
		x.fail(err)
		return
	}
	x.ok[s.ID].Store(true)
	if s.Kind == StepSQL {
		msg := stepMessage(s)
		if s.Verb == replication.VerbFlush && !x.flushEnd.IsZero() {
			// A FLUSH WAIT of the deadline's window may have given up:
			// the gap check that follows says what was handed over.
			msg = "Replication flush window ended."
		}
		x.log.Info(msg, append(x.attrs(s), "sql", s.Statement)...)
	}
	if s.Warning != "" {
		x.log.Warn(s.Warning, x.attrs(s)...)
	}
	x.endPhase(s.Phase)
}

// timed is s as it runs now: a FLUSH of an end with a deadline becomes a
// FLUSH ALL WAIT for what is left of the FLUSH window, wait (errNoTimeToFlush
// when less than a second is).
func (x *executor) timed(s *Step) (_ *Step, wait time.Duration, _ error) {
	if x.flushEnd.IsZero() || s.Kind != StepSQL || s.Verb != replication.VerbFlush {
		return s, 0, nil
	}
	stmt, wait, err := x.flushStatement(s)
	if err != nil {
		return s, 0, err
	}
	t := *s
	t.Statement = stmt
	return &t, wait, nil
}

// drainMargin: a FLUSH ALL WAIT that returned this much before its wait was
// up did not give up (the server returns at the wait, silently, or when
// it has sent everything).
const drainMargin = 500 * time.Millisecond

// markDrained records that the FLUSH ALL WAIT of replication name
// returned before its time was up.
func (x *executor) markDrained(name string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.drained == nil {
		x.drained = map[string]bool{}
	}
	x.drained[name] = true
}

// drainedBy reports whether markDrained recorded name.
func (x *executor) drainedBy(name string) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.drained[name]
}

// keptBy is the entry of the run's error and the start of the log line
// for step s of end, whose failure err keeps every restart point.
func (x *executor) keptBy(s *Step, err error) (entry, msg string) {
	const next = "no replication will be reset, so the next aku -p start rejoins and flushes: "
	switch {
	case s.Kind == StepCheckGaps:
		return "the gaps on " + s.Host + " (unread: what the FLUSH WAIT left is unknown)", "Could not check the gaps after the FLUSH; " + next
	case errors.Is(err, errNoTimeToFlush):
		return s.Replication + " to " + x.peerHost(s.Replication) + " (cut at the deadline: no time left to flush)", "Flush cut at the deadline; " + next
	}
	return s.Replication + " on " + s.Host + " (its FLUSH failed)", "Flush failed; " + next
}

// keep records that the replication name keeps its restart points, with
// the entry the run's error lists; once only when the check of the gaps
// finds a pair whose FLUSH already failed.
func (x *executor) keep(name, entry string, once bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.keptRepl == nil {
		x.keptRepl = map[string]bool{}
	}
	if once && x.keptRepl[name] {
		return
	}
	x.keptRepl[name] = true
	x.kept = append(x.kept, entry)
}

func (x *executor) fail(err error) {
	x.aborted.Store(true)
	x.mu.Lock()
	x.errs = append(x.errs, err)
	x.mu.Unlock()
}

func (x *executor) attrs(s *Step) []any {
	pod, repl := "-", "-"
	if s.Server != Local {
		pod = x.podName(s.Server)
	}
	if s.Replication != "" {
		repl = s.Replication
	}
	return []any{LogKeyPod, pod, LogKeyReplication, repl}
}

func (x *executor) beginPhase(p Phase) {
	if _, ok := phaseMessages[p]; !ok {
		return
	}
	x.mu.Lock()
	first := !x.phaseBegun[p]
	x.phaseBegun[p] = true
	x.mu.Unlock()
	if first {
		x.log.Info(phaseMessages[p][0])
	}
}

func (x *executor) endPhase(p Phase) {
	if _, ok := phaseMessages[p]; !ok {
		return
	}
	x.mu.Lock()
	x.phaseLeft[p]--
	last := x.phaseLeft[p] == 0
	x.mu.Unlock()
	if last {
		x.log.Info(phaseMessages[p][1])
	}
}

// exec performs one step.
func (x *executor) exec(ctx context.Context, s *Step) error {
	switch s.Kind {
	case StepSQL:
		sess, ok := x.sessions[s.Server]
		if !ok {
			return fmt.Errorf("step %d: no session to %s", s.ID, s.Host)
		}
		// The session's errors name the server and the statement.
		return sess.Exec(ctx, s.Statement)
	case StepWait:
		if err := x.clock.Sleep(ctx, s.Wait); err != nil {
			return fmt.Errorf("waiting AKU_DELAY_START_COMPLETE_TIME %s: %w", s.Wait, err)
		}
		return nil
	case StepWriteMarker:
		return x.marker.Write(x.content)
	case StepRemoveMarker:
		return x.marker.Remove()
	case StepSaveDDL:
		return x.marker.writeDDLJournal(s.Value)
	case StepClearDDL:
		return x.marker.removeDDLJournal()
	case StepCheckPairs:
		return x.check(ctx)
	case StepCheckGaps:
		return x.checkGaps(ctx, s)
	}
	return fmt.Errorf("step %d: unknown kind %q", s.ID, s.Kind)
}

// runGuards runs the clean-up of every guard whose From step succeeded and
// whose To step did not, with a context of its own: a cancelled run must
// still restore what it changed. A guard that fails leaves the saved value
// for the next run (the journal file stays).
func (x *executor) runGuards(ctx context.Context) {
	gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), guardTimeout)
	defer cancel()
	for _, g := range x.plan.Guards {
		if !x.ok[g.From].Load() || x.ok[g.To].Load() {
			continue
		}
		for i := range g.Steps {
			s := g.Steps[i]
			if err := x.exec(gctx, &s); err != nil {
				x.mu.Lock()
				x.errs = append(x.errs, fmt.Errorf("restoring after the failure (the next run restores it): %w", err))
				x.mu.Unlock()
				break
			}
			if s.Kind == StepSQL {
				x.log.Info(stepMessage(&s), append(x.attrs(&s), "sql", s.Statement)...)
			}
		}
	}
}

// verbMessages are the log lines of successful statements, by verb.
var verbMessages = map[replication.Verb]string{
	replication.VerbCreate:      "Replication created.",
	replication.VerbDrop:        "Replication dropped.",
	replication.VerbTruncate:    "Table truncated.",
	replication.VerbSetProperty: "System property set.",
	replication.VerbStart:       "Replication started.",
	replication.VerbStop:        "Replication stopped.",
	replication.VerbReset:       "Replication reset.",
	replication.VerbSync:        "Replication synced.",
	replication.VerbFlush:       "Replication flushed.",
}

// stepMessage is the log line of a successful statement step.
func stepMessage(s *Step) string {
	if m, ok := verbMessages[s.Verb]; ok {
		return m
	}
	return "Statement executed."
}
