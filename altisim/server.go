package altisim

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
	// (Altibase General Reference, "REPLICATION_PORT_NO"): the server's
	// receiver refuses every handshake.
	ReplicationPort int
	// Transport is how senders reach peers; nil: senders cannot connect.
	Transport Transport
	// ReplicationLag is how long a committed change waits before a sender
	// ships it, so that FLUSH has something to wait for.
	ReplicationLag time.Duration
	// Properties are initial property values, e.g. {"ADMIN_MODE": 1}, as the
	// ALTIBASE_<PROPERTY> environment variables set them (docs/altisim.md,
	// "Properties").
	Properties map[string]int64
	// StatementLatency is added to every statement (benchmarks); it can be
	// changed at run time with Faults().SetLatency.
	StatementLatency time.Duration
}

// ErrConnectionDropped is returned by Exec when a fault drops the
// connection, or when the server was closed or crashed under the session;
// the driver or wire server then closes the connection.
var ErrConnectionDropped = errors.New("altisim: connection dropped")

// errServerDown is what Connect returns on a closed or crashed server.
var errServerDown = &Error{Code: 0x410D5, Message: "Client unable to establish connection."}

// Server is one simulated Altibase server. All methods are safe for
// concurrent use.
//
// One mutex guards all state. It is never held while a message travels to
// a peer, so two servers replicating to each other cannot deadlock.
type Server struct {
	opts   Options
	faults *Faults
	ctx    context.Context // cancelled by Close/Crash: stops senders
	cancel context.CancelFunc
	wg     sync.WaitGroup // senders

	mu       sync.Mutex
	closed   bool
	crashed  bool
	props    map[string]int64
	nextSess int64
	sessions map[int64]*Session
	// sysdba is the id of the session holding the single SYSDBA slot
	// (ERR-41041, Altibase CloudNative FAQ), 0 when free; holds counts
	// fault holds.
	sysdba int64
	holds  int
	// senderHolds counts the HoldSender faults per replication name ("":
	// every sender).
	senderHolds map[string]int

	tables  map[string]*table // "USER.TABLE"
	nextOID int64
	// log is the transaction log: committed row changes in LSN order, kept
	// while some replication may still have to send them.
	log     []logRecord
	lastLSN int64
	// logEnd is the number of bytes written to the log so far: the
	// position of the next record (V$LFG, V$REPGAP).
	logEnd int64
	// logWake is closed (and replaced) whenever log or an XSN changes; senders
	// and FLUSH wait on it.
	logWake   chan struct{}
	repls     map[string]*replObj
	receivers map[string]*receiver

	store   *store
	stmtLog []LoggedStatement
}

// NewServer starts a server. With a DataDir it loads the state found there
// and auto-starts the replications that were started, as
// REPLICATION_SENDER_AUTO_START = 1 does (Altibase General Reference,
// "REPLICATION_SENDER_AUTO_START").
func NewServer(o Options) (*Server, error) {
	if o.Name == "" {
		return nil, errors.New("creating altisim server: empty name")
	}
	if o.SysPassword == "" {
		o.SysPassword = "manager"
	}
	props, err := initialProperties(o)
	if err != nil {
		return nil, fmt.Errorf("creating altisim server %s: %w", o.Name, err)
	}
	s := &Server{
		opts:      o,
		props:     props,
		sessions:  map[int64]*Session{},
		tables:    map[string]*table{},
		repls:     map[string]*replObj{},
		receivers: map[string]*receiver{},
		logWake:   make(chan struct{}),

		senderHolds: map[string]int{},
	}
	s.faults = &Faults{srv: s, latency: o.StatementLatency}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if o.DataDir != "" {
		st, err := openStore(o.DataDir)
		if err != nil {
			return nil, fmt.Errorf("creating altisim server %s: %w", o.Name, err)
		}
		if err := st.load(s); err != nil {
			st.close()
			return nil, fmt.Errorf("creating altisim server %s: loading %s: %w", o.Name, o.DataDir, err)
		}
		s.store = st
	}
	// REPLICATION_SENDER_AUTO_START = 1 (Altibase General Reference,
	// "REPLICATION_SENDER_AUTO_START"): replications that
	// were started before the restart start again, retrying in the background.
	if s.props["REPLICATION_SENDER_AUTO_START"] == 1 {
		s.mu.Lock()
		for _, r := range s.repls {
			if r.Started {
				s.startSenderLocked(r, nil, 0, replHost{}, startNormal)
			}
		}
		s.mu.Unlock()
	}
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

// Close shuts the server down cleanly: senders stop (started replications
// stay started, so they start again with the next NewServer), the data
// files are synced and closed, and every session's next statement fails with
// ErrConnectionDropped. Close is idempotent.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.cancel()
	s.wakeLocked()
	s.mu.Unlock()
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.store == nil {
		return nil
	}
	// Every change is already in the WAL; a clean shutdown only syncs it
	// (XSN advances are written unsynced) and closes it.
	err := s.store.wal.Sync()
	if cerr := s.store.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("closing altisim server %s: %w", s.opts.Name, err)
	}
	return nil
}

// Crash stops the server like kill -9: senders stop and the data files are
// closed without any extra persistence step. Every acknowledged statement
// was already written and synced, so a NewServer on the same DataDir finds
// it.
func (s *Server) Crash() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed, s.crashed = true, true
	s.cancel()
	s.wakeLocked()
	if s.store != nil {
		s.store.close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Connect opens a session. Refusals are *Error values with Altibase codes
// (docs/altisim.md, "Sessions and users"): an unknown user or wrong
// password, ADMIN_MODE = 1 without SYSDBA (0x4106E), remote SYSDBA while
// REMOTE_SYSDBA_ENABLE = 0 (0x410C8), a second SYSDBA session (0x41041).
func (s *Server) Connect(ctx context.Context, o ConnectOptions) (*Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	user := strings.ToUpper(o.User)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errServerDown
	}
	// Only SYS exists (every aku statement runs as SYS; only SYS runs
	// replication statements: Altibase Replication Manual, each statement's
	// "Prerequisites").
	if user != "SYS" || o.Password != s.opts.SysPassword {
		return nil, errLogin
	}
	if o.SysDBA && o.Remote && s.props["REMOTE_SYSDBA_ENABLE"] == 0 {
		return nil, errRemoteSysdba
	}
	if !o.SysDBA && s.props["ADMIN_MODE"] == 1 {
		return nil, errAdminMode
	}
	if o.SysDBA && (s.sysdba != 0 || s.holds > 0) {
		return nil, errSysdbaBusy
	}
	s.nextSess++
	sess := &Session{srv: s, id: s.nextSess, user: user, sysdba: o.SysDBA, props: map[string]int64{}}
	s.sessions[sess.id] = sess
	if o.SysDBA {
		s.sysdba = sess.id
	}
	return sess, nil
}

// holdSysdba takes the SYSDBA slot for a fault (Faults.HoldSysdba).
func (s *Server) holdSysdba() func() {
	s.mu.Lock()
	s.holds++
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			s.holds--
			s.mu.Unlock()
		})
	}
}

// holdSender holds the sender of the replication name, or every sender
// for "" (Faults.HoldSender). Releasing wakes the senders.
func (s *Server) holdSender(name string) func() {
	s.mu.Lock()
	s.senderHolds[name]++
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.senderHolds[name]--; s.senderHolds[name] == 0 {
				delete(s.senderHolds, name)
			}
			s.wakeLocked()
		})
	}
}

// senderHeldLocked reports whether a HoldSender fault holds the sender of
// the replication name.
func (s *Server) senderHeldLocked(name string) bool {
	return s.senderHolds[name] > 0 || s.senderHolds[""] > 0
}

func (s *Server) endSession(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, id)
	if s.sysdba == id {
		s.sysdba = 0
	}
}

// wakeLocked wakes everything waiting for the log or an XSN to change.
func (s *Server) wakeLocked() {
	close(s.logWake)
	s.logWake = make(chan struct{})
}

func (s *Server) logStatement(e LoggedStatement) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.stmtLog) >= maxStatementLog {
		s.stmtLog = append(s.stmtLog[:0], s.stmtLog[len(s.stmtLog)/2:]...)
	}
	s.stmtLog = append(s.stmtLog, e)
}

func (s *Server) prop(name string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.props[name]
}
