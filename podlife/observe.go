package podlife

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/internal/retry"
	"github.com/aku-project/aku/replication"
)

// Session is one server connection as the flows use it; a
// *replication.Session is one (one SYSDBA session per server:
// docs/behaviour.md, "A busy SYSDBA session").
type Session interface {
	Exec(ctx context.Context, stmt string) error
	Replications(ctx context.Context) ([]replication.State, error)
	States(ctx context.Context) ([]replication.State, error)
	Properties(ctx context.Context, names ...string) ([]int64, error)
	// MonitorSenders reads V$REPSENDER and V$REPGAP (the check of the
	// gaps after an end's FLUSH WAIT).
	MonitorSenders(ctx context.Context) (replication.Monitor, error)
	Close() error
}

// Connector opens the session to the server at a host name. cmd/aku builds
// it from the connection-string template and the ODBC driver; tests from
// the altisim in-process driver.
type Connector interface {
	Connect(ctx context.Context, host string) (Session, error)
}

// DialerConnector adapts a *replication.Dialer to Connector.
type DialerConnector struct {
	Dialer *replication.Dialer
}

// Connect opens a replication.Session to host.
func (c DialerConnector) Connect(ctx context.Context, host string) (Session, error) {
	s, err := c.Dialer.Connect(ctx, host)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// sessions are the pinned sessions of one run, by ordinal.
type sessions map[int]Session

func (s sessions) close() {
	for _, sess := range s {
		sess.Close()
	}
}

// addressCheckInterval is the wait between tries to reach this pod's own
// server through its DNS name (AKU_ADDRESS_CHECK_COUNT tries:
// docs/behaviour.md, "Observation").
const addressCheckInterval = time.Second

// connectWait bounds each connect of observe whatever the connection string
// says: the driver's connect ignores contexts (docs/odbc.md, "Connects ignore
// contexts"), and an AKU_CONNECTION_STRING without a connect-timeout keyword
// would otherwise let a peer whose SYNs are dropped hold the run forever.
// replication.Dialer.Connect gives up waiting when its context ends. It is
// far above the default template's login timeout, which normally bounds a
// connect first.
var connectWait = 30 * time.Second

// connect opens the session to host, waiting connectWait at most.
func connect(ctx context.Context, conn Connector, host string) (Session, error) {
	cctx, cancel := context.WithTimeout(ctx, connectWait)
	defer cancel()
	return conn.Connect(cctx, host)
}

// observe connects to this pod's server (tries times, one a second, since
// its DNS record may not be published yet), then to every peer in parallel,
// and reads what each reachable server holds. The returned sessions stay
// open for the execute phase; the caller closes them.
//
// Each connect is bounded by the connection template's connect timeout,
// connectWait and ctx; each server's reads together by readWait
// (AKU_OBSERVE_TIMEOUT), far below AKU_QUERY_TIMEOUT: they take
// milliseconds on a live server, and a frozen one must not hold the run.
// A peer that cannot be reached, that drops its connection or that does not
// answer its reads in time is recorded with its Class, not an error. A
// failure to read this pod's own server is an error.
func observe(ctx context.Context, cfg *conf.Config, me int, conn Connector, tries int, clock Clock, marker Marker) (Observation, sessions, error) {
	obs := Observation{Servers: make([]ServerView, cfg.ServerCount)}
	for q := range obs.Servers {
		obs.Servers[q] = ServerView{Ordinal: q, Host: PeerHost(cfg, q), AdminMode: -1, DDLEnable: -1}
	}
	v, ok, err := marker.readDDLJournal()
	if err != nil {
		return obs, nil, err
	}
	obs.SavedDDLEnable, obs.HasSavedDDL = v, ok
	readWait := ObserveWait(cfg)
	open := sessions{}
	self := &obs.Servers[me]
	sess, err := connectSelf(ctx, conn, self.Host, tries, clock)
	if err != nil {
		self.Err, self.Class = err, classOf(err)
		return obs, open, nil
	}
	open[me] = sess

	// This pod's state is read while the peers are connected and read.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var selfErr, peerErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		selfErr = read(ctx, sess, self, readWait)
	}()
	for q := range obs.Servers {
		if q == me {
			continue
		}
		wg.Add(1)
		go func(v *ServerView) {
			defer wg.Done()
			s, err := observePeer(ctx, conn, v, readWait)
			mu.Lock()
			defer mu.Unlock()
			if s != nil {
				open[v.Ordinal] = s
			}
			peerErr = errors.Join(peerErr, err)
		}(&obs.Servers[q])
	}
	wg.Wait()
	if selfErr != nil && ctx.Err() == nil && classOf(selfErr) == ClassNotAnswering {
		selfErr = fmt.Errorf("%w: this pod's own server did not answer within AKU_OBSERVE_TIMEOUT %s, %w", ErrNeededServerUnreachable, readWait, selfErr)
	}
	return obs, open, errors.Join(selfErr, peerErr)
}

// connectSelf connects to this pod's own server through its DNS name, the
// address check (docs/behaviour.md, "Observation"): about tries
// (AKU_ADDRESS_CHECK_COUNT) tries a second apart, and never much longer
// than that many seconds, even when each try waits for a connect timeout
// (a stale address that drops packets). A server that answered and refused
// will not change its mind.
func connectSelf(ctx context.Context, conn Connector, host string, tries int, clock Clock) (Session, error) {
	tries = max(tries, 1)
	var sess Session
	var n int64
	loop := retry.Loop{Clock: clock, Tries: int64(tries), For: time.Duration(tries) * addressCheckInterval,
		Pause: func(int64) time.Duration { return addressCheckInterval }}
	err := loop.Do(ctx, func(try int64) error {
		n = try
		var err error
		sess, err = connect(ctx, conn, host)
		if c := classOf(err); err != nil && c != ClassAbsent && c != ClassNotAnswering {
			return retry.Stop(err)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("after %d of %d tries: %w", n, tries, err)
	}
	return sess, nil
}

// observePeer connects to a peer and reads it into v, returning the open
// session, or nil with v classified when the peer cannot be used. A peer
// that drops its connection or does not answer its reads in time is
// skipped like one that refuses the connect, but keeps its class: one that
// does not answer exists, and end must not act as if it were gone. Any
// other failure to read it is an error.
func observePeer(ctx context.Context, conn Connector, v *ServerView, readWait time.Duration) (Session, error) {
	s, err := connect(ctx, conn, v.Host)
	if err != nil {
		v.Err, v.Class = err, classOf(err)
		return nil, nil
	}
	err = read(ctx, s, v, readWait)
	if err == nil {
		return s, nil
	}
	s.Close()
	if ctx.Err() != nil || !(errors.Is(err, replication.ErrUnreachable) || errors.Is(err, replication.ErrTimeout)) {
		return nil, err
	}
	*v = ServerView{Ordinal: v.Ordinal, Host: v.Host, Err: err, Class: classOf(err), Dropped: true, AdminMode: -1, DDLEnable: -1}
	return nil, nil
}

// DefaultObserveTimeout bounds the reads of one server during observe when
// the configuration sets none (AKU_OBSERVE_TIMEOUT's default).
const DefaultObserveTimeout = 10 * time.Second

// ObserveWait is how long reading one server's state may take:
// AKU_OBSERVE_TIMEOUT, or DefaultObserveTimeout for a configuration built
// without it. Every read-only look at a server (a run's observe, its
// closing check, aku status and the probes) is bounded by it.
func ObserveWait(cfg *conf.Config) time.Duration {
	if cfg.ObserveTimeout > 0 {
		return cfg.ObserveTimeout
	}
	return DefaultObserveTimeout
}

// read fills v from a connected server, within wait: its replication
// objects, ADMIN_MODE and REPLICATION_DDL_ENABLE.
func read(ctx context.Context, s Session, v *ServerView, wait time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	states, err := s.Replications(ctx)
	if err != nil {
		return fmt.Errorf("observing: %w", err)
	}
	v.Objects = make(map[string]replication.State, len(states))
	for _, st := range states {
		v.Objects[st.Name] = st
	}
	props, err := s.Properties(ctx, "ADMIN_MODE", "REPLICATION_DDL_ENABLE")
	if err != nil {
		return fmt.Errorf("observing: %w", err)
	}
	v.AdminMode, v.DDLEnable = props[0], props[1]
	v.Reachable, v.Class = true, ClassUp
	return nil
}

// classOf classifies a connect or read error of observe.
func classOf(err error) Class {
	switch {
	case err == nil:
		return ClassUp
	case errors.Is(err, replication.ErrSysdbaBusy):
		return ClassSysdbaBusy
	case errors.Is(err, replication.ErrRefused):
		return ClassRefused
	case errors.Is(err, replication.ErrDriver):
		return ClassDriver
	case errors.Is(err, replication.ErrTimeout), errors.Is(err, replication.ErrNoAnswer), errors.Is(err, context.DeadlineExceeded):
		return ClassNotAnswering
	}
	return ClassAbsent
}
