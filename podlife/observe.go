package podlife

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/replication"
)

// Session is one server connection as the flows use it; a
// *replication.Session is one (spec §10: one SYSDBA session per server).
type Session interface {
	Exec(ctx context.Context, stmt string) error
	Replications(ctx context.Context) ([]replication.State, error)
	Property(ctx context.Context, name string) (int64, error)
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
// server through its DNS name (AKU_ADDRESS_CHECK_COUNT tries, spec §3.2).
const addressCheckInterval = time.Second

// connectWait bounds each connect of observe whatever the connection
// string says: the driver's connect ignores contexts (guides/testing.md
// gotcha 3), and an AKU_CONNECTION_STRING without a connect-timeout keyword
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
// Each peer connect is bounded by the connection template's connect
// timeout and by ctx; an unreachable peer is recorded, not an error, and so
// is a peer whose connection is lost or whose reads time out while it is
// read. Any other failure to read a server is an error.
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

	open := sessions{}
	self := &obs.Servers[me]
	if tries < 1 {
		tries = 1
	}
	var sess Session
	try := 1
	for ; ; try++ {
		sess, err = connect(ctx, conn, self.Host)
		// The address check waits for this pod's DNS record (spec §3.2):
		// a server that answered and refused will not change its mind.
		if err == nil || try >= tries || ctx.Err() != nil || answered(err) {
			break
		}
		if serr := clock.Sleep(ctx, addressCheckInterval); serr != nil {
			break
		}
	}
	if err != nil {
		self.Err = fmt.Errorf("after %d of %d tries: %w", try, tries, err)
		return obs, open, nil
	}
	open[me] = sess

	// This pod's state is read while the peers are connected and read.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := read(ctx, sess, self); err != nil {
			mu.Lock()
			if firstErr == nil {
				firstErr = err
			}
			mu.Unlock()
		}
	}()
	for q := range obs.Servers {
		if q == me {
			continue
		}
		wg.Add(1)
		go func(v *ServerView) {
			defer wg.Done()
			s, err := connect(ctx, conn, v.Host)
			if err != nil {
				v.Err = err
				return
			}
			if err := read(ctx, s, v); err != nil {
				s.Close()
				if ctx.Err() == nil && (errors.Is(err, replication.ErrUnreachable) || errors.Is(err, replication.ErrTimeout)) {
					// A peer that drops its connection or stops answering
					// while being read is as gone as one that refuses the
					// connect (spec §6.1 step 3, §7 step 2): its side is
					// skipped, not the whole run failed.
					*v = ServerView{Ordinal: v.Ordinal, Host: v.Host, Err: err, AdminMode: -1, DDLEnable: -1}
					return
				}
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				return
			}
			mu.Lock()
			open[v.Ordinal] = s
			mu.Unlock()
		}(&obs.Servers[q])
	}
	wg.Wait()
	return obs, open, firstErr
}

// read fills v from a connected server: its replication objects, and
// ADMIN_MODE and REPLICATION_DDL_ENABLE.
func read(ctx context.Context, s Session, v *ServerView) error {
	states, err := s.Replications(ctx)
	if err != nil {
		return fmt.Errorf("observing %s: %w", v.Host, err)
	}
	v.Objects = make(map[string]replication.State, len(states))
	for _, st := range states {
		v.Objects[st.Name] = st
	}
	if v.AdminMode, err = s.Property(ctx, "ADMIN_MODE"); err != nil {
		return fmt.Errorf("observing %s: %w", v.Host, err)
	}
	if v.DDLEnable, err = s.Property(ctx, "REPLICATION_DDL_ENABLE"); err != nil {
		return fmt.Errorf("observing %s: %w", v.Host, err)
	}
	v.Reachable = true
	return nil
}

// answered reports a connect error that the server itself gave: it is
// running and reachable, but will not let aku in (another SYSDBA session,
// a wrong password, remote SYSDBA disabled).
func answered(err error) bool {
	return errors.Is(err, replication.ErrSysdbaBusy) || errors.Is(err, replication.ErrRefused)
}
