package altisim

import (
	"context"
	"sync"
)

// Session is one client connection to a Server. Statements of one session
// run one at a time.
type Session struct {
	srv    *Server
	id     int64
	user   string
	sysdba bool

	mu     sync.Mutex
	closed bool
}

// ID is the session's id, unique per server.
func (s *Session) ID() int64 { return s.id }

// SysDBA reports whether the session holds SYSDBA privilege.
func (s *Session) SysDBA() bool { return s.sysdba }

// Exec runs ONE statement (a trailing ';' is tolerated). Cancelling ctx
// cancels the statement: Exec then returns ctx.Err().
func (s *Session) Exec(ctx context.Context, sql string) (*Result, error) {
	return nil, &Error{Code: 0x31001, Message: "SQL syntax error (engine not implemented yet)"}
}

// Close ends the session and frees its SYSDBA slot. It is idempotent.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}
