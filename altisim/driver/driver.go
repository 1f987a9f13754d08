package driver

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sync/atomic"

	"github.com/aku-project/aku/altisim"
)

// DriverName is the name the driver is registered under with database/sql.
const DriverName = "altisim"

func init() { sql.Register(DriverName, Driver{}) }

// Driver is the database/sql driver of altisim clusters.
type Driver struct{}

// Open opens a connection without a context (database/sql uses
// OpenConnector instead).
func (d Driver) Open(dsn string) (driver.Conn, error) {
	c, err := d.OpenConnector(dsn)
	if err != nil {
		return nil, err
	}
	return c.Connect(context.Background())
}

// OpenConnector parses dsn once for every connection of a sql.DB.
func (d Driver) OpenConnector(dsn string) (driver.Connector, error) {
	cfg, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	return &Connector{Config: cfg}, nil
}

// ConnectError is a network failure while connecting (no such host,
// refused, timed out, unknown cluster). Its SQLState is "08001", as
// psqlODBC reports a connection it could not establish.
type ConnectError struct {
	Host string
	Err  error
}

// Error names the host and the network failure.
func (e *ConnectError) Error() string {
	return fmt.Sprintf("connecting to %s: %v", e.Host, e.Err)
}

// Unwrap returns the cause (wrapping altisim.ErrNoSuchHost and the like).
func (e *ConnectError) Unwrap() error { return e.Err }

// SQLState is "08001" (SQL-client unable to establish SQL-connection).
func (e *ConnectError) SQLState() string { return "08001" }

// Connector opens sessions described by a Config.
type Connector struct {
	Config Config
}

// Connect opens a session on the configured host of the configured
// cluster. ctx and the connect timeout bound a hanging connect.
func (c *Connector) Connect(ctx context.Context) (driver.Conn, error) {
	cl := altisim.LookupCluster(c.Config.Cluster)
	if cl == nil {
		return nil, &ConnectError{Host: c.Config.Host, Err: fmt.Errorf("no altisim cluster %q is registered", c.Config.Cluster)}
	}
	sess, err := cl.Connect(ctx, c.Config.Host, c.Config.Port, c.Config.ConnectTimeout, altisim.ConnectOptions{
		User:     c.Config.User,
		Password: c.Config.Password,
		SysDBA:   c.Config.SysDBA,
		Remote:   !altisim.IsLoopback(c.Config.Host),
	})
	if err != nil {
		var ae *altisim.Error
		if errors.As(err, &ae) {
			return nil, err
		}
		return nil, &ConnectError{Host: c.Config.Host, Err: err}
	}
	return &conn{sess: sess}, nil
}

// Driver returns the altisim driver.
func (c *Connector) Driver() driver.Driver { return Driver{} }

// conn is one session.
type conn struct {
	sess *altisim.Session
	bad  atomic.Bool
}

var (
	_ driver.QueryerContext     = (*conn)(nil)
	_ driver.ExecerContext      = (*conn)(nil)
	_ driver.ConnBeginTx        = (*conn)(nil)
	_ driver.ConnPrepareContext = (*conn)(nil)
	_ driver.Validator          = (*conn)(nil)
	_ driver.SessionResetter    = (*conn)(nil)
)

// exec runs one statement, turning a dropped connection into ErrBadConn.
func (c *conn) exec(ctx context.Context, query string, args []driver.NamedValue) (*altisim.Result, error) {
	if c.bad.Load() {
		return nil, driver.ErrBadConn
	}
	if len(args) > 0 {
		return nil, fmt.Errorf("running %q: the altisim driver does not support placeholders", query)
	}
	res, err := c.sess.Exec(ctx, query)
	if errors.Is(err, altisim.ErrConnectionDropped) {
		c.bad.Store(true)
		_ = c.sess.Close()
		return nil, driver.ErrBadConn
	}
	return res, err
}

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	res, err := c.exec(ctx, query, args)
	if err != nil {
		return nil, err
	}
	return &rows{res: res}, nil
}

func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	res, err := c.exec(ctx, query, args)
	if err != nil {
		return nil, err
	}
	return driver.RowsAffected(res.RowsAffected), nil
}

func (c *conn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *conn) PrepareContext(_ context.Context, query string) (driver.Stmt, error) {
	if c.bad.Load() {
		return nil, driver.ErrBadConn
	}
	return &stmt{c: c, query: query}, nil
}

func (c *conn) Close() error {
	if c.bad.Swap(true) {
		return nil
	}
	return c.sess.Close()
}

func (c *conn) Begin() (driver.Tx, error) { return c.BeginTx(context.Background(), driver.TxOptions{}) }

// BeginTx returns a transaction that does nothing: every statement is
// committed when it completes (autocommit), as aku runs them.
func (c *conn) BeginTx(context.Context, driver.TxOptions) (driver.Tx, error) {
	if c.bad.Load() {
		return nil, driver.ErrBadConn
	}
	return tx{}, nil
}

func (c *conn) IsValid() bool { return !c.bad.Load() }

func (c *conn) ResetSession(context.Context) error {
	if c.bad.Load() {
		return driver.ErrBadConn
	}
	return nil
}

// tx is the no-op transaction of an autocommit session.
type tx struct{}

func (tx) Commit() error   { return nil }
func (tx) Rollback() error { return nil }

// stmt is a statement prepared on the client only.
type stmt struct {
	c     *conn
	query string
}

func (s *stmt) Close() error  { return nil }
func (s *stmt) NumInput() int { return 0 }

func (s *stmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.c.ExecContext(context.Background(), s.query, nil)
}

func (s *stmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.c.QueryContext(context.Background(), s.query, nil)
}

func (s *stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.c.ExecContext(ctx, s.query, args)
}

func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.c.QueryContext(ctx, s.query, args)
}

// rows iterates over a Result already computed by the server.
type rows struct {
	res *altisim.Result
	i   int
}

var (
	_ driver.RowsColumnTypeDatabaseTypeName = (*rows)(nil)
	_ driver.RowsColumnTypeScanType         = (*rows)(nil)
)

func (r *rows) Columns() []string { return r.res.Columns }
func (r *rows) Close() error      { return nil }

func (r *rows) Next(dest []driver.Value) error {
	if r.i >= len(r.res.Rows) {
		return io.EOF
	}
	row := r.res.Rows[r.i]
	r.i++
	for j := range dest {
		if j < len(row) {
			dest[j] = row[j]
		} else {
			dest[j] = nil
		}
	}
	return nil
}

// columnKind is the Go type of the column's first non-NULL value (the
// engine's columns are BIGINT, DOUBLE or VARCHAR), or nil if all are NULL.
func (r *rows) columnKind(i int) reflect.Type {
	for _, row := range r.res.Rows {
		if i < len(row) && row[i] != nil {
			return reflect.TypeOf(row[i])
		}
	}
	return nil
}

// ColumnTypeDatabaseTypeName names the column's SQL type.
func (r *rows) ColumnTypeDatabaseTypeName(i int) string {
	switch r.columnKind(i) {
	case reflect.TypeOf(int64(0)):
		return "BIGINT"
	case reflect.TypeOf(float64(0)):
		return "DOUBLE"
	}
	return "VARCHAR"
}

// ColumnTypeScanType is int64, float64 or string (any when all are NULL).
func (r *rows) ColumnTypeScanType(i int) reflect.Type {
	if t := r.columnKind(i); t != nil {
		return t
	}
	return reflect.TypeOf((*any)(nil)).Elem()
}
