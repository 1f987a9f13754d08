package replication

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aku-project/aku/internal/retry"
)

// Session is aku's one connection to one server. Its methods may be called
// from several goroutines; statements run one at a time, in call order.
type Session struct {
	host     string
	addr     string
	db       *sql.DB
	conn     *sql.Conn
	policy   Policy
	diagnose func(error) (string, int, bool)

	mu   sync.Mutex
	lost error // set once the connection is known lost; later calls fail fast
	// abandoned is set when a statement did not return after its cancel
	// (see cancelGrace): its goroutine still holds the connection.
	abandoned bool
}

// Exec runs one statement that returns no rows.
//
// Each try runs through QueryContext with its own AKU_QUERY_TIMEOUT deadline,
// because only QueryContext cancels a running statement with
// alexbrainman/odbc (docs/odbc.md, "Statements run through QueryContext");
// the driver's answer "Stmt did not create a result set" is the statement's
// success.
//
// A try that fails with a code Retryable accepts is retried up to
// Policy.RetryCount times, Policy.RetryDelay apart. Errors are
// *StatementError values wrapping ErrStatement (rejected, after any
// retries), ErrTimeout (past AKU_QUERY_TIMEOUT, or the caller's deadline),
// or ErrUnreachable (connection lost: the outcome is unknown, so the
// statement is never retried and the session refuses further statements).
// A cancelled ctx gives an error wrapping context.Canceled.
func (s *Session) Exec(ctx context.Context, stmt string) error {
	return s.run(ctx, stmt, nil)
}

// Query runs one statement that returns rows and returns them, each value
// nil, int64, float64, string or bool ([]byte is turned into string). It
// has the timeout, retries and errors of Exec.
func (s *Session) Query(ctx context.Context, q string) ([][]any, error) {
	var out [][]any
	err := s.run(ctx, q, func(rows *sql.Rows) error {
		out = out[:0]
		cols, err := rows.Columns()
		if err != nil {
			return err
		}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					vals[i] = string(b)
				}
			}
			out = append(out, vals)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Close ends the session, freeing the server's SYSDBA slot. It does not
// wait for a statement abandoned after an unanswered cancel: that one's
// connection is closed in the background when its driver call returns.
func (s *Session) Close() error {
	s.mu.Lock()
	abandoned := s.abandoned
	s.mu.Unlock()
	if abandoned {
		go func() {
			s.conn.Close()
			s.db.Close()
		}()
		return nil
	}
	err := s.conn.Close()
	if err2 := s.db.Close(); err == nil {
		err = err2
	}
	if err != nil && !errors.Is(err, sql.ErrConnDone) {
		return fmt.Errorf("closing the session on %s: %w", s.addr, err)
	}
	return nil
}

// run is the retry loop of Exec and Query; scan, when not nil, reads the
// rows of a successful try.
func (s *Session) run(ctx context.Context, stmt string, scan func(*sql.Rows) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	fail := func(class error, code uint32, tries int, err error) error {
		return &StatementError{Host: s.host, Stmt: stmt, Code: code, Tries: tries, Class: class, Err: err}
	}
	if s.lost != nil {
		return fail(ErrUnreachable, 0, 0, s.lost)
	}
	loop := retry.Loop{Clock: s.policy.clock(), Tries: s.policy.tries(), Pause: func(int64) time.Duration { return s.policy.RetryDelay }}
	return loop.Do(ctx, func(try int64) error {
		err := s.try(ctx, stmt, scan)
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			// The caller's context ended: a deadline is a timeout, a
			// cancellation (aku was told to stop) no class of its own.
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return retry.Stop(fail(ErrTimeout, 0, int(try), ctx.Err()))
			}
			return retry.Stop(fmt.Errorf("on %s: %s: %w", s.host, stmt, ctx.Err()))
		case errors.Is(err, errTryTimeout):
			return retry.Stop(fail(ErrTimeout, 0, int(try), err))
		case lostConnection(err, s.diagnose):
			s.lost = err
			return retry.Stop(fail(ErrUnreachable, 0, int(try), err))
		}
		code, _ := CodeOf(err, s.diagnose)
		if !Retryable(code) {
			return retry.Stop(fail(ErrStatement, code, int(try), err))
		}
		// Retried after RetryDelay; when the tries are used up, or the
		// wait is cut short, this is what they could not cure.
		return fail(ErrStatement, code, int(try), err)
	})
}

// errTryTimeout is a try cancelled by its own AKU_QUERY_TIMEOUT deadline.
var errTryTimeout = errors.New("cancelled")

// cancelGrace is how long a try waits, after its deadline or the caller's
// cancel, for the driver to return. alexbrainman/odbc cancels with
// SQLCancel and then waits for the execute to return, which it never does
// if the network to the server is gone (psqlODBC's cancel request itself
// then hangs): past the grace the statement is abandoned with its
// goroutine, and with it the session, so that every wait stays bounded.
var cancelGrace = 5 * time.Second

// try sends the statement once, under Policy.QueryTimeout.
func (s *Session) try(ctx context.Context, stmt string, scan func(*sql.Rows) error) error {
	tctx := ctx
	if s.policy.QueryTimeout > 0 {
		var cancel context.CancelFunc
		tctx, cancel = context.WithTimeout(ctx, s.policy.QueryTimeout)
		defer cancel()
	}
	done := make(chan error, 1)
	go func() { done <- s.query(tctx, stmt, scan) }()
	var err error
	select {
	case err = <-done:
	case <-tctx.Done():
		grace := time.NewTimer(cancelGrace)
		select {
		case err = <-done:
			grace.Stop()
		case <-grace.C:
			err = fmt.Errorf("%w, and the server did not answer the cancel within %s: session given up", tctx.Err(), cancelGrace)
			s.abandoned = true
			s.lost = err
		}
	}
	if err != nil && tctx.Err() != nil && ctx.Err() == nil {
		// Whatever the driver made of the cancel (ctx.Err(), an
		// "operation cancelled" diagnostic ...), the cause is the timeout.
		return fmt.Errorf("%w after AKU_QUERY_TIMEOUT %s (%w)", errTryTimeout, s.policy.QueryTimeout, err)
	}
	return err
}

func (s *Session) query(ctx context.Context, stmt string, scan func(*sql.Rows) error) error {
	rows, err := s.conn.QueryContext(ctx, stmt)
	if err != nil {
		if scan == nil && noResultSet(err) {
			return nil
		}
		return err
	}
	defer rows.Close()
	if scan != nil {
		if err := scan(rows); err != nil {
			return err
		}
	} else {
		for rows.Next() {
		}
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return rows.Close()
}
