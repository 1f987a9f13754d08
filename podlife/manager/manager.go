package manager

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aku-project/aku/internal/retry"
	"github.com/aku-project/aku/podlife"
	"github.com/aku-project/aku/podlife/health"
)

// Defaults of aku run's flags (docs/run.md).
const (
	DefaultListen        = ":8008"
	DefaultCheckInterval = 5 * time.Second
	// DefaultGracePeriod is Kubernetes' default terminationGracePeriodSeconds.
	DefaultGracePeriod = 30 * time.Second
	DefaultStopReserve = 10 * time.Second
	DefaultServerWait  = 10 * time.Minute
)

// Start retries: 5 s, doubling up to a minute, as the example entry point
// paused between its tries.
const (
	firstRetryPause = 5 * time.Second
	maxRetryPause   = time.Minute
)

// publishTimeout bounds one publication of the synced label (the
// Kubernetes client bounds each request more tightly).
const publishTimeout = 10 * time.Second

// killMargin is how long before the end of the grace period a server that
// has not stopped is killed, so that aku run exits before the kubelet's
// SIGKILL.
const killMargin = time.Second

// Lifecycle runs one lifecycle command as aku -p does (banners and log
// lines included), with deadline (zero: none) and, for a release, the
// peers to release toward.
type Lifecycle func(ctx context.Context, action podlife.Action, deadline time.Time, release []int) error

// Config is what aku run is given; cmd/aku fills it.
type Config struct {
	// Health reads the mesh for the checks: ordinary sessions only (its
	// Sysdba must be nil).
	Health health.Input
	// Lifecycle runs start, end and release; Classify turns its errors
	// into exit codes.
	Lifecycle Lifecycle
	Classify  func(error) Outcome
	// Log receives aku run's own lines.
	Log *slog.Logger
	// Command starts the server (nil: a companion of a server started
	// another way); StopCommand stops it (nil: SIGTERM to Command).
	Command, StopCommand []string
	// Stdout and Stderr receive the commands' output.
	Stdout, Stderr io.Writer
	// Listen is the HTTP address; "" serves nothing. Listener, when not
	// nil, is used instead (tests).
	Listen   string
	Listener net.Listener
	// CheckInterval, GracePeriod, StopReserve, ServerWait: the flags of
	// the same names (zero: the defaults).
	CheckInterval time.Duration
	GracePeriod   time.Duration
	StopReserve   time.Duration
	ServerWait    time.Duration
	// StalePeerTTL releases the pairs toward a peer whose name has not
	// resolved for that long; 0 never does.
	StalePeerTTL time.Duration
	// Version is aku's version, for aku_build_info.
	Version string
	// Synced, when not nil, publishes whether this pod is synced (its
	// start completed and /readyz passes): the aku/synced label of
	// docs/behaviour.md, "Kubernetes". aku run calls it after a check
	// whose verdict differs from the last one published, and again after
	// a failure.
	Synced func(ctx context.Context, synced bool) error
}

// Exit codes of aku run's own outcomes, given by cmd/aku.
type Codes struct {
	// ServerFailed: the server command failed, or the server died on its
	// own while aku run served.
	ServerFailed int
	// ServerNotStopped: the server did not stop within the grace period
	// (killed), or the stop command failed.
	ServerNotStopped int
	// Unreachable: the server never answered within ServerWait.
	Unreachable int
	// Interrupted: a signal came before the server answered.
	Interrupted int
}

// Manager is one aku run.
type Manager struct {
	cfg     Config
	codes   Codes
	log     *slog.Logger
	check   *checker
	metrics *metrics
	reap    *reaper
	server  *child
	stale   *staleTracker
	release chan []int

	// firstPause is the pause after the first failed start (tests
	// shorten it); it doubles up to maxRetryPause.
	firstPause time.Duration

	mu        sync.Mutex
	dead      string    // why the manager is not alive (the server died)
	daemon    bool      // the server command daemonized
	starting  bool      // a start lifecycle runs in aku run
	completed bool      // aku run's start completed
	ending    bool      // SIGTERM came: the end runs or ran
	sigterm   time.Time // when SIGTERM came (ctx ended)

	// publishMu is held across a publication of the synced label, so that
	// the end's own label (not synced) comes after any in flight.
	publishMu sync.Mutex

	// published is the synced verdict Config.Synced last published
	// (nil: none yet, or the last try failed); publishFailed: a failure
	// was logged as a warning since the last success.
	published     *bool
	publishFailed bool
}

// New checks cfg and returns its Manager.
func New(cfg Config, codes Codes) (*Manager, error) {
	if cfg.Health.Sysdba != nil {
		return nil, errors.New("aku run's checks must read through ordinary sessions only")
	}
	if cfg.CheckInterval <= 0 {
		cfg.CheckInterval = DefaultCheckInterval
	}
	if cfg.GracePeriod <= 0 {
		cfg.GracePeriod = DefaultGracePeriod
	}
	if cfg.StopReserve <= 0 {
		cfg.StopReserve = DefaultStopReserve
	}
	if cfg.ServerWait <= 0 {
		cfg.ServerWait = DefaultServerWait
	}
	if cfg.StopReserve >= cfg.GracePeriod {
		return nil, fmt.Errorf("the stop reserve %s must be shorter than the grace period %s", cfg.StopReserve, cfg.GracePeriod)
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	m := &Manager{cfg: cfg, codes: codes, log: cfg.Log, release: make(chan []int, 1), firstPause: firstRetryPause}
	m.stale = &staleTracker{ttl: cfg.StalePeerTTL, cfg: cfg.Health.Config, me: cfg.Health.Identity.Ordinal}
	m.check = &checker{in: cfg.Health, interval: cfg.CheckInterval, after: m.afterCheck}
	m.metrics = newMetrics(m)
	return m, nil
}

// ExitError is aku run's outcome other than success: the exit code and
// why.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// Run is aku run until ctx ends (SIGTERM or SIGINT) and the end ran, or
// until the server fails. It returns nil or an *ExitError.
func (m *Manager) Run(ctx context.Context) error {
	m.reap = newReaper()
	defer m.reap.close()
	// The checks and the endpoints outlive ctx: they answer during the
	// end too.
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBG()
	srv, err := m.serveHTTP()
	if err != nil {
		return &ExitError{Code: m.codes.ServerFailed, Err: err}
	}
	if srv != nil {
		defer srv.Close()
	}
	// The grace period runs from the signal, not from when the start or
	// release it cancelled has wound down.
	stopWatch := context.AfterFunc(ctx, func() {
		m.mu.Lock()
		m.sigterm, m.ending = time.Now(), true
		m.mu.Unlock()
	})
	defer stopWatch()
	go m.check.run(bg)
	if len(m.cfg.Command) > 0 {
		m.log.Info("aku run: starting the server: " + strings.Join(m.cfg.Command, " "))
		if m.server, err = startChild(m.cfg.Command, m.cfg.Stdout, m.cfg.Stderr, m.reap); err != nil {
			return &ExitError{Code: m.codes.ServerFailed, Err: err}
		}
	} else {
		m.log.Info("aku run: no server command: serving next to a server started another way")
	}
	if err := m.waitServer(ctx); err != nil {
		if ctx.Err() != nil {
			return m.terminate(false)
		}
		// The wait's failure is the exit's reason; a stop that fails too
		// is only logged.
		if stopErr := m.stopServer(time.Now().Add(m.cfg.GracePeriod - killMargin)); stopErr != nil {
			m.log.Error("aku run: " + stopErr.Error())
		}
		return err
	}
	// The start ends with ctx (a signal) and, when the server dies, with
	// its own cancel; either way it restores what it changed first.
	startCtx, cancelStart := context.WithCancel(ctx)
	defer cancelStart()
	started := make(chan struct{})
	go func() {
		defer close(started)
		m.start(startCtx)
	}()
	for {
		select {
		case <-ctx.Done():
			<-started
			return m.terminate(true)
		case <-m.serverDone():
			if m.daemonized() {
				continue
			}
			cancelStart()
			<-started
			return m.serverDied()
		case peers := <-m.release:
			if ctx.Err() == nil { // not after SIGTERM, even when both are ready
				m.releasePeers(ctx, peers)
			}
		}
	}
}

// serverDone is closed when a server child that should run ended; nil (for
// ever) without one, or once it daemonized.
func (m *Manager) serverDone() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.server == nil || m.daemon {
		return nil
	}
	return m.server.done
}

// daemonized is called when the server command ended: one that exited
// with 0 daemonized the server (Altibase's server start does), which runs
// on; it reports whether it did.
func (m *Manager) daemonized() bool {
	if m.server.err != nil {
		return false
	}
	m.mu.Lock()
	first := !m.daemon
	m.daemon = true
	m.mu.Unlock()
	if first {
		m.log.Info("aku run: the server command exited with 0: a daemonizing start")
		if len(m.cfg.StopCommand) == 0 {
			m.log.Warn("aku run: no --stop-command: aku run cannot stop a daemonized server at SIGTERM")
		}
	}
	return true
}

// waitServer waits until this pod's server answers on its port (an
// ordinary session opens, or is refused for ADMIN_MODE = 1), within
// ServerWait, logging every 30 s. A server command that exits 0 is a
// daemonizing start; one that fails ends the wait. With a stop command,
// the server command is waited for first: it daemonizes.
func (m *Manager) waitServer(ctx context.Context) error {
	begin := time.Now()
	host := podlife.PeerHost(m.cfg.Health.Config, m.cfg.Health.Identity.Ordinal)
	m.log.Info(fmt.Sprintf("aku run: waiting for the server %s to answer (up to %s)", host, m.cfg.ServerWait))
	lastLog := begin
	var state health.State
	// With a stop command, the server command is a daemonizing start: it
	// has started the server (and whatever it prepares besides) when it
	// exits.
	daemonizing := m.server != nil && len(m.cfg.StopCommand) > 0
	for {
		if m.server != nil && !m.daemon && m.server.exited() && !m.daemonized() {
			return &ExitError{Code: m.codes.ServerFailed, Err: fmt.Errorf("the server command %s before the server answered", m.server.describe())}
		}
		if daemonizing && !m.daemon {
			state = "starting the server"
		} else if state = health.ServerState(ctx, m.cfg.Health, m.cfg.Health.Identity.Ordinal); state.Answers() {
			m.log.Info(fmt.Sprintf("aku run: the server answers (%s) after %s", state, time.Since(begin).Round(time.Millisecond)))
			return nil
		}
		if time.Since(begin) >= m.cfg.ServerWait {
			return &ExitError{Code: m.codes.Unreachable, Err: fmt.Errorf("the server %s did not answer within %s (last: %s)", host, m.cfg.ServerWait, state)}
		}
		if time.Since(lastLog) >= 30*time.Second {
			lastLog = time.Now()
			m.log.Info(fmt.Sprintf("aku run: still waiting for the server %s (%s) after %s", host, state, time.Since(begin).Round(time.Second)))
		}
		if retry.Sleep(ctx, 200*time.Millisecond) != nil {
			return ctx.Err()
		}
	}
}

// retryPause is the pause after failed start try (1-based).
func (m *Manager) retryPause(try int64) time.Duration {
	d := m.firstPause
	for i := int64(1); i < try && d < maxRetryPause; i++ {
		d *= 2
	}
	return min(d, maxRetryPause)
}

// start runs the start lifecycle until it completes, retrying what another
// try can cure; what it cannot is logged and left to an operator.
func (m *Manager) start(ctx context.Context) {
	m.setStarting(true)
	defer m.setStarting(false)
	var last Outcome
	err := retry.Loop{Pause: m.retryPause}.Do(ctx, func(try int64) error {
		if try > 1 {
			m.metrics.startRetries.Inc()
		}
		err := m.runLifecycle(ctx, podlife.ActionStart, time.Time{}, nil)
		last = m.cfg.Classify(err)
		switch {
		case last.Retry == RetryDone:
			return nil
		case ctx.Err() != nil:
			return retry.Stop(err)
		case last.Retry == RetryBackoff:
			m.log.Warn(fmt.Sprintf("aku run: aku -p start exited with %d (%s), which another try can cure: try %d in %s", last.Code, last.Name, try+1, m.retryPause(try)), "error", err.Error())
			return err
		}
		m.log.Error(fmt.Sprintf("aku run: aku -p start exited with %d (%s), which another try cannot cure: aku run keeps the server running, unready; fix what the error says, then run aku -p start in this pod", last.Code, last.Name), "error", err.Error())
		return retry.Stop(err)
	})
	if err == nil {
		m.mu.Lock()
		m.completed = true
		m.mu.Unlock()
		m.log.Info(fmt.Sprintf("aku run: aku -p start exited with %d (%s)", last.Code, last.Name))
	}
}

func (m *Manager) setStarting(on bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.starting = on
}

// runLifecycle runs one lifecycle command and records it in the metrics.
func (m *Manager) runLifecycle(ctx context.Context, action podlife.Action, deadline time.Time, release []int) error {
	begin := time.Now()
	err := m.cfg.Lifecycle(ctx, action, deadline, release)
	m.metrics.lifecycle(action, begin, time.Since(begin), m.cfg.Classify(err).Name)
	return err
}

// terminate runs the end lifecycle (when the server answered) within the
// grace period less the stop reserve, then stops the server, and returns
// the exit: the end's code when it failed, else the stop's.
func (m *Manager) terminate(answered bool) error {
	// The end labels the pod not synced, and no check relabels it: a
	// publication in flight lands first (publishMu), none starts after.
	m.publishMu.Lock()
	m.mu.Lock()
	m.ending = true
	sigterm := m.sigterm
	m.mu.Unlock()
	m.publishMu.Unlock()
	if sigterm.IsZero() {
		sigterm = time.Now()
	}
	deadline := sigterm.Add(m.cfg.GracePeriod - m.cfg.StopReserve)
	var endErr error
	if answered {
		m.log.Info(fmt.Sprintf("aku run: SIGTERM: aku -p end (by %s), then the server stops", deadline.UTC().Format(time.RFC3339)))
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		endErr = m.runLifecycle(ctx, podlife.ActionEnd, deadline, nil)
		cancel()
		// The code only: a failed end's error is aku run's own, returned.
		o := m.cfg.Classify(endErr)
		m.log.Info(fmt.Sprintf("aku run: aku -p end exited with %d (%s)", o.Code, o.Name))
	} else {
		m.log.Info("aku run: SIGTERM before the server answered: no end to run")
	}
	stopErr := m.stopServer(sigterm.Add(m.cfg.GracePeriod - killMargin))
	switch {
	case endErr != nil:
		if stopErr != nil {
			// The end's failure is the exit's reason; the stop's is logged.
			m.log.Error("aku run: " + stopErr.Error())
		}
		o := m.cfg.Classify(endErr)
		return &ExitError{Code: o.Code, Err: fmt.Errorf("aku -p end at SIGTERM: %w", endErr)}
	case stopErr != nil:
		return stopErr
	case !answered:
		return &ExitError{Code: m.codes.Interrupted, Err: errors.New("SIGTERM before the server answered")}
	}
	m.log.Info("aku run: done")
	return nil
}

// stopServer stops the server by deadline: the stop command, else SIGTERM
// to the server command (SIGKILL at deadline). Without either (a
// companion) there is nothing to stop.
func (m *Manager) stopServer(deadline time.Time) error {
	switch {
	case len(m.cfg.StopCommand) > 0:
		m.log.Info("aku run: stopping the server: " + strings.Join(m.cfg.StopCommand, " "))
		c, err := startChild(m.cfg.StopCommand, m.cfg.Stdout, m.cfg.Stderr, m.reap)
		if err != nil {
			return &ExitError{Code: m.codes.ServerNotStopped, Err: err}
		}
		if c.wait(deadline) || c.err != nil {
			return &ExitError{Code: m.codes.ServerNotStopped, Err: fmt.Errorf("the stop command %s %s", strings.Join(m.cfg.StopCommand, " "), c.describe())}
		}
		if m.server != nil && !m.server.exited() && !m.daemon {
			// The server command may outlive the server it started.
			m.server.stop(deadline)
		}
	case m.server != nil && !m.server.exited():
		m.log.Info("aku run: stopping the server: SIGTERM")
		if m.server.stop(deadline) {
			return &ExitError{Code: m.codes.ServerNotStopped, Err: fmt.Errorf("the server did not stop by the end of the grace period: killed")}
		}
	default:
		return nil
	}
	m.log.Info("aku run: the server stopped")
	return nil
}

// serverDied is the exit when the server command ended on its own while
// aku run served: no end runs (the server it would stop and reset is
// gone); the kubelet restarts the container, whose start rejoins.
func (m *Manager) serverDied() error {
	why := m.server.describe()
	m.mu.Lock()
	m.dead = "the server command " + why
	m.mu.Unlock()
	m.log.Error("aku run: the server command " + why + " on its own: aku run exits without an end; the next start rejoins")
	return &ExitError{Code: m.codes.ServerFailed, Err: fmt.Errorf("the server command %s while aku run served", why)}
}

// afterCheck follows each check: the synced label and the stale peers.
func (m *Manager) afterCheck(s *snapshot) {
	// A start completed here, or by an operator's aku -p start after one
	// that needed them (its marker).
	m.mu.Lock()
	ok := (m.completed || s.obs.Self.Marker) && !m.starting && !m.ending
	m.mu.Unlock()
	if ok {
		m.publishSynced(health.ReadyOf(m.cfg.Health, s.obs, -1).OK)
	}
	if peers := m.stale.observe(s.obs, ok); len(peers) > 0 {
		select {
		case m.release <- peers:
		default: // one release at a time
		}
	}
}

// publishSynced publishes synced through Config.Synced when it differs
// from what was last published. The label is not the pod's only signal
// (its readiness probe is), so a failure is a warning once, DEBUG after,
// until a try succeeds.
func (m *Manager) publishSynced(synced bool) {
	m.publishMu.Lock()
	defer m.publishMu.Unlock()
	m.mu.Lock()
	ending := m.ending
	m.mu.Unlock()
	if ending || m.cfg.Synced == nil || (m.published != nil && *m.published == synced) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
	defer cancel()
	if err := m.cfg.Synced(ctx, synced); err != nil {
		m.published = nil
		msg := fmt.Sprintf("aku run: publishing aku/synced=%t on this pod: %v", synced, err)
		if m.publishFailed {
			m.log.Debug(msg)
		} else {
			m.publishFailed = true
			m.log.Warn(msg)
		}
		return
	}
	m.published, m.publishFailed = &synced, false
}

// releasePeers runs the release of the pairs toward stale peers.
func (m *Manager) releasePeers(ctx context.Context, peers []int) {
	for _, q := range peers {
		host := podlife.PeerHost(m.cfg.Health.Config, q)
		m.log.Warn(fmt.Sprintf("aku run: %s has not resolved for more than %s and this pod still holds a pair toward it: releasing it (STOP and RESET)", host, m.cfg.StalePeerTTL))
		if err := m.runLifecycle(ctx, podlife.ActionRelease, time.Time{}, []int{q}); err != nil {
			m.log.Error(fmt.Sprintf("aku run: releasing the pairs toward %s: %v", host, err))
			continue
		}
		m.metrics.released.WithLabelValues(m.stale.peerName(q)).Inc()
	}
}

// serveHTTP starts the endpoints' server; nil when Listen is "".
func (m *Manager) serveHTTP() (*http.Server, error) {
	l := m.cfg.Listener
	if l == nil {
		if m.cfg.Listen == "" {
			return nil, nil
		}
		var err error
		if l, err = net.Listen("tcp", m.cfg.Listen); err != nil {
			return nil, fmt.Errorf("listening on %s: %w", m.cfg.Listen, err)
		}
	}
	srv := &http.Server{
		Handler:           m.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	go func() { _ = srv.Serve(l) }()
	m.log.Info("aku run: serving the probes and metrics on " + l.Addr().String())
	return srv, nil
}
