//go:build cgo

package pgwire_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"net"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexbrainman/odbc"

	"github.com/aku-project/aku/altisim"
	"github.com/aku-project/aku/altisim/pgwire"
	"github.com/aku-project/aku/altisim/pgwire/pgwiretest"
)

// wire is an engine served over pgwire on a loopback port for one test.
type wire struct {
	engine *altisim.Server
	port   int

	mu      sync.Mutex
	queries []string
}

// startWire serves engine on 127.0.0.1 until the test ends, recording
// every Query message.
func startWire(t testing.TB, engine *altisim.Server) *wire {
	t.Helper()
	w := &wire{engine: engine}
	w.port = pgwiretest.Start(t, &pgwire.Server{Engine: engine, OnQuery: func(q string) {
		w.mu.Lock()
		w.queries = append(w.queries, q)
		w.mu.Unlock()
	}})
	return w
}

func (w *wire) takeQueries() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	q := w.queries
	w.queries = nil
	return q
}

// connString expands a pgwire template as aku does.
func connString(tmpl string, port int, user, password string) string {
	return strings.NewReplacer("{host}", "127.0.0.1", "{port}", strconv.Itoa(port), "{user}", user, "{password}", password).Replace(tmpl)
}

// newEngine starts an in-memory engine closed when the test ends.
func newEngine(t testing.TB, o altisim.Options) *altisim.Server {
	t.Helper()
	if o.Name == "" {
		o.Name = "localhost"
	}
	s, err := altisim.NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openConn opens a pinned connection through unixODBC and psqlODBC.
func openConn(t testing.TB, dsn string) (*sql.Conn, error) {
	t.Helper()
	db, err := sql.Open("odbc", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// Closing the *sql.Conn then closes the ODBC connection (and frees
	// the server's session) instead of keeping it idle in the pool.
	db.SetMaxIdleConns(0)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Close() })
	return c, nil
}

// diag is the first ODBC diagnostic of err.
func diag(t *testing.T, err error) odbc.DiagRecord {
	t.Helper()
	var oe *odbc.Error
	if !errors.As(err, &oe) || len(oe.Diag) == 0 {
		t.Fatalf("error %v (%T) is not an ODBC error with diagnostics", err, err)
	}
	return oe.Diag[0]
}

// TestODBCConnectTimeQueries pins what psqlODBC sends on its own when it
// connects: the server answers all of it without the engine (docs/altisim.md,
// "PostgreSQL wire server and psqlODBC").
func TestODBCConnectTimeQueries(t *testing.T) {
	pgwiretest.PinODBC(t)
	w := startWire(t, newEngine(t, altisim.Options{}))
	c, err := openConn(t, connString(pgwire.PsqlODBCTemplate, w.port, "SYS", "manager"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.PingContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"SET DateStyle = 'ISO';SET extra_float_digits = 2;show transaction_isolation",
		"select oid, typbasetype from pg_type where typname = 'lo'",
	}
	if got := w.takeQueries(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("psqlODBC sent %q at connect, want %q", got, want)
	}
	if log := w.engine.StatementLog(); len(log) != 0 {
		t.Fatalf("housekeeping reached the engine: %+v", log)
	}
}

func sysdbaDSN(port int) string { return connString(pgwire.PsqlODBCTemplate, port, "SYS", "manager") }
func normalDSN(port int) string {
	return connString(pgwire.PsqlODBCTemplateNormal, port, "SYS", "manager")
}

func exec(t *testing.T, c *sql.Conn, q string) {
	t.Helper()
	if _, err := c.ExecContext(context.Background(), q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func count(t *testing.T, c *sql.Conn, table string) int64 {
	t.Helper()
	var n int64
	if err := c.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		t.Fatalf("counting %s: %v", table, err)
	}
	return n
}

// TestODBCErrorCodeRoundTrip: an Altibase error reaches Go through psqlODBC
// as the 5-hex-digit SQLSTATE with the Altibase message (docs/odbc.md, "Error
// codes"). START against a peer that does not listen fails the handshake
// (docs/altisim.md, "Replication objects": ERR-6100D).
func TestODBCErrorCodeRoundTrip(t *testing.T) {
	pgwiretest.PinODBC(t)
	w := startWire(t, newEngine(t, altisim.Options{ReplicationPort: 1, Transport: altisim.TCPTransport{DialTimeout: time.Second}}))
	c, err := openConn(t, sysdbaDSN(w.port))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	exec(t, c, "CREATE TABLE T1 (I1 INTEGER PRIMARY KEY, I2 INTEGER)")
	exec(t, c, "CREATE REPLICATION R1 WITH '127.0.0.1', "+strconv.Itoa(closedPort)+" FROM SYS.T1 TO SYS.T1")
	_, err = c.ExecContext(context.Background(), "ALTER REPLICATION R1 START")
	d := diag(t, err)
	if d.State != "6100D" || !strings.Contains(err.Error(), "Failed to handshake with the peer server") {
		t.Fatalf("START: state %q, error %v; want 6100D and the handshake message", d.State, err)
	}
	// An injected fault's code and message travel the same way.
	if err := w.engine.Faults().Add(altisim.Fault{Pattern: "^DROP REPLICATION", Action: altisim.FaultFail, Nth: 1, Code: 0x610FE, Message: "Replication has already started."}); err != nil {
		t.Fatal(err)
	}
	_, err = c.ExecContext(context.Background(), "DROP REPLICATION R1")
	if d := diag(t, err); d.State != "610FE" || !strings.Contains(d.Message, "Replication has already started.") {
		t.Fatalf("DROP: diag %+v, want 610FE and the fault's message", d)
	}
}

// TestODBCCancel: a deadline on QueryContext makes alexbrainman/odbc call
// SQLCancel, psqlODBC sends a CancelRequest, and the hung statement ends
// (docs/odbc.md, "Statements run through QueryContext"); the connection stays
// usable.
func TestODBCCancel(t *testing.T) {
	pgwiretest.PinODBC(t)
	w := startWire(t, newEngine(t, altisim.Options{}))
	c, err := openConn(t, normalDSN(w.port))
	if err != nil {
		t.Fatal(err)
	}
	exec(t, c, "CREATE TABLE T1 (I1 INTEGER PRIMARY KEY, I2 INTEGER)")
	if err := w.engine.Faults().Add(altisim.Fault{Pattern: "INSERT INTO T1", Action: altisim.FaultHang, Nth: 1}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = c.QueryContext(ctx, "INSERT INTO T1 VALUES (1, 1)")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v, want context.DeadlineExceeded", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("cancel took %v", took)
	}
	if n := count(t, c, "T1"); n != 0 {
		t.Fatalf("the cancelled INSERT ran: %d rows", n)
	}
	exec(t, c, "INSERT INTO T1 VALUES (1, 1)")
	if n := count(t, c, "T1"); n != 1 {
		t.Fatalf("%d rows after an INSERT, want 1", n)
	}
}

// refusedWith checks a refused connect: libpq makes it SQLSTATE 08001
// (psqlODBC NativeError 101) and the Altibase code travels in the message.
func refusedWith(t *testing.T, what string, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: connect succeeded, want ERR-%s", what, code)
	}
	d := diag(t, err)
	if d.State != "08001" || d.NativeError != 101 || !strings.Contains(d.Message, "FATAL:  ERR-"+code+" : ") {
		t.Fatalf("%s: diag %+v, want 08001, native 101 and \"ERR-%s : \" in the message", what, d, code)
	}
}

// TestODBCSysdba: PRIVILEGE=SYSDBA expressed through pqopt options reaches
// the engine: a second SYSDBA session is refused with ERR-41041, ADMIN_MODE
// = 1 admits SYSDBA only (docs/altisim.md, "Sessions and users").
func TestODBCSysdba(t *testing.T) {
	pgwiretest.PinODBC(t)
	w := startWire(t, newEngine(t, altisim.Options{Properties: map[string]int64{"ADMIN_MODE": 1}}))
	_, err := openConn(t, normalDSN(w.port))
	refusedWith(t, "normal session under ADMIN_MODE = 1", err, "4106E")
	first, err := openConn(t, sysdbaDSN(w.port))
	if err != nil {
		t.Fatalf("SYSDBA session under ADMIN_MODE = 1: %v", err)
	}
	_, err = openConn(t, sysdbaDSN(w.port))
	refusedWith(t, "second SYSDBA session", err, "41041")
	if !strings.Contains(err.Error(), "ERR-41041 : Another SYSDBA session is already running.") {
		t.Fatalf("second SYSDBA session: %v, want the Altibase message", err)
	}
	first.Close()
	// The slot is free again once the first session is gone; a hold
	// (an operator's isql -sysdba) takes it as well.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := openConn(t, sysdbaDSN(w.port))
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("SYSDBA slot not freed after the session closed: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	release := w.engine.Faults().HoldSysdba()
	defer release()
	_, err = openConn(t, sysdbaDSN(w.port))
	refusedWith(t, "SYSDBA while held", err, "41041")
	_, err = openConn(t, connString(pgwire.PsqlODBCTemplate, w.port, "SYS", "wrong"))
	if err == nil || diag(t, err).State != "08001" {
		t.Fatalf("wrong password: error %v, want a refused connect", err)
	}
}

// TestODBCMultiStatementQuery: one Exec with several statements runs them
// in order and stops at the first error, as a PostgreSQL Query does.
func TestODBCMultiStatementQuery(t *testing.T) {
	pgwiretest.PinODBC(t)
	w := startWire(t, newEngine(t, altisim.Options{}))
	c, err := openConn(t, normalDSN(w.port))
	if err != nil {
		t.Fatal(err)
	}
	exec(t, c, "CREATE TABLE T1 (I1 INTEGER PRIMARY KEY, I2 INTEGER);INSERT INTO T1 VALUES (1, 1);INSERT INTO T1 VALUES (2, 2)")
	if n := count(t, c, "T1"); n != 2 {
		t.Fatalf("%d rows, want 2", n)
	}
	_, err = c.ExecContext(context.Background(), "INSERT INTO T1 VALUES (3, 3);INSERT INTO T1 VALUES (1, 1);INSERT INTO T1 VALUES (4, 4)")
	if err == nil {
		t.Fatal("a duplicate key was accepted")
	}
	if n := count(t, c, "T1"); n != 3 {
		t.Fatalf("%d rows after a failed batch, want 3 (the statement before the error only)", n)
	}
	var i1, i2 int64
	if err := c.QueryRowContext(context.Background(), "SELECT I1, I2 FROM T1 WHERE I1 = 3").Scan(&i1, &i2); err != nil || i1 != 3 || i2 != 3 {
		t.Fatalf("row 3 = (%d, %d), %v", i1, i2, err)
	}
}

// tcpServer is an engine with its replication listener and pgwire on
// loopback ports, as `altisim serve` runs it.
func tcpServer(t *testing.T, name string, lag time.Duration) (*wire, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	replPort := ln.Addr().(*net.TCPAddr).Port
	engine := newEngine(t, altisim.Options{Name: name, ReplicationPort: replPort, ReplicationLag: lag,
		Transport: altisim.TCPTransport{DialTimeout: 2 * time.Second}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- altisim.ServeReplication(ctx, ln, engine) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ServeReplication %s: %v", name, err)
		}
	})
	return startWire(t, engine), replPort
}

// TestODBCReplicationOverTCP: two servers replicating over real sockets.
// SYNC copies all rows then starts; later changes arrive after the lag, at
// once with FLUSH; RESET (after STOP) forgets unsent changes and sets XSN =
// -1 (docs/altisim.md, "Replication objects").
func TestODBCReplicationOverTCP(t *testing.T) {
	pgwiretest.PinODBC(t)
	const lag = time.Second
	a, aRepl := tcpServer(t, "sts-0", lag)
	b, bRepl := tcpServer(t, "sts-1", lag)
	ca, err := openConn(t, sysdbaDSN(a.port))
	if err != nil {
		t.Fatal(err)
	}
	cb, err := openConn(t, sysdbaDSN(b.port))
	if err != nil {
		t.Fatal(err)
	}
	for _, side := range []struct {
		c        *sql.Conn
		peerPort int
	}{{ca, bRepl}, {cb, aRepl}} {
		exec(t, side.c, "CREATE TABLE T1 (I1 INTEGER PRIMARY KEY, I2 INTEGER)")
		exec(t, side.c, "CREATE REPLICATION R1 WITH '127.0.0.1', "+strconv.Itoa(side.peerPort)+" FROM SYS.T1 TO SYS.T1")
	}
	exec(t, ca, "INSERT INTO T1 VALUES (1, 1);INSERT INTO T1 VALUES (2, 2);INSERT INTO T1 VALUES (3, 3)")
	if n := count(t, cb, "T1"); n != 0 {
		t.Fatalf("peer has %d rows before SYNC, want 0", n)
	}
	exec(t, ca, "ALTER REPLICATION R1 SYNC")
	if n := count(t, cb, "T1"); n != 3 {
		t.Fatalf("peer has %d rows after SYNC, want 3", n)
	}

	exec(t, ca, "INSERT INTO T1 VALUES (4, 4)")
	if n := count(t, cb, "T1"); n != 3 {
		t.Fatalf("peer has %d rows right after an INSERT (lag %v), want 3", n, lag)
	}
	exec(t, ca, "ALTER REPLICATION R1 FLUSH")
	if n := count(t, cb, "T1"); n != 4 {
		t.Fatalf("peer has %d rows after FLUSH, want 4", n)
	}

	exec(t, ca, "INSERT INTO T1 VALUES (5, 5)")
	exec(t, ca, "ALTER REPLICATION R1 STOP")
	exec(t, ca, "ALTER REPLICATION R1 RESET")
	var xsn int64
	if err := ca.QueryRowContext(context.Background(), "SELECT XSN FROM SYSTEM_.SYS_REPLICATIONS_ WHERE REPLICATION_NAME = 'R1'").Scan(&xsn); err != nil || xsn != -1 {
		t.Fatalf("XSN after RESET = %d, %v; want -1", xsn, err)
	}
	time.Sleep(2 * lag)
	if n := count(t, cb, "T1"); n != 4 {
		t.Fatalf("peer has %d rows %v after RESET without FLUSH, want 4 (the unsent change is forgotten)", n, 2*lag)
	}
	if n := count(t, ca, "T1"); n != 5 {
		t.Fatalf("origin has %d rows, want 5", n)
	}
}

// BenchmarkODBCStatement measures one statement's round trip through
// alexbrainman/odbc, unixODBC, psqlODBC and the wire server.
func BenchmarkODBCStatement(b *testing.B) {
	pgwiretest.PinODBC(b)
	w := startWire(b, newEngine(b, altisim.Options{}))
	c, err := openConn(b, normalDSN(w.port))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.ExecContext(context.Background(), "CREATE TABLE T1 (I1 INTEGER PRIMARY KEY, I2 INTEGER)"); err != nil {
		b.Fatal(err)
	}
	var n int64
	for b.Loop() {
		if err := c.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM T1").Scan(&n); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkODBCConnect measures opening and closing a SYSDBA session
// through psqlODBC, connect-time housekeeping included (back to back: the
// wire server's SYSDBA grace covers the unacknowledged Terminate).
func BenchmarkODBCConnect(b *testing.B) {
	pgwiretest.PinODBC(b)
	w := startWire(b, newEngine(b, altisim.Options{}))
	dsn := sysdbaDSN(w.port)
	for b.Loop() {
		_, done := connectOnce(b, dsn)
		done()
	}
}

// connectOnce opens a fresh pool and a connection of it, as a short-lived
// client does; done closes both.
func connectOnce(b *testing.B, dsn string) (*sql.Conn, func()) {
	b.Helper()
	db, err := sql.Open("odbc", dsn)
	if err != nil {
		b.Fatal(err)
	}
	c, err := db.Conn(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return c, func() { c.Close(); db.Close() }
}

// TestODBCDroppedConnection: a connection the server drops reaches Go as
// driver.ErrBadConn (psqlODBC reports SQLSTATE 08S01; docs/odbc.md, "A lost
// reply is never re-run"), on a pinned connection without a retry.
func TestODBCDroppedConnection(t *testing.T) {
	pgwiretest.PinODBC(t)
	w := startWire(t, newEngine(t, altisim.Options{}))
	c, err := openConn(t, normalDSN(w.port))
	if err != nil {
		t.Fatal(err)
	}
	exec(t, c, "CREATE TABLE T1 (I1 INTEGER PRIMARY KEY, I2 INTEGER)")
	if err := w.engine.Faults().Add(altisim.Fault{Pattern: "^INSERT", Action: altisim.FaultDrop, After: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExecContext(context.Background(), "INSERT INTO T1 VALUES (1, 1)"); !errors.Is(err, driver.ErrBadConn) {
		t.Fatalf("error = %v, want driver.ErrBadConn", err)
	}
	w.engine.Faults().Clear()
	c2, err := openConn(t, normalDSN(w.port))
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, c2, "T1"); n != 1 {
		t.Fatalf("%d rows, want 1: the INSERT ran once before the drop, and was not retried", n)
	}
}

// queryRow runs q on c and returns its one row, each value as Go scans
// it from psqlODBC (int64 for int8 columns, string for text, nil for NULL).
func queryRow(t *testing.T, c *sql.Conn, q string) []any {
	t.Helper()
	rows, err := c.QueryContext(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	if !rows.Next() {
		t.Fatalf("%s: no row (%v)", q, rows.Err())
	}
	got := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range got {
		ptrs[i] = &got[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	for i, v := range got {
		if b, ok := v.([]byte); ok {
			got[i] = string(b)
		}
	}
	if rows.Next() {
		t.Fatalf("%s: more than one row", q)
	}
	return got
}

// TestODBCOrdinarySessionsReadTheMonitorViews: the connection-string
// template without SYSDBA (PsqlODBCTemplateNormal) opens ordinary
// sessions through psqlODBC, several at once while both servers' SYSDBA
// slots are held, and they read what a monitor reads — the replication
// object, its sender, receiver and gap in bytes, a SYNC's progress, the
// log files, ADMIN_MODE — with their types intact.
func TestODBCOrdinarySessionsReadTheMonitorViews(t *testing.T) {
	pgwiretest.PinODBC(t)
	a, aRepl := tcpServer(t, "sts-0", 0)
	b, bRepl := tcpServer(t, "sts-1", 0)
	for _, side := range []struct {
		w        *wire
		peerPort int
	}{{a, bRepl}, {b, aRepl}} {
		c, err := openConn(t, sysdbaDSN(side.w.port))
		if err != nil {
			t.Fatal(err)
		}
		exec(t, c, "CREATE TABLE T1 (I1 INTEGER PRIMARY KEY, V VARCHAR(100))")
		exec(t, c, "CREATE REPLICATION R1 WITH '127.0.0.1', "+strconv.Itoa(side.peerPort)+" FROM SYS.T1 TO SYS.T1")
		if side.w == a {
			exec(t, c, "INSERT INTO T1 VALUES (1, 'a');INSERT INTO T1 VALUES (2, 'b');INSERT INTO T1 VALUES (3, 'c')")
		}
		c.Close()
		release := side.w.engine.Faults().HoldSysdba()
		t.Cleanup(release)
	}
	var mons []*sql.Conn
	for range 3 {
		c, err := openConn(t, normalDSN(a.port))
		if err != nil {
			t.Fatalf("ordinary session %d while SYSDBA is held: %v", len(mons)+1, err)
		}
		mons = append(mons, c)
	}
	monB, err := openConn(t, normalDSN(b.port))
	if err != nil {
		t.Fatal(err)
	}

	// A SYNC run by SYS in an ordinary session (replication statements
	// need the user SYS, not the SYSDBA privilege), watched from another
	// one while its rows travel, 300 ms each.
	a.engine.Faults().SetSyncRowDelay(300 * time.Millisecond)
	done := make(chan error, 1)
	go func() {
		_, err := mons[0].ExecContext(context.Background(), "ALTER REPLICATION R1 SYNC")
		done <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if got := queryRow(t, mons[1], "SELECT COUNT(*) FROM V$REPSYNC"); got[0] == int64(1) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("V$REPSYNC showed no running SYNC")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got, want := queryRow(t, mons[1], "SELECT REP_NAME, SYNC_TABLE, SYNC_PARTITION, SYNC_SN FROM V$REPSYNC"), []any{"R1", "T1", nil, int64(0)}; !reflect.DeepEqual(got, want) {
		t.Fatalf("V$REPSYNC = %v, want %v", got, want)
	}
	if got, want := queryRow(t, mons[2], "SELECT STATUS, START_FLAG FROM V$REPSENDER"), []any{int64(6), int64(2)}; !reflect.DeepEqual(got, want) {
		t.Fatalf("V$REPSENDER during SYNC = %v, want %v", got, want)
	}
	if err := <-done; err != nil {
		t.Fatalf("SYNC: %v", err)
	}

	release := a.engine.Faults().HoldSender("R1")
	defer release()
	exec(t, mons[0], "INSERT INTO T1 VALUES (4, 'dddd')")
	const record = 32 + len("SYS.T1") + 8 + 2 + 4 // docs/altisim.md, "Log size and log files"
	checks := []struct {
		c    *sql.Conn
		q    string
		want []any
	}{
		{mons[1], "SELECT REPLICATION_NAME, IS_STARTED FROM SYSTEM_.SYS_REPLICATIONS_", []any{"R1", int64(1)}},
		{mons[1], "SELECT REP_NAME, STATUS, NET_ERROR_FLAG, PEER_IP FROM V$REPSENDER", []any{"R1", int64(1), int64(0), "127.0.0.1"}},
		{mons[2], "SELECT REP_GAP, REP_GAP_SIZE, READ_FILE_NO FROM V$REPGAP", []any{int64(1), int64(record), int64(0)}},
		{mons[2], "SELECT LFG_ID, CUR_WRITE_LF_NO FROM V$LFG", []any{int64(0), int64(0)}},
		{mons[2], "SELECT COUNT(*) FROM V$REPLOGBUFFER", []any{int64(0)}},
		{mons[0], "SELECT VALUE1 FROM V$PROPERTY WHERE NAME = 'ADMIN_MODE'", []any{"0"}},
		{monB, "SELECT REP_NAME, PEER_IP, INSERT_SUCCESS_COUNT FROM V$REPRECEIVER", []any{"R1", "sts-0", int64(3)}},
		{monB, "SELECT COUNT(*) FROM T1", []any{int64(3)}},
	}
	for _, ch := range checks {
		if got := queryRow(t, ch.c, ch.q); !reflect.DeepEqual(got, ch.want) {
			t.Errorf("%s = %#v, want %#v", ch.q, got, ch.want)
		}
	}
	release()
	exec(t, mons[0], "ALTER REPLICATION R1 FLUSH")
	if got := queryRow(t, mons[1], "SELECT REP_GAP, REP_GAP_SIZE FROM V$REPGAP"); !reflect.DeepEqual(got, []any{int64(0), int64(0)}) {
		t.Fatalf("gap after FLUSH = %v, want 0 0", got)
	}
}

// BenchmarkODBCMonitorRound measures what one read-only check of a server
// costs through psqlODBC: open an ordinary session, read the replication
// object, sender, receiver, gap, SYNC progress, log file and ADMIN_MODE,
// close.
func BenchmarkODBCMonitorRound(b *testing.B) {
	pgwiretest.PinODBC(b)
	w := startWire(b, newEngine(b, altisim.Options{}))
	dsn := normalDSN(w.port)
	queries := []string{
		"SELECT REPLICATION_NAME, IS_STARTED, XSN FROM SYSTEM_.SYS_REPLICATIONS_",
		"SELECT REP_NAME, STATUS, NET_ERROR_FLAG, XSN FROM V$REPSENDER",
		"SELECT REP_NAME, APPLY_XSN FROM V$REPRECEIVER",
		"SELECT REP_NAME, REP_GAP_SIZE, READ_FILE_NO FROM V$REPGAP",
		"SELECT REP_NAME, SYNC_TABLE, SYNC_RECORD_COUNT FROM V$REPSYNC",
		"SELECT CUR_WRITE_LF_NO FROM V$LFG",
		"SELECT VALUE1 FROM V$PROPERTY WHERE NAME = 'ADMIN_MODE'",
	}
	for b.Loop() {
		c, done := connectOnce(b, dsn)
		for _, q := range queries {
			rows, err := c.QueryContext(context.Background(), q)
			if err != nil {
				b.Fatal(err)
			}
			for rows.Next() {
			}
			rows.Close()
		}
		done()
	}
}
