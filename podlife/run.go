package podlife

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aku-project/aku/conf"
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
	// MarkerPath is the completion marker (spec §2); the run lock and the
	// saved REPLICATION_DDL_ENABLE live next to it.
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
	log := in.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	clock := in.Clock
	if clock == nil {
		clock = SystemClock{}
	}
	cfg, id := in.Config, in.Identity
	marker := Marker{Path: in.MarkerPath}

	wait := in.LockWait
	if wait == 0 {
		wait = DefaultLockWait
	}
	if in.Action == ActionStart {
		wait = 0
	}
	lock, err := acquireLock(ctx, marker.lockPath(), wait, clock)
	if err != nil {
		return nil, err
	}
	defer lock.release()

	if in.Action == ActionStart {
		exists, err := marker.Exists()
		if err != nil {
			return nil, err
		}
		if exists {
			return nil, fmt.Errorf("%w: the marker %s exists, so aku -p start already completed on this pod: run aku -p end first, or remove the marker if this server's replication was set up anew", ErrDuplicateStart, marker.Path)
		}
	}

	tries := 1
	if in.Action == ActionStart {
		// Only a starting pod may not be in DNS yet (spec §3.2).
		tries = cfg.AddressCheckCount
	}
	podLog := log.With(LogKeyPod, id.PodName)
	busyWait := cfg.SysdbaWait
	if in.Action != ActionStart {
		// end and clean must fit the grace period: they wait only as long
		// as a statement's retries would, for a killed run's session.
		busyWait = time.Duration(cfg.QueryRetryCount) * cfg.QueryRetryDelay
	}
	obs, open, err := observeWhenFree(ctx, cfg, id.Ordinal, in.Connector, tries, clock, marker, busyWait, podLog)
	defer open.close()
	if err != nil {
		return nil, err
	}

	role := "SLAVE"
	if id.IsMaster() {
		role = "MASTER"
	}
	plan, err := BuildPlan(in.Action, cfg, id, obs)
	if err != nil {
		var fe *FailureError
		if errors.As(err, &fe) {
			podLog.Info("Start as " + role + " Pod.")
			// The original prints this exact line (spec §8); the error
			// returned carries the evidence.
			podLog.Error(fe.Message)
		}
		return plan, err
	}
	if in.DryRun {
		if in.PlanOutput != nil {
			if err := plan.Format(in.PlanOutput); err != nil {
				return plan, fmt.Errorf("printing the plan: %w", err)
			}
		}
		return plan, nil
	}
	podLog.Info("Start as "+role+" Pod.", "path", string(plan.Path))
	for _, w := range plan.Warnings {
		podLog.Warn(w)
	}
	for _, n := range plan.Notes {
		podLog.Info(n)
	}
	x := &executor{
		plan:     plan,
		sessions: open,
		marker:   marker,
		content:  fmt.Sprintf("aku -p start completed on %s at %s\n", id.PodName, clock.Now().UTC().Format(time.RFC3339)),
		clock:    clock,
		log:      log,
		check: func(ctx context.Context) error {
			return checkBuilt(ctx, plan, cfg, id.Ordinal, obs, open)
		},
		podName: func(n int) string {
			return cfg.StsName + "-" + strconv.Itoa(n)
		},
	}
	if err := x.run(ctx); err != nil {
		return plan, fmt.Errorf("%s on %s (%s): %w", in.Action, id.PodName, plan.Path, err)
	}
	if plan.Failure != nil {
		// The original prints this exact line (spec §8); the error
		// returned carries the evidence.
		podLog.Error(plan.Failure.Message)
		return plan, plan.Failure
	}
	var outcome []error
	if kept := append(append([]string{}, plan.Kept...), x.kept...); len(kept) > 0 {
		outcome = append(outcome, fmt.Errorf("%w: %s on %s stopped its replications but reset none, because not everything was flushed (%s): "+
			"the next aku -p start on this pod rejoins and flushes; until then the peers keep their logs for it",
			ErrRestartPointsKept, in.Action, id.PodName, strings.Join(kept, "; ")))
	}
	if len(plan.Busy) > 0 {
		var causes []error
		for _, v := range obs.Servers {
			if slices.Contains(plan.Busy, v.Host) {
				causes = append(causes, v.Err)
			}
		}
		outcome = append(outcome, fmt.Errorf("%s on %s did everything but the side of %s, which refused aku's session: fix that and run aku -p %s again: %w",
			in.Action, id.PodName, strings.Join(plan.Busy, ", "), in.Action, errors.Join(causes...)))
	}
	if len(outcome) > 0 {
		return plan, errors.Join(outcome...)
	}
	return plan, nil
}

// Format prints the plan for --dry-run: the path and why, then every step
// with its server, statement, reason and dependencies, then the notes.
func (p *Plan) Format(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "aku -p %s on %s (ordinal %d): %s\n", p.Action, p.Pod, p.Ordinal, p.Path)
	fmt.Fprintf(&b, "  why: %s\n", p.Why)
	fmt.Fprintf(&b, "steps: %d (%d statements; critical path %d statements; steps on one server run in order, servers in parallel once a step's \"after\" steps are done)\n",
		len(p.Steps), p.Statements(), p.CriticalPath())
	for _, s := range p.Steps {
		where := s.Host
		if s.Server == Local {
			where = "this pod"
		}
		what := s.Statement
		switch s.Kind {
		case StepWait:
			what = "wait " + s.Wait.String()
		case StepSaveDDL:
			what = fmt.Sprintf("save REPLICATION_DDL_ENABLE = %d next to the marker", s.Value)
		case StepSQL:
		default:
			what = string(s.Kind)
		}
		fmt.Fprintf(&b, "%3d. [%s] %s\n", s.ID, where, what)
		fmt.Fprintf(&b, "       why: %s\n", s.Why)
		if len(s.After) > 0 {
			fmt.Fprintf(&b, "       after: %s\n", joinIDs(s.After))
		}
		switch {
		case s.KeepsOnFailure:
			fmt.Fprintf(&b, "       if it fails: logged, the run goes on, and no replication is reset\n")
		case s.Optional:
			fmt.Fprintf(&b, "       optional: a failure is logged and the run goes on\n")
		}
		if len(s.IfOK) > 0 {
			fmt.Fprintf(&b, "       only if these succeeded: %s\n", joinIDs(s.IfOK))
		}
	}
	for _, g := range p.Guards {
		fmt.Fprintf(&b, "if the run fails after step %d and before step %d finishes:\n", g.From, g.To)
		for _, s := range g.Steps {
			if s.Kind == StepSQL {
				fmt.Fprintf(&b, "     [%s] %s\n", s.Host, s.Statement)
			} else {
				fmt.Fprintf(&b, "     [this pod] %s\n", s.Kind)
			}
		}
	}
	for _, w := range p.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	for _, n := range p.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	if p.Failure != nil {
		fmt.Fprintf(&b, "then the run fails: %s\n", p.Failure)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// joinIDs prints step IDs as "1, 2, 3".
func joinIDs(ids []int) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = strconv.Itoa(id)
	}
	return strings.Join(out, ", ")
}
