package podlife

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Format prints the plan for --dry-run: the path and why, then every step
// with its server, statement, reason and dependencies, then the notes.
func (p *Plan) Format(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "aku -p %s on %s (ordinal %d): %s\n", p.Action, p.Pod, p.Ordinal, p.Path)
	fmt.Fprintf(&b, "  why: %s\n", p.Why)
	if d := p.Deadline; d != nil {
		fmt.Fprintf(&b, "  deadline: in %s; %s reserved for %d closing statements (the gap check, STOP, RESET), %s for FLUSH WAIT\n",
			d.Left.Round(time.Millisecond), d.Reserved, d.ReservedStatements, d.FlushWindow.Round(time.Millisecond))
	}
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
		if s.Warning != "" {
			fmt.Fprintf(&b, "       then warns: %s\n", s.Warning)
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
