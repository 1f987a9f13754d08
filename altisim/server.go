package altisim

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Options configure one simulated server.
type Options struct {
	// Name is this server's host name (logs, V$ views, handshake "From").
	Name string
	// DataDir holds the server's state; "" keeps it in memory only. With a
	// DataDir, every acknowledged statement survives Close and Crash.
	DataDir string
	// SysPassword is the SYS user's password (default "manager").
	SysPassword string
	// ReplicationPort is REPLICATION_PORT_NO; 0 disables replication
	// (altibase.md §3.3): the server's receiver refuses every handshake.
	ReplicationPort int
	// Transport is how senders reach peers; nil: senders cannot connect.
	Transport Transport
	// ReplicationLag is how long a committed change waits before a sender
	// ships it, so that FLUSH has something to wait for.
	ReplicationLag time.Duration
	// Properties are initial property values, e.g. {"ADMIN_MODE": 1}, as the
	// ALTIBASE_<PROPERTY> environment variables set them (altibase.md §3.3).
	Properties map[string]int64
	// StatementLatency is added to every statement (benchmarks); it can be
	// changed at run time with Faults().SetLatency.
	StatementLatency time.Duration
}

// ErrConnectionDropped is returned by Exec when a fault drops the
// connection; the driver or wire server then closes the connection.
var ErrConnectionDropped = errors.New("altisim: connection dropped by an injected fault")

// errServerDown is what sessions of a closed or crashed server get.
var errServerDown = &Error{Code: 0x410D5, Message: "Client unable to establish connection."}

// Server is one simulated Altibase server. All methods are safe for
// concurrent use.
type Server struct {
	opts   Options
	faults *Faults

	mu       sync.Mutex
	closed   bool
	props    map[string]int64
	nextSess int64
	sessions map[int64]*Session
	// sysdba is the id of the session holding the single SYSDBA slot
	// (altibase.md §3.4 ERR-41041); 0 = free. holds counts fault holds.
	sysdba int64
	holds  int

	stmtLog []LoggedStatement
}

// NewServer starts a server. With a DataDir it loads the state found there
// and auto-starts the replications that were started, as
// REPLICATION_SENDER_AUTO_START = 1 does (altibase.md §3.3).
func NewServer(o Options) (*Server, error) {
	if o.Name == "" {
		return nil, errors.New("creating altisim server: empty name")
	}
	if o.SysPassword == "" {
		o.SysPassword = "manager"
	}
	s := &Server{opts: o, sessions: map[int64]*Session{}}
	s.faults = &Faults{srv: s, latency: o.StatementLatency}
	s.props = defaultProperties(o)
	return s, nil
}

// Name is the server's host name.
func (s *Server) Name() string { return s.opts.Name }

// Faults is the server's fault injector.
func (s *Server) Faults() *Faults { return s.faults }

// StatementLog returns a copy of the server's statement log, oldest first.
func (s *Server) StatementLog() []LoggedStatement {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]LoggedStatement(nil), s.stmtLog...)
}

// Close shuts the server down cleanly: senders stop, state is persisted,
// and every session's next statement fails.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

// Crash stops the server like kill -9: everything stops at once without any
// extra persistence step. What was acknowledged is on disk already.
func (s *Server) Crash() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
}

// Connect opens a session. Refusals are *Error values with Altibase codes:
// a wrong user or password, ADMIN_MODE = 1 without SYSDBA (0x4106E), a
// second SYSDBA session (0x41041), remote SYSDBA while REMOTE_SYSDBA_ENABLE
// = 0 (0x410C8).
func (s *Server) Connect(ctx context.Context, o ConnectOptions) (*Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errServerDown
	}
	s.nextSess++
	sess := &Session{srv: s, id: s.nextSess, user: "SYS", sysdba: o.SysDBA}
	s.sessions[sess.id] = sess
	return sess, nil
}

// Receive is the receiver side of the replication protocol: it handles one
// message from a peer's sender and returns the reply.
func (s *Server) Receive(ctx context.Context, m *ReplMessage) (*ReplMessage, error) {
	return nil, fmt.Errorf("receiving %s from %s: not implemented yet", m.Kind, m.From)
}

func (s *Server) holdSysdba() func() {
	return func() {}
}

func defaultProperties(o Options) map[string]int64 {
	p := map[string]int64{}
	for k, v := range o.Properties {
		p[k] = v
	}
	return p
}
