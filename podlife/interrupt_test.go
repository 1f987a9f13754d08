package podlife

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aku-project/aku/altisim"
	"github.com/aku-project/aku/replication"
)

// The crash suite stops a lifecycle run at a chosen step in one of the
// ways aku can be stopped, and then runs the command again. The run goes
// through the production code unchanged: the interruptions come from the
// simulated servers (an injected fault) or from a Connector and a logger
// wrapped around the run's own, which see every statement aku sends and
// every line it logs.

// mode is how a run is stopped at its step.
type mode string

const (
	// modeFail: the server refuses the statement without running it (a
	// non-retryable error); aku's own failure path runs (its guards
	// restore REPLICATION_DDL_ENABLE).
	modeFail mode = "fail"
	// modeDrop: the server runs the statement and the connection drops
	// before the reply; aku cannot know the outcome.
	modeDrop mode = "drop"
	// modeKillBefore: aku dies just before the step (kill -9): nothing it
	// would still do reaches a server or a file, no guard runs.
	modeKillBefore mode = "kill before"
	// modeKillAfter: aku dies right after the statement ran.
	modeKillAfter mode = "kill after"
)

// sqlModes are the interruptions of a statement step. A local step (the
// marker, the saved REPLICATION_DDL_ENABLE) is only killed before it: a
// kill right after it is the kill before the steps that wait for it.
var sqlModes = []mode{modeFail, modeDrop, modeKillBefore, modeKillAfter}

// errKilled is what a killed run's sessions answer from the kill on: the
// process is gone, and nothing it would still send reaches a server.
var errKilled = errors.New("aku was killed")

// stepKey identifies a step across the plans of runs of one scenario.
type stepKey struct {
	Kind      StepKind
	Server    int
	Statement string
}

func keyOf(s Step) stepKey { return stepKey{s.Kind, s.Server, s.Statement} }

func (k stepKey) String() string {
	if k.Kind != StepSQL {
		return string(k.Kind)
	}
	return fmt.Sprintf("[pod %d] %s", k.Server, k.Statement)
}

// interruption is a step of a plan and how the run is stopped there; with
// no mode, the run is not stopped (plan is then only what the run is
// expected to do).
type interruption struct {
	plan *Plan
	step Step
	mode mode
}

func (i interruption) String() string { return fmt.Sprintf("%s %s", i.mode, keyOf(i.step)) }

// sqlAncestors are the statement steps that step id waits for, directly
// or through other steps.
func sqlAncestors(p *Plan, id int) map[stepKey]bool {
	out := map[stepKey]bool{}
	seen := map[int]bool{}
	var visit func(int)
	visit = func(id int) {
		for _, a := range p.Steps[id-1].After {
			if seen[a] {
				continue
			}
			seen[a] = true
			if p.Steps[a-1].Kind == StepSQL {
				out[keyOf(p.Steps[a-1])] = true
			}
			visit(a)
		}
	}
	visit(id)
	return out
}

// runCtl watches one run: it kills it at its interruption (cancels its
// context, and from then on fails whatever the run still sends), and
// drives the gap hold, if any.
type runCtl struct {
	t      *testing.T
	tc     *testCluster
	cancel context.CancelFunc
	stop   interruption
	hold   *gapHold

	mu      sync.Mutex
	killed  bool
	fired   bool
	pending map[stepKey]bool // kill before a local step: the statements it waits for, not done yet
}

func newRunCtl(t *testing.T, tc *testCluster, stop interruption, hold *gapHold) *runCtl {
	c := &runCtl{t: t, tc: tc, stop: stop, hold: hold.prepare(stop.plan)}
	if stop.mode == modeKillBefore && stop.step.Kind != StepSQL {
		c.pending = sqlAncestors(stop.plan, stop.step.ID)
	}
	return c
}

func (c *runCtl) killLocked() {
	c.killed, c.fired = true, true
	c.cancel()
}

// started is called at the run's "Start as ... Pod." line, on the
// goroutine that called Run: the servers are observed and planned, and no
// step has run yet.
func (c *runCtl) started() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hold != nil {
		c.hold.begin(c.t, c.tc)
	}
	if c.stop.mode == modeKillBefore && c.stop.step.Kind != StepSQL && len(c.pending) == 0 {
		c.killLocked()
	}
}

// before is called when the run sends stmt to pod server.
func (c *runCtl) before(server int, stmt string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.killed {
		return errKilled
	}
	target := keyOf(c.stop.step) == (stepKey{StepSQL, server, stmt})
	if c.stop.mode == modeKillBefore && target {
		c.killLocked()
		return errKilled
	}
	// A statement the server will refuse (modeFail) does not run, so it
	// releases nothing.
	if c.hold != nil && !(c.stop.mode == modeFail && target) {
		c.hold.arrive(c.tc, server, stmt)
	}
	return nil
}

// after is called when the statement returned err.
func (c *runCtl) after(server int, stmt string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.killed || err != nil {
		return
	}
	k := stepKey{StepSQL, server, stmt}
	if c.hold != nil {
		c.hold.returned(c.tc, server, stmt)
	}
	if c.stop.mode == modeKillAfter && keyOf(c.stop.step) == k {
		c.killLocked()
	}
	if c.pending[k] {
		delete(c.pending, k)
		if len(c.pending) == 0 {
			c.killLocked()
		}
	}
}

func (c *runCtl) dead() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.killed
}

// ctlConnector opens the run's sessions through the run's watcher.
type ctlConnector struct {
	Connector
	ctl     *runCtl
	ordinal map[string]int
}

func (c ctlConnector) Connect(ctx context.Context, host string) (Session, error) {
	if c.ctl.dead() {
		return nil, errKilled
	}
	s, err := c.Connector.Connect(ctx, host)
	if err != nil {
		return nil, err
	}
	return &ctlSession{Session: s, ctl: c.ctl, server: c.ordinal[host]}, nil
}

// ctlSession is one server's session of a watched run.
type ctlSession struct {
	Session
	ctl    *runCtl
	server int
}

func (s *ctlSession) Exec(ctx context.Context, stmt string) error {
	if err := s.ctl.before(s.server, stmt); err != nil {
		return err
	}
	err := s.Session.Exec(ctx, stmt)
	s.ctl.after(s.server, stmt, err)
	return err
}

func (s *ctlSession) Replications(ctx context.Context) ([]replication.State, error) {
	if s.ctl.dead() {
		return nil, errKilled
	}
	return s.Session.Replications(ctx)
}

func (s *ctlSession) Properties(ctx context.Context, names ...string) ([]int64, error) {
	if s.ctl.dead() {
		return nil, errKilled
	}
	return s.Session.Properties(ctx, names...)
}

// startLine is the line Run logs between planning and the first step.
var startLine = regexp.MustCompile(`^Start as (MASTER|SLAVE) Pod\.$`)

// ctlHandler passes every log record on, and tells the watcher when the
// run has planned.
type ctlHandler struct {
	slog.Handler
	ctl *runCtl
}

func (h ctlHandler) Handle(ctx context.Context, r slog.Record) error {
	if startLine.MatchString(r.Message) {
		h.ctl.started()
	}
	return h.Handler.Handle(ctx, r)
}

func (h ctlHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return ctlHandler{Handler: h.Handler.WithAttrs(attrs), ctl: h.ctl}
}

func (h ctlHandler) WithGroup(name string) slog.Handler {
	return ctlHandler{Handler: h.Handler.WithGroup(name), ctl: h.ctl}
}

// watchedRun runs action on pod q, stopped at stop and with hold, if any.
// It returns whether the interruption happened, and the run's error.
func (tc *testCluster) watchedRun(t *testing.T, q int, action Action, stop interruption, hold *gapHold) (bool, error) {
	t.Helper()
	in := tc.input(t, q, action)
	ctl := newRunCtl(t, tc, stop, hold)
	ordinal := map[string]int{}
	for p := 0; p < tc.cfg.ServerCount; p++ {
		ordinal[tc.host(p)] = p
	}
	in.Connector = ctlConnector{Connector: in.Connector, ctl: ctl, ordinal: ordinal}
	in.Logger = slog.New(ctlHandler{Handler: in.Logger.Handler(), ctl: ctl})
	var srv *altisim.Server
	if stop.mode == modeFail || stop.mode == modeDrop {
		f := altisim.Fault{Pattern: "^" + regexp.QuoteMeta(stop.step.Statement) + "$", Nth: 1}
		if stop.mode == modeFail {
			f.Action, f.Code = altisim.FaultFail, 0x31001
		} else {
			f.Action, f.After = altisim.FaultDrop, true
		}
		srv = tc.c.Server(tc.host(stop.step.Server))
		if err := srv.Faults().Add(f); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ctl.cancel = cancel
	_, err := Run(ctx, in)
	if ctl.hold != nil {
		if ctl.hold.on == nil {
			t.Fatalf("aku -p %s on pod %d never planned (%v): the held row was not written", action, q, err)
		}
		ctl.hold.end(tc)
	}
	fired := ctl.fired
	if srv != nil {
		fired = len(srv.Faults().List()) == 0
		srv.Faults().Clear()
	}
	return fired, err
}

// dryRun returns the plan aku -p action on pod q would follow now.
func (tc *testCluster) dryRun(t *testing.T, q int, action Action) *Plan {
	t.Helper()
	in := tc.input(t, q, action)
	in.DryRun = true
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := Run(ctx, in)
	if err != nil && p == nil {
		t.Fatalf("dry run of aku -p %s on pod %d: %v", action, q, err)
	}
	return p
}

// gapHold keeps one row of pod source in its replication gap toward the
// pods in held, until aku itself flushes it there: the run's statements
// decide whether the row arrives, never the replication lag. From the
// moment the run has planned, connects to the held pods are refused (a
// host fault: aku's own sessions are open already, the senders' links
// break and retry), and the row is written on source through an ordinary
// session. A held pod is released when aku sends a statement matching its
// release pattern on the source pod and the server runs it (the FLUSH that
// must bring the row), or when every statement matching after has
// returned, or when the run ends.
type gapHold struct {
	source int
	key    int
	held   []int
	// release maps a held pod to the statement, on source, that releases
	// it when aku sends it.
	release map[int]*regexp.Regexp
	// after, on the MASTER: once every statement matching it that the
	// run's plan holds has returned, every held pod is released.
	after   *regexp.Regexp
	waiting int

	on map[int]bool
}

func (h *gapHold) begin(t *testing.T, tc *testCluster) {
	h.on = map[int]bool{}
	for _, q := range h.held {
		tc.c.SetHostFault(tc.host(q), altisim.HostRefused)
		h.on[q] = true
	}
	tc.userInsert(t, h.source, h.key, h.key+1)
}

func (h *gapHold) arrive(tc *testCluster, server int, stmt string) {
	if server != h.source {
		return
	}
	for q, re := range h.release {
		if h.on[q] && re.MatchString(stmt) {
			tc.c.SetHostFault(tc.host(q), altisim.HostOK)
			h.on[q] = false
		}
	}
}

func (h *gapHold) returned(tc *testCluster, server int, stmt string) {
	if h.after == nil || server != 0 || !h.after.MatchString(stmt) {
		return
	}
	if h.waiting--; h.waiting <= 0 {
		h.end(tc)
	}
}

func (h *gapHold) end(tc *testCluster) {
	for q, on := range h.on {
		if on {
			tc.c.SetHostFault(tc.host(q), altisim.HostOK)
			h.on[q] = false
		}
	}
}

// prepare counts the statements of plan that end the hold once returned.
func (h *gapHold) prepare(p *Plan) *gapHold {
	if h == nil {
		return nil
	}
	c := *h
	c.waiting = 0
	if c.after != nil && p != nil {
		for _, s := range p.Steps {
			if s.Kind == StepSQL && s.Server == 0 && c.after.MatchString(s.Statement) {
				c.waiting++
			}
		}
	}
	return &c
}

// userInsert adds rows with keys from..to-1 to SYS.T1 and SYS.T2 on pod q
// through an ordinary session, as an application does: it needs the
// server open to users, and leaves the SYSDBA session to aku.
func (tc *testCluster) userInsert(t testing.TB, q, from, to int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := tc.c.Server(tc.host(q)).Connect(ctx, altisim.ConnectOptions{User: "SYS", Password: "manager"})
	if err != nil {
		t.Fatalf("connecting to pod %d as a user: %v", q, err)
	}
	defer s.Close()
	for i := from; i < to; i++ {
		for _, tbl := range []string{"T1", "T2"} {
			stmt := fmt.Sprintf("INSERT INTO SYS.%s VALUES (%d, 'p%d')", tbl, i, q)
			if _, err := s.Exec(ctx, stmt); err != nil {
				t.Fatalf("pod %d: %s: %v", q, stmt, err)
			}
		}
	}
}

// describe lists a plan's steps, for failure messages.
func describe(p *Plan) string {
	if p == nil {
		return "(no plan)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s:", p.Path)
	for _, s := range p.Steps {
		fmt.Fprintf(&b, "\n  %d. %s", s.ID, keyOf(s))
	}
	return b.String()
}
