package altisim

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/aku-project/aku/internal/retry"
)

// Session is one client connection to a Server. Statements of one session
// run one at a time; every statement commits on its own (autocommit, see
// docs/altisim.md).
type Session struct {
	srv    *Server
	id     int64
	user   string
	sysdba bool

	// exec serialises the session's statements; mu guards closed, so that
	// Close never waits for a running statement.
	runMu  sync.Mutex
	mu     sync.Mutex
	closed bool
	// props are ALTER SESSION SET values: QUERY_TIMEOUT, and REPLICATION
	// (0 = DEFAULT, 1 = NONE).
	props map[string]int64
}

// ID is the session's id, unique per server.
func (s *Session) ID() int64 { return s.id }

// SysDBA reports whether the session holds SYSDBA privilege.
func (s *Session) SysDBA() bool { return s.sysdba }

// Exec runs ONE statement (a trailing ';' is tolerated). Cancelling ctx
// cancels the statement: Exec then returns ctx.Err(). A statement running
// longer than QUERY_TIMEOUT seconds is cancelled with an *Error (0x01044).
// Errors of the statement itself are *Error values with Altibase codes. A
// fault, or the server's Close or Crash while the statement runs, drops the
// connection: Exec returns ErrConnectionDropped and the session is closed.
func (s *Session) Exec(ctx context.Context, sql string) (*Result, error) {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	if s.isClosed() {
		return nil, errSessionClosed
	}
	if s.srv.isClosed() {
		s.Close()
		return nil, ErrConnectionDropped
	}
	// A statement still running when the server closes or crashes ends as
	// its connection would: dropped (a FLUSH or a hang fault would
	// otherwise wait for its context, up to QUERY_TIMEOUT).
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := context.AfterFunc(s.srv.ctx, func() { cancel(ErrConnectionDropped) })
	defer stop()
	start := time.Now()
	res, err := s.exec(sctx, sql)
	if err != nil && ctx.Err() == nil && errors.Is(context.Cause(sctx), ErrConnectionDropped) {
		err = ErrConnectionDropped
	}
	e := LoggedStatement{Start: start, Duration: time.Since(start), Session: s.id, SQL: sql}
	if err != nil {
		e.Err = err.Error()
		var ae *Error
		if errors.As(err, &ae) {
			e.Code = ae.Code
		}
	}
	s.srv.logStatement(e)
	if errors.Is(err, ErrConnectionDropped) {
		s.Close()
	}
	return res, err
}

func (s *Session) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *Session) exec(ctx context.Context, sql string) (*Result, error) {
	srv := s.srv
	faults, latency := srv.faults.match(sql)
	// QUERY_TIMEOUT (Altibase General Reference, "QUERY_TIMEOUT"): the
	// session value, else the system's; 0 means no limit.
	timeout, ok := s.props["QUERY_TIMEOUT"]
	if !ok {
		timeout = srv.prop("QUERY_TIMEOUT")
	}
	parent := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(timeout)*time.Second)
		defer cancel()
	}
	res, err := s.execFaulted(ctx, sql, faults, latency)
	if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) && parent.Err() == nil {
		return nil, errQueryTimeout
	}
	return res, err
}

func (s *Session) execFaulted(ctx context.Context, sql string, faults []Fault, latency time.Duration) (*Result, error) {
	if latency > 0 {
		if err := retry.Sleep(ctx, latency); err != nil {
			return nil, err
		}
	}
	dropAfter := false
	for _, f := range faults {
		switch f.Action {
		case FaultDelay:
			if err := retry.Sleep(ctx, f.Delay); err != nil {
				return nil, err
			}
		case FaultHang:
			<-ctx.Done()
			return nil, ctx.Err()
		case FaultFail:
			return nil, &Error{Code: f.Code, Message: f.Message}
		case FaultDrop:
			if !f.After {
				return nil, ErrConnectionDropped
			}
			dropAfter = true
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	st, err := parse(sql)
	if err != nil {
		return nil, err
	}
	res, err := s.run(ctx, st)
	if dropAfter {
		return nil, ErrConnectionDropped
	}
	return res, err
}

// Close ends the session and frees its SYSDBA slot at once, without
// waiting for a running statement (cancel its context to stop it). It is
// idempotent.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.srv.endSession(s.id)
	return nil
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// resolve turns a possibly unqualified name into USER.NAME: unqualified
// names belong to the session user (issue 3 part 2).
func (s *Session) resolve(n qname) string {
	if n.user == "" {
		return s.user + "." + n.name
	}
	return n.user + "." + n.name
}

// run executes a parsed statement.
func (s *Session) run(ctx context.Context, st any) (*Result, error) {
	switch x := st.(type) {
	case *selectStmt:
		return s.selectRows(x)
	case *insertStmt:
		n, err := s.insert(x)
		return &Result{RowsAffected: n, Tag: "INSERT"}, err
	case *updateStmt:
		n, err := s.update(x)
		return &Result{RowsAffected: n, Tag: "UPDATE"}, err
	case *deleteStmt:
		n, err := s.delete(x)
		return &Result{RowsAffected: n, Tag: "DELETE"}, err
	case *createTableStmt:
		return &Result{Tag: "CREATE TABLE"}, s.createTable(x)
	case *dropTableStmt:
		return &Result{Tag: "DROP TABLE"}, s.dropTable(x)
	case *truncateTableStmt:
		return &Result{Tag: "TRUNCATE"}, s.truncate(x)
	case *createReplStmt:
		return &Result{Tag: "CREATE REPLICATION"}, s.createRepl(x)
	case *alterReplStmt:
		return &Result{Tag: "ALTER REPLICATION"}, s.alterRepl(ctx, x)
	case *dropReplStmt:
		return &Result{Tag: "DROP REPLICATION"}, s.dropRepl(ctx, x.name)
	case *setPropStmt:
		if x.system {
			return &Result{Tag: "ALTER SYSTEM"}, s.alterSystem(x)
		}
		return &Result{Tag: "ALTER SESSION"}, s.alterSession(x)
	case *txStmt:
		// Autocommit: every statement is already committed; COMMIT and
		// ROLLBACK are accepted and do nothing (docs/altisim.md).
		return &Result{Tag: x.kind}, nil
	}
	return nil, errors.New("running statement: unsupported statement type")
}

// alterSystem runs ALTER SYSTEM SET (Altibase SQL Reference, "ALTER SYSTEM";
// docs/altisim.md, "Properties"). The change lasts until the server restarts.
func (s *Session) alterSystem(x *setPropStmt) error {
	d, ok := propDefs[x.name]
	if !ok {
		return errProperty(x.name)
	}
	if !d.system {
		return errPropertyReadOnly(x.name)
	}
	if !x.isNum {
		return errPropertyRange(x.name, 0)
	}
	if x.num < d.min || x.num > d.max {
		return errPropertyRange(x.name, x.num)
	}
	srv := s.srv
	srv.mu.Lock()
	defer srv.mu.Unlock()
	srv.props[x.name] = x.num
	return nil
}

// alterSession runs ALTER SESSION SET: QUERY_TIMEOUT (Altibase General
// Reference, "QUERY_TIMEOUT") and REPLICATION = DEFAULT | NONE | FALSE |
// TRUE ([I]: the Altibase Replication Manual shows only DEFAULT, in
// "Executing DDL Statements on Replication Target Tables"): with NONE or
// FALSE the session's changes are not replicated.
func (s *Session) alterSession(x *setPropStmt) error {
	if x.name == "REPLICATION" {
		switch strings.ToUpper(x.word) {
		case "DEFAULT", "TRUE":
			s.props["REPLICATION"] = 0
		case "NONE", "FALSE":
			s.props["REPLICATION"] = 1
		default:
			return syntaxError("ALTER SESSION SET REPLICATION = "+x.word, 0, "DEFAULT, NONE, TRUE or FALSE expected")
		}
		return nil
	}
	d, ok := propDefs[x.name]
	if !ok {
		return errProperty(x.name)
	}
	if !d.session {
		return errPropertyReadOnly(x.name)
	}
	if !x.isNum || x.num < d.min || x.num > d.max {
		return errPropertyRange(x.name, x.num)
	}
	s.props[x.name] = x.num
	return nil
}
