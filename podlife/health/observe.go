package health

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/podlife"
	"github.com/aku-project/aku/replication"
)

// Resolver looks a host name up; *net.Resolver is one. The observation
// resolves each pod's name before it connects, so that a pod that does
// not exist (NXDOMAIN from the headless Service) is told apart from a
// server that is down.
type Resolver interface {
	LookupHost(ctx context.Context, host string) ([]string, error)
}

// Input is what one observation needs; cmd/aku fills it.
type Input struct {
	Config   *conf.Config
	Identity podlife.Identity
	// Dialer opens the ordinary sessions (no SYSDBA privilege) every
	// server is read through.
	Dialer *replication.Dialer
	// Sysdba, when not nil, opens a SYSDBA session to a server that
	// refused the ordinary one because it is in ADMIN_MODE = 1 (aku
	// status --sysdba); nil reports such a server as not open.
	Sysdba *replication.Dialer
	// Resolver looks the pods' names up; nil is the system's.
	Resolver Resolver
	// MarkerPath is this pod's completion marker; the progress file of a
	// running start is next to it (ProgressPath).
	MarkerPath string
	// Now is the time seam; nil is time.Now.
	Now func() time.Time
}

func (in Input) now() time.Time {
	if in.Now == nil {
		return time.Now()
	}
	return in.Now()
}

// readWait bounds the connect and, again, the reads of one server:
// AKU_OBSERVE_TIMEOUT, as for a lifecycle run's observe.
func (in Input) readWait() time.Duration { return podlife.ObserveWait(in.Config) }

// State is what the observation made of a server.
type State string

// The states of a server (docs/status.md, "Servers").
const (
	// StateOpen: an ordinary session was opened and the server read; it
	// is open to users (ADMIN_MODE = 0).
	StateOpen State = "open"
	// StateAdminMode: read through SYSDBA (--sysdba) in ADMIN_MODE = 1,
	// and no aku start holds its SYSDBA session: a start that failed or
	// never ran.
	StateAdminMode State = "admin-mode"
	// StateNotOpen: it refused an ordinary session, being in ADMIN_MODE =
	// 1: a start in progress, or one that failed (without --sysdba aku
	// cannot tell which).
	StateNotOpen State = "not-open"
	// StateStarting: not open, and a start is running: this pod's own
	// (its progress file), or another one's SYSDBA session is taken.
	StateStarting State = "starting"
	// StateAbsent: its name does not resolve (NXDOMAIN): the pod does not
	// exist.
	StateAbsent State = "absent"
	// StateRefused: its name resolves but nothing accepts the connection:
	// the server is down.
	StateRefused State = "refused"
	// StateNotAnswering: the name lookup, the connect or a read did not
	// finish in time.
	StateNotAnswering State = "not-answering"
	// StateRejected: the server answered and rejected the session (a
	// wrong SYS password ...).
	StateRejected State = "rejected"
)

// ServerView is one server as the observation saw it.
type ServerView struct {
	Ordinal int
	Host    string
	State   State
	// Err says why the server was not read (nil when it was).
	Err error
	// ViaSysdba: the server was read through a SYSDBA session (--sysdba).
	ViaSysdba bool
	// AdminMode is ADMIN_MODE; -1 when not read.
	AdminMode int64
	// Objects are its replication objects by name; nil when not read.
	Objects map[string]replication.State
	// Monitor is what its performance views said; zero when not read.
	Monitor replication.Monitor
}

// Read reports whether the server's objects and views were read.
func (v ServerView) Read() bool { return v.Objects != nil }

// Observation is one look at every server of the StatefulSet and at this
// pod's marker and progress file. It is a plain value, so Assess is a
// pure function of it and tests build it by hand.
type Observation struct {
	At      time.Time
	Servers []ServerView // by ordinal, 0..AKU_SERVER_COUNT−1
	Self    SelfView
}

// SelfView is what this pod's files say about its own start.
type SelfView struct {
	// Marker reports the completion marker; MarkerErr why it could not be
	// checked.
	Marker    bool
	MarkerErr error
	// Start is what the progress file of a running start says.
	Start StartProgress
}

// Observe reads every server in parallel through ordinary sessions, each
// bounded by AKU_OBSERVE_TIMEOUT for its connect and again for its reads,
// and this pod's marker and progress file. What a server could not give is
// recorded in its view, never returned as an error.
func Observe(ctx context.Context, in Input) Observation {
	obs := Observation{At: in.now(), Servers: make([]ServerView, in.Config.ServerCount)}
	var wg sync.WaitGroup
	for q := range obs.Servers {
		obs.Servers[q] = ServerView{Ordinal: q, Host: podlife.PeerHost(in.Config, q), AdminMode: -1}
		wg.Add(1)
		go func(v *ServerView) {
			defer wg.Done()
			observeServer(ctx, in, v)
		}(&obs.Servers[q])
	}
	obs.Self = readSelf(in.MarkerPath, obs.At)
	wg.Wait()
	if me := in.Identity.Ordinal; me >= 0 && me < len(obs.Servers) {
		if v := &obs.Servers[me]; v.State == StateNotOpen && obs.Self.Start.Running() {
			v.State = StateStarting
		}
	}
	return obs
}

// readSelf reads this pod's marker and progress file, as of now.
func readSelf(markerPath string, now time.Time) SelfView {
	var self SelfView
	self.Marker, self.MarkerErr = podlife.Marker{Path: markerPath}.Exists()
	self.Start = ReadProgress(ProgressPath(markerPath), now)
	return self
}

// observeServer fills v: resolve, connect (ordinarily, then as SYSDBA
// where allowed and needed), read.
func observeServer(ctx context.Context, in Input, v *ServerView) {
	wait := in.readWait()
	if state, err := resolve(ctx, in.Resolver, v.Host, wait); err != nil {
		v.State, v.Err = state, err
		return
	}
	s, err := connect(ctx, in.Dialer, v.Host, wait)
	if err != nil {
		v.State, v.Err = connectState(err, in.Dialer), err
		if v.State != StateNotOpen || in.Sysdba == nil {
			return
		}
		s, err = connect(ctx, in.Sysdba, v.Host, wait)
		if err != nil {
			if errors.Is(err, replication.ErrSysdbaBusy) {
				v.State, v.Err = StateStarting, err
			}
			return
		}
		v.ViaSysdba = true
	}
	defer s.Close()
	read(ctx, s, v, wait)
}

// resolve looks host up within wait. A name that does not exist is
// StateAbsent; a lookup that fails otherwise StateNotAnswering.
func resolve(ctx context.Context, r Resolver, host string, wait time.Duration) (State, error) {
	if r == nil {
		r = net.DefaultResolver
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	_, err := r.LookupHost(ctx, host)
	if err == nil {
		return StateOpen, nil
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return StateAbsent, fmt.Errorf("looking up %s: %w", host, err)
	}
	return StateNotAnswering, fmt.Errorf("looking up %s: %w", host, err)
}

// connect opens a session to host with d, waiting wait at most (the
// driver's connect ignores contexts; Dialer.Connect stops waiting when its
// context ends).
func connect(ctx context.Context, d *replication.Dialer, host string, wait time.Duration) (*replication.Session, error) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	return d.Connect(ctx, host)
}

// connectState classifies a failed connect.
func connectState(err error, d *replication.Dialer) State {
	if code, ok := replication.CodeOf(err, d.Diagnose); ok && code == replication.CodeAdminMode {
		return StateNotOpen
	}
	switch {
	case errors.Is(err, replication.ErrRefused), errors.Is(err, replication.ErrSysdbaBusy):
		return StateRejected
	case errors.Is(err, replication.ErrNoAnswer), errors.Is(err, context.DeadlineExceeded):
		return StateNotAnswering
	}
	return StateRefused
}

// read fills v from an open session within wait: the replication objects,
// ADMIN_MODE and the performance views.
func read(ctx context.Context, s *replication.Session, v *ServerView, wait time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	fail := func(err error) {
		v.State, v.Err = StateNotAnswering, fmt.Errorf("reading %s: %w", v.Host, err)
		if !errors.Is(err, replication.ErrTimeout) && !errors.Is(err, replication.ErrUnreachable) {
			v.State = StateRejected
		}
	}
	states, err := s.Replications(ctx)
	if err != nil {
		fail(err)
		return
	}
	admin, err := s.Property(ctx, "ADMIN_MODE")
	if err != nil {
		fail(err)
		return
	}
	m, err := s.Monitor(ctx)
	if err != nil {
		fail(err)
		return
	}
	v.Objects = make(map[string]replication.State, len(states))
	for _, st := range states {
		v.Objects[st.Name] = st
	}
	v.AdminMode, v.Monitor, v.Err = admin, m, nil
	v.State = StateOpen
	if admin != 0 {
		v.State = StateAdminMode
	}
}

// ServerState is what a connect to the server of pod ordinal says of it
// (resolve, then an ordinary session): open, or why not. aku run waits
// with it for the server it started to answer.
func ServerState(ctx context.Context, in Input, ordinal int) State {
	return peerState(ctx, in, podlife.PeerHost(in.Config, ordinal))
}

// Answers reports a state in which the server answered on its port: open,
// or refusing the session for a reason of its own (ADMIN_MODE = 1, a
// rejected password).
func (s State) Answers() bool {
	switch s {
	case StateOpen, StateNotOpen, StateAdminMode, StateStarting, StateRejected:
		return true
	}
	return false
}
