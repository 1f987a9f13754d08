package podlife

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/internal/retry"
)

// DefaultLockWait is how long end and clean wait for another aku run on the
// pod to release the run lock before failing with ErrLocked.
const DefaultLockWait = 2 * time.Minute

// Input is everything a lifecycle run needs; cmd/aku fills it from the
// command line and the environment.
type Input struct {
	Action    Action
	Config    *conf.Config
	Identity  Identity
	Connector Connector
	// MarkerPath is the completion marker (docs/behaviour.md, "The marker");
	// the run lock and the saved REPLICATION_DDL_ENABLE live next to it.
	MarkerPath string
	// DryRun prints the plan to PlanOutput and changes nothing.
	DryRun     bool
	PlanOutput io.Writer
	// Logger receives the original's log lines; nil discards them.
	Logger *slog.Logger
	// Clock is the time seam; nil is the system clock.
	Clock Clock
	// LockWait is how long end and clean wait for the run lock (0:
	// DefaultLockWait). start never waits: a second start fails at once.
	LockWait time.Duration
	// Progress, when not nil, is told how a start goes (see Progress).
	Progress Progress
	// Release are the ordinals of the gone peers whose pairs an
	// ActionRelease run releases on this pod (see the package
	// documentation); other actions ignore it.
	Release []int
	// Deadline, not zero, is when an end must be over, on Clock: the end of
	// the pod's grace period, less what stopping the server takes
	// (docs/behaviour.md, "The deadline"). The waits before the plan are
	// shortened to leave time for the rest, the closing STOPs and RESETs
	// are given StatementReserve each, and the FLUSHes share what remains
	// as FLUSH WAIT; a pair whose gap they do not drain keeps every restart
	// point. The zero time is no deadline. Only end takes one.
	Deadline time.Time
	// Leaving is whether this pod leaves for good, as cmd/aku learned it
	// from Kubernetes before the run; it counts only at the end of a slave
	// with AKU_REPLICATION_RESET_AT_END = 2 (docs/behaviour.md, "end").
	Leaving Leaving
}

// Run performs one lifecycle command as observe → plan → execute and
// returns the plan it followed (nil when it failed before planning).
//
// Concurrency on one pod: the run lock (a flock next to the marker) is
// taken first. A start that finds it held fails at once with ErrLocked (the
// other run is a start or an end, and either way this start must not run
// now); end and clean wait up to LockWait for it, so a preStop end that
// comes while the postStart start still runs goes next instead of
// interleaving statements with it.
func Run(ctx context.Context, in Input) (*Plan, error) {
	if in.Action == ActionRelease {
		// A bad request fails before the lock and the servers.
		if _, err := releaseTargets(in.Config, in.Identity, in.Release); err != nil {
			return nil, err
		}
	}
	r := newRun(in)
	if r.budget.set() && in.Action != ActionEnd {
		return nil, fmt.Errorf("aku -p %s with a deadline: %w", in.Action, errDeadlineAction)
	}
	// Nothing runs past the deadline: the kubelet kills aku there.
	ctx, cancel := r.budget.until(ctx, in.Deadline)
	defer cancel()
	lock, err := acquireLock(ctx, r.marker.lockPath(), r.lockWait(), r.clock)
	if err != nil {
		return nil, err
	}
	defer lock.release()
	r.progress.Begin()
	defer r.progress.End()
	if err := r.checkMarker(); err != nil {
		return nil, err
	}
	obs, open, err := r.observe(ctx)
	defer open.close()
	if err != nil {
		return nil, err
	}
	var share *flushBudget
	if r.budget.set() {
		share = &flushBudget{left: r.budget.left(), reserve: statementReserve}
	}
	planned := r.clock.Now()
	obs.Leaving = in.Leaving
	plan, err := buildPlan(in, obs, share)
	if err != nil {
		r.reportFailure(err, true)
		return plan, err
	}
	if in.DryRun {
		return plan, r.printPlan(plan)
	}
	x, err := r.execute(ctx, plan, obs, open, planned)
	if err != nil {
		return plan, err
	}
	return plan, r.outcome(plan, x)
}

// run is one Run: its input with the defaults applied.
type run struct {
	Input
	cfg    *conf.Config
	id     Identity
	log    *slog.Logger // the original's lines
	podLog *slog.Logger // ... with this pod as the target
	clock  Clock
	marker Marker
	// progress is told how a start goes.
	progress Progress
	// budget is Input.Deadline on the run's clock.
	budget budget
}

func newRun(in Input) *run {
	r := &run{Input: in, cfg: in.Config, id: in.Identity, log: in.Logger, clock: in.Clock, marker: Marker{Path: in.MarkerPath}, progress: progressOf(in)}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.clock == nil {
		r.clock = retry.System{}
	}
	r.budget = budget{deadline: in.Deadline, clock: r.clock}
	r.podLog = r.log.With(LogKeyPod, r.id.PodName)
	return r
}

// buildPlan is BuildPlan, or BuildReleasePlan for a release; an end with
// a deadline shares share between its FLUSHes and its closing steps.
func buildPlan(in Input, obs Observation, share *flushBudget) (*Plan, error) {
	if in.Action == ActionRelease {
		return BuildReleasePlan(in.Config, in.Identity, obs, in.Release)
	}
	return planWithin(in.Action, in.Config, in.Identity, obs, share)
}

// lockWait is how long the run waits for the run lock: never for a start;
// with a deadline, no longer than leaves the time waitKeep says.
func (r *run) lockWait() time.Duration {
	switch {
	case r.Action == ActionStart:
		return 0
	case r.LockWait == 0:
		return r.budget.bound(DefaultLockWait, r.waitKeep())
	}
	return r.budget.bound(r.LockWait, r.waitKeep())
}

// checkMarker refuses a start on a pod whose start already completed.
func (r *run) checkMarker() error {
	if r.Action != ActionStart {
		return nil
	}
	exists, err := r.marker.Exists()
	if err != nil {
		return err
	}
	if exists {
		return fmt.Errorf("%w: the marker %s exists, so aku -p start already completed on this pod: run aku -p end first, or remove the marker if this server's replication was set up anew", ErrDuplicateStart, r.marker.Path)
	}
	return nil
}

// observe observes the servers, waiting for busy SYSDBA sessions: a start
// up to AKU_SYSDBA_WAIT_TIME; end and clean, which must fit the grace
// period, only as long as a statement's retries would (for a killed run's
// session). Only a starting pod may not be in DNS yet, so only a start
// checks its address AKU_ADDRESS_CHECK_COUNT times.
//
// With a deadline, the wait for a busy session and the reads of each
// server (AKU_OBSERVE_TIMEOUT) are shortened to leave the time waitKeep
// says, the reads to no less than StatementReserve (or
// AKU_OBSERVE_TIMEOUT, when shorter).
func (r *run) observe(ctx context.Context) (Observation, sessions, error) {
	tries, busyWait := 1, time.Duration(r.cfg.QueryRetryCount)*r.cfg.QueryRetryDelay
	if r.Action == ActionStart {
		tries, busyWait = r.cfg.AddressCheckCount, r.cfg.SysdbaWait
	}
	cfg := r.cfg
	if r.budget.set() {
		busyWait = r.budget.bound(busyWait, r.waitKeep())
		bounded := *r.cfg
		read := ObserveWait(r.cfg)
		bounded.ObserveTimeout = min(read, max(statementReserve, r.budget.bound(read, r.waitKeep()-statementReserve)))
		cfg = &bounded
	}
	return observeWhenFree(ctx, cfg, r.id.Ordinal, r.Connector, tries, r.clock, r.marker, busyWait, r.podLog)
}

// peerHost is the host of the peer of this pod's replication name.
func (r *run) peerHost(name string) string {
	for _, pr := range pairsOf(r.cfg, r.id.Ordinal) {
		if pr.name == name {
			return PeerHost(r.cfg, pr.peer)
		}
	}
	return "an unknown peer"
}

// role is the original's name of this pod's role.
func (r *run) role() string {
	if r.id.IsMaster() {
		return "MASTER"
	}
	return "SLAVE"
}

// printPlan prints the plan of a dry run.
func (r *run) printPlan(plan *Plan) error {
	if r.PlanOutput == nil {
		return nil
	}
	if err := plan.Format(r.PlanOutput); err != nil {
		return fmt.Errorf("printing the plan: %w", err)
	}
	return nil
}

// execute logs the plan's path, warnings and notes, and runs its steps;
// planned is when the plan was made, from which an end's FLUSH window
// runs.
func (r *run) execute(ctx context.Context, plan *Plan, obs Observation, open sessions, planned time.Time) (*executor, error) {
	r.podLog.Info("Start as "+r.role()+" Pod.", "path", string(plan.Path))
	for _, v := range obs.Servers {
		if !v.Reachable && v.Err != nil {
			// The plan says it in a few words; the driver's text, often
			// several lines, goes to the debug output.
			r.log.Debug("A server could not be used.", "host", v.Host, "error", v.Err.Error())
		}
	}
	for _, w := range plan.Warnings {
		r.podLog.Warn(w)
	}
	for _, n := range plan.Notes {
		r.podLog.Info(n)
	}
	x := &executor{
		plan:     plan,
		sessions: open,
		marker:   r.marker,
		content:  fmt.Sprintf("aku -p start completed on %s at %s\n", r.id.PodName, r.clock.Now().UTC().Format(time.RFC3339)),
		clock:    r.clock,
		log:      r.log,
		progress: r.progress,
		check: func(ctx context.Context) error {
			return checkBuilt(ctx, plan, r.cfg, r.id.Ordinal, obs, open)
		},
		podName: func(n int) string {
			return r.cfg.StsName + "-" + strconv.Itoa(n)
		},
		budget:   r.budget,
		peerHost: r.peerHost,
	}
	if plan.Deadline != nil {
		x.flushEnd = planned.Add(plan.Deadline.FlushWindow)
		r.podLog.Info(fmt.Sprintf("Deadline in %s: %s reserved for %d closing statements (check, STOP, RESET), %s for FLUSH.",
			plan.Deadline.Left.Round(time.Millisecond), plan.Deadline.Reserved, plan.Deadline.ReservedStatements, plan.Deadline.FlushWindow.Round(time.Millisecond)))
	}
	if err := x.run(ctx); err != nil {
		return x, fmt.Errorf("%s on %s (%s): %w", r.Action, r.id.PodName, plan.Path, err)
	}
	return x, nil
}

// outcome is the result of a plan that ran to its end: the failure it
// prepared the manual recovery for, the restart points end kept, the busy
// or refusing peers end and clean skipped; nil when none.
func (r *run) outcome(plan *Plan, x *executor) error {
	if plan.Failure != nil {
		r.reportFailure(plan.Failure, false)
		return plan.Failure
	}
	var errs []error
	if kept := append(append([]string{}, plan.Kept...), x.kept...); len(kept) > 0 {
		errs = append(errs, fmt.Errorf("%w: %s on %s could not flush every replication (%s), so it reset none and kept their restart points: "+
			"nothing unsent is lost; the next aku -p start on this pod rejoins and flushes, and until then the peers keep their logs for it",
			ErrRestartPointsKept, r.Action, r.id.PodName, strings.Join(kept, "; ")))
	}
	if len(plan.Busy) > 0 {
		hosts := make([]string, len(plan.Busy))
		causes := make([]error, len(plan.Busy))
		for i, v := range plan.Busy {
			hosts[i], causes[i] = v.Host, v.Err
		}
		errs = append(errs, fmt.Errorf("%s on %s did everything but the side of %s, which refused aku's session: fix that and run aku -p %s again: %w",
			r.Action, r.id.PodName, strings.Join(hosts, ", "), r.Action, errors.Join(causes...)))
	}
	return errors.Join(errs...)
}
