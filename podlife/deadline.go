package podlife

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/replication"
)

// StatementReserve is what an end with a deadline keeps, before the
// deadline, for each statement on the longest chain of its closing steps:
// the check of the gaps, every STOP and every RESET (docs/behaviour.md,
// "The deadline"). It is a conservative estimate of one statement over a
// session that is already open (STOP and RESET take milliseconds on a live
// server; the sessions stay open from the observation on), with room left
// for a connect that has to be made again. The observation before the plan
// counts as one more statement.
const StatementReserve = 2 * time.Second

// statementReserve is StatementReserve; tests shorten it.
var statementReserve = StatementReserve

// errDeadlineAction is Run's refusal of a deadline for another action than
// end.
var errDeadlineAction = errors.New("a deadline applies to aku -p end only")

// DeadlineShare is how an end with a deadline shares its time, as planned
// (docs/behaviour.md, "The deadline").
type DeadlineShare struct {
	// Left is the time to the deadline when the plan was made.
	Left time.Duration
	// Reserved is kept for the closing steps: ReservedStatements (the
	// longest chain of the gap check, STOPs and RESETs) × StatementReserve.
	Reserved           time.Duration
	ReservedStatements int
	// FlushWindow is what the FLUSH WAIT statements share, one after
	// another on this pod's session: Left − Reserved, 0 or more. Less than
	// a second flushes nothing, and every pair is cut.
	FlushWindow time.Duration
}

// budget is a run's deadline on its clock; its zero deadline means none.
type budget struct {
	deadline time.Time
	clock    Clock
}

// set reports whether the run has a deadline.
func (b budget) set() bool { return !b.deadline.IsZero() }

// left is the time to the deadline.
func (b budget) left() time.Duration { return b.deadline.Sub(b.clock.Now()) }

// bound is d, shortened so that keep remains before the deadline, and never
// below 0; d itself without a deadline.
func (b budget) bound(d, keep time.Duration) time.Duration {
	if !b.set() {
		return d
	}
	return max(0, min(d, b.left()-keep))
}

// until returns ctx ending at t on the budget's clock (ctx itself for a
// zero t).
func (b budget) until(ctx context.Context, t time.Time) (context.Context, context.CancelFunc) {
	if t.IsZero() {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, t.Sub(b.clock.Now()))
}

// closingEstimate is, before the plan exists, the most statements the
// closing steps of pod me's end can chain: the gap check, a STOP for each
// of its pairs and, on a slave that resets, a RESET for each and the last
// peer's RESET after them (its own session runs them one after another;
// the peers' run beside it).
func closingEstimate(cfg *conf.Config, me int) int {
	n := len(pairsOf(cfg, me))
	chain := 1 + n
	if me != 0 && cfg.ReplicationResetAtEnd {
		chain += n + 1
	}
	return chain
}

// waitKeep is what the waits before the plan (the run lock, a busy SYSDBA
// session, the observation's reads) must leave before the deadline: the
// observation and the closing steps.
func (r *run) waitKeep() time.Duration {
	return time.Duration(1+closingEstimate(r.cfg, r.id.Ordinal)) * statementReserve
}

// flushBudget is the time an end's plan shares between its FLUSHes and its
// closing steps: the time left at planning, and the reserve per statement.
type flushBudget struct {
	left    time.Duration
	reserve time.Duration
}

// endWindow shares an end's time (docs/behaviour.md, "The deadline"): it
// plans the end without a deadline to find the longest chain of its
// closing steps, reserves StatementReserve for each and for the gap check,
// records the share in the plan, and returns what is left for the FLUSHes.
// ok is false without a deadline.
func (b *planner) endWindow() (window time.Duration, ok bool) {
	if b.budget == nil {
		return 0, false
	}
	trial := &planner{cfg: b.cfg, me: b.me, obs: b.obs, plan: &Plan{}}
	trial.end()
	chain := 1 + trial.plan.pathOf(func(s Step) bool {
		return s.Kind == StepSQL && (s.Phase == PhaseStop || s.Phase == PhaseReset)
	})
	reserved := time.Duration(chain) * b.budget.reserve
	window = max(0, b.budget.left-reserved)
	b.plan.Deadline = &DeadlineShare{Left: b.budget.left, Reserved: reserved, ReservedStatements: chain, FlushWindow: window}
	return window, true
}

// checkGaps adds the check of the gaps after the FLUSH WAIT steps flushes
// and returns its ID (0 when nothing was flushed). It keeps every restart
// point when it fails: a gap not drained, or one it could not read.
func (b *planner) checkGaps(flushes []int) int {
	if len(flushes) == 0 {
		return 0
	}
	id := b.add(Step{Kind: StepCheckGaps, Server: b.me, Phase: PhaseFlush, After: flushes,
		Why: "FLUSH WAIT may give up at the deadline: read V$REPGAP to know whether everything was handed over"})
	b.plan.Steps[id-1].Optional = true
	b.plan.Steps[id-1].KeepsOnFailure = true
	return id
}

// cutError is the check of the gaps finding pairs not drained: the
// replications, and for each an entry naming it, its peer and what was
// left.
type cutError struct{ names, entries []string }

func (e *cutError) Error() string {
	return "cut at the deadline: " + strings.Join(e.entries, "; ")
}

// errNoTimeToFlush is a FLUSH whose turn came less than a second before
// the end of the FLUSH window: it is skipped, and its pair is cut.
var errNoTimeToFlush = errors.New("less than a second of the FLUSH window was left: FLUSH skipped")

// flushStatement is the FLUSH WAIT of step s for the time left until the
// end of the FLUSH window, in whole seconds; errNoTimeToFlush when less
// than a second is left.
func (x *executor) flushStatement(s *Step) (string, time.Duration, error) {
	left := x.flushEnd.Sub(x.clock.Now())
	if left < time.Second {
		return "", 0, errNoTimeToFlush
	}
	st, err := replication.FlushAllWaitStmt(s.Replication, left.Truncate(time.Second))
	if err != nil {
		return "", 0, fmt.Errorf("step %d: %w", s.ID, err)
	}
	return st.SQL, left.Truncate(time.Second), nil
}

// checkGaps reads this pod's V$REPGAP for every replication flushed by a
// step in s.After and logs what each still has to send. A pair whose gap
// is not empty, or not shown (no sender row), is cut: the error lists
// them.
func (x *executor) checkGaps(ctx context.Context, s *Step) error {
	sess, ok := x.sessions[s.Server]
	if !ok {
		return fmt.Errorf("step %d: no session to %s", s.ID, s.Host)
	}
	m, err := sess.MonitorSenders(ctx)
	if err != nil {
		return fmt.Errorf("checking the gaps after the FLUSH: %w", err)
	}
	cut := &cutError{}
	for _, id := range s.After {
		f := x.plan.Steps[id-1]
		if f.Verb != replication.VerbFlush {
			continue
		}
		peer := x.peerHost(f.Replication)
		attrs := append(x.attrs(&f), "peer", peer)
		gap, shown := m.Gaps[f.Replication]
		switch {
		case x.drainedBy(f.Replication):
			// Its FLUSH ALL WAIT returned before its time was up: the
			// server had sent everything up to its latest log, as a
			// FLUSH ALL without a deadline. A gap seen now is what came
			// after (rows written meanwhile), which the original's end
			// does not wait for either.
			x.log.Info("Replication handed over: nothing left to send.", attrs...)
		case !shown:
			cut.add(f.Replication, fmt.Sprintf("%s to %s (cut at the deadline: bytes left unknown, V$REPGAP shows no sender)", f.Replication, peer))
			x.log.Warn("Flush cut at the deadline: V$REPGAP shows no sender, so what is left is unknown; no replication will be reset, and the next aku -p start on this pod rejoins and flushes the rest.", attrs...)
		case gap.Bytes > 0:
			cut.add(f.Replication, fmt.Sprintf("%s to %s (cut at the deadline: %d bytes not sent)", f.Replication, peer, gap.Bytes))
			x.log.Warn("Flush cut at the deadline: not everything was handed over; no replication will be reset, and the next aku -p start on this pod rejoins and flushes the rest.", append(attrs, "bytesLeft", gap.Bytes)...)
		default:
			x.log.Info("Replication handed over: nothing left to send.", attrs...)
		}
	}
	if len(cut.names) > 0 {
		return cut
	}
	return nil
}

func (e *cutError) add(name, entry string) {
	e.names = append(e.names, name)
	e.entries = append(e.entries, entry)
}

// ParseDeadline reads the time aku -p end has (docs/behaviour.md, "The
// deadline"): a Go duration ("25s", "1m30s") or whole seconds ("25"),
// more than 0. The error says what is wanted, not the value.
func ParseDeadline(value string) (time.Duration, error) {
	v := strings.TrimSpace(value)
	d, err := time.ParseDuration(v)
	if err != nil {
		secs, serr := strconv.ParseInt(v, 10, 64)
		if serr != nil || secs > int64(time.Duration(1<<63-1)/time.Second) {
			return 0, errors.New("want a duration such as 25s or 1m30s, or whole seconds such as 25")
		}
		d = time.Duration(secs) * time.Second
	}
	if d <= 0 {
		return 0, errors.New("want a time of more than 0")
	}
	return d, nil
}
