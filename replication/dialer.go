package replication

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// Dialer opens Sessions to the servers of the StatefulSet (docs/behaviour.md,
// "Sessions").
type Dialer struct {
	// Driver is the database/sql driver name: "odbc" in production,
	// "altisim" in tests.
	Driver string
	// Template is the connection-string template with {host}, {port},
	// {user} and {password} placeholders (see ExpandTemplate).
	Template string
	// Port is the servers' SQL port (AKU_PORT_NO).
	Port int
	// User and Password are the SYS credentials.
	User, Password string
	// Diagnose extracts (SQLSTATE, NativeError) from a driver error; cmd/aku
	// passes one for *odbc.Error. nil means only errors with a
	// SQLState() string method are classified (see CodeOf).
	Diagnose func(err error) (state string, native int, ok bool)
	// Policy is the timeout and retry policy of every statement run on the
	// Sessions this Dialer opens.
	Policy Policy
}

// Connect opens the one session aku holds on the server at host (Altibase
// allows one SYSDBA session per server: ERR-41041, Altibase CloudNative FAQ).
//
// The session is a single *sql.Conn pinned out of a pool of at most one:
// database/sql never re-runs a statement on a pinned connection after a
// lost reply, where db.Exec would silently run it again on a fresh one
// (docs/odbc.md, "A lost reply is never re-run").
//
// The ODBC driver's connect ignores contexts (docs/odbc.md, "Connects ignore
// contexts"), so it runs in a goroutine and ctx still bounds the caller's
// wait; the template's connect timeout bounds the connect itself, and a
// connect that completes after the caller gave up is closed at once.
//
// A server that already has a SYSDBA session gives an error wrapping
// ErrSysdbaBusy with advice; a server that answers with another Altibase
// error (a wrong password, remote SYSDBA disabled) one wrapping ErrRefused;
// any other failure wraps ErrUnreachable, and also ErrNoAnswer when the
// connect ran out of time. Each names host:port.
//
// A busy SYSDBA slot is not tried again here: the caller waits for it with
// every other session released (podlife's observe), since holding one
// server's slot while waiting for another's is how two runs deadlock.
func (d *Dialer) Connect(ctx context.Context, host string) (*Session, error) {
	addr := fmt.Sprintf("%s:%d", host, d.Port)
	dsn, err := ExpandTemplate(d.Template, host, d.Port, d.User, d.Password)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", addr, err)
	}
	db, err := sql.Open(d.Driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", addr, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)

	type result struct {
		conn *sql.Conn
		err  error
	}
	done := make(chan result, 1)
	go func() {
		c, err := db.Conn(ctx)
		done <- result{c, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		// The connect may still complete: close it then, so the server's
		// one SYSDBA slot is not held by a session nobody uses.
		go func() {
			if r := <-done; r.conn != nil {
				r.conn.Close()
			}
			db.Close()
		}()
		return nil, fmt.Errorf("connecting to %s: %w: %w: %w", addr, ErrUnreachable, ErrNoAnswer, ctx.Err())
	}
	if r.err != nil {
		db.Close()
		if driverManagerError(r.err, d.Diagnose) {
			return nil, fmt.Errorf("connecting to %s: %w: %w; install the driver, or point the DRIVER= of the connection string (AKU_CONNECTION_STRING) at its library",
				addr, ErrDriver, r.err)
		}
		// The server answered: it is reachable, and said no. CodeOf finds
		// the code also where psqlODBC keeps it only in the message.
		if code, ok := CodeOf(r.err, d.Diagnose); ok {
			if code == CodeSysdbaBusy {
				return nil, fmt.Errorf("connecting to %s as SYSDBA: %w (ERR-41041): close the other SYSDBA session, e.g. an operator's isql -sysdba, and run aku again",
					addr, ErrSysdbaBusy)
			}
			return nil, fmt.Errorf("connecting to %s as %s: %w (ERR-%05X): %w", addr, d.User, ErrRefused, code, r.err)
		}
		if connectTimedOut(r.err) {
			return nil, fmt.Errorf("connecting to %s: %w: %w: %w", addr, ErrUnreachable, ErrNoAnswer, r.err)
		}
		return nil, fmt.Errorf("connecting to %s: %w: %w", addr, ErrUnreachable, r.err)
	}
	return &Session{
		host:     host,
		addr:     addr,
		db:       db,
		conn:     r.conn,
		policy:   d.Policy,
		diagnose: d.Diagnose,
	}, nil
}

// connectTimedOut reports a driver's connect error that says its login or
// connect timeout expired: psqlODBC's "timeout expired", the simulator's
// "connect timed out", the Altibase driver's "timed out" (its TIMEOUT
// keyword). The drivers give no code for it, only these words.
func connectTimedOut(err error) bool {
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "timeout expired") || strings.Contains(msg, "timed out")
}

// driverManagerError reports an error of the ODBC driver manager itself
// rather than of the driver or the server: unixODBC marks its messages
// "[Driver Manager]" (a driver library that cannot be loaded comes as
// SQLSTATE 01000 with that mark), and SQLSTATEs IMxxx are the driver
// manager's by the ODBC specification (IM002 data source not found, IM003
// driver not loaded, IM004 the driver's SQLAllocHandle failed).
func driverManagerError(err error, diagnose func(error) (string, int, bool)) bool {
	if diagnose != nil {
		if state, _, ok := diagnose(err); ok && strings.HasPrefix(state, "IM") {
			return true
		}
	}
	return strings.Contains(err.Error(), "[Driver Manager]")
}
