package altisim

import (
	"context"
	"fmt"
)

// Value is one column value of a Result row: nil (SQL NULL), int64, float64
// or string.
type Value = any

// Result is what one statement returns. A statement that returns no rows
// (DDL, ALTER, INSERT ...) has no Columns.
type Result struct {
	Columns      []string
	Rows         [][]Value
	RowsAffected int64
	// Tag names the statement kind ("SELECT", "INSERT", "ALTER REPLICATION"
	// ...); the wire server turns it into a command tag.
	Tag string
}

// Error is an Altibase error: a code such as 0x6100D and its message. It
// prints as Altibase clients show it ("ERR-6100D : ...") and travels over
// the PostgreSQL wire as a 5-hex-digit SQLSTATE.
type Error struct {
	Code    uint32
	Message string
}

// Error prints the error as Altibase clients do: "ERR-6100D : message".
func (e *Error) Error() string { return fmt.Sprintf("ERR-%05X : %s", e.Code, e.Message) }

// SQLState is the code as 5 upper-case hex digits, e.g. "6100D".
func (e *Error) SQLState() string { return fmt.Sprintf("%05X", e.Code) }

// ConnectOptions describe a client session being opened.
type ConnectOptions struct {
	User     string
	Password string
	// SysDBA asks for SYSDBA privilege (at most one such session per server,
	// the only kind admitted while ADMIN_MODE = 1).
	SysDBA bool
	// Remote is true for a client that is not on the server's loopback; a
	// remote SYSDBA session needs REMOTE_SYSDBA_ENABLE = 1.
	Remote bool
}

// Transport carries replication traffic from a server's senders to peers'
// replication listeners. The in-process Cluster resolves host names to
// servers of the same process; the TCP transport dials real sockets.
type Transport interface {
	// Dial connects to the replication listener at host:port. It fails
	// like a TCP connect would: unknown host, refused, or timed out.
	Dial(ctx context.Context, host string, port int) (Link, error)
}

// Link is one connection from a sender to a peer's receiver.
type Link interface {
	// Send delivers one message and returns the peer's reply, which the
	// peer produced with (*Server).Receive.
	Send(ctx context.Context, m *ReplMessage) (*ReplMessage, error)
	Close() error
}
