package driver_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/aku-project/aku/altisim"
	altisimdriver "github.com/aku-project/aku/altisim/driver"
)

// newCluster returns a cluster named after the test with one server,
// "sts-0", closed when the test ends.
func newCluster(t *testing.T) (*altisim.Cluster, *altisim.Server) {
	t.Helper()
	c := altisim.NewCluster(t.Name(), altisim.ClusterOptions{})
	t.Cleanup(func() { c.Close() })
	s, err := c.AddServer("sts-0", altisim.Options{ReplicationPort: 20301})
	if err != nil {
		t.Fatal(err)
	}
	return c, s
}

func dsn(t *testing.T, host string, sysdba bool) string {
	d := fmt.Sprintf("CLUSTER=%s;HOST=%s;PORT=20300;UID=SYS;PWD=manager;CONNECT_TIMEOUT=1", t.Name(), host)
	if sysdba {
		d += ";PRIVILEGE=SYSDBA"
	}
	return d
}

// conn opens a pinned connection (as aku's sessions are: docs/odbc.md, "A
// lost reply is never re-run").
func conn(t *testing.T, dsn string) (*sql.Conn, error) {
	t.Helper()
	db, err := sql.Open(altisimdriver.DriverName, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c, err := db.Conn(context.Background())
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Close() })
	return c, nil
}

func mustExec(t *testing.T, c *sql.Conn, q string) {
	t.Helper()
	if _, err := c.ExecContext(context.Background(), q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func TestDriverRowsAndTypes(t *testing.T) {
	newCluster(t)
	c, err := conn(t, dsn(t, "sts-0", false))
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, c, "CREATE TABLE T1 (I1 INTEGER PRIMARY KEY, I2 INTEGER)")
	res, err := c.ExecContext(context.Background(), "INSERT INTO T1 VALUES (1, 10)")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		t.Fatalf("RowsAffected = %d, %v; want 1", n, err)
	}
	mustExec(t, c, "INSERT INTO T1 VALUES (2, NULL)")
	rows, err := c.QueryContext(context.Background(), "SELECT I1, I2 FROM T1 ORDER BY I1")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil || !reflect.DeepEqual(cols, []string{"I1", "I2"}) {
		t.Fatalf("Columns = %q, %v; want [I1 I2]", cols, err)
	}
	var got [][2]any
	for rows.Next() {
		var a, b any
		if err := rows.Scan(&a, &b); err != nil {
			t.Fatal(err)
		}
		got = append(got, [2]any{a, b})
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := [][2]any{{int64(1), int64(10)}, {int64(2), nil}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("rows = %v, want %v", got, want)
	}
	var n int64
	if err := c.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM T1").Scan(&n); err != nil || n != 2 {
		t.Fatalf("COUNT(*) = %d, %v; want 2", n, err)
	}
	// A statement without rows through QueryContext: empty rows, no error.
	r2, err := c.QueryContext(context.Background(), "DELETE FROM T1 WHERE I1 = 2")
	if err != nil {
		t.Fatal(err)
	}
	if r2.Next() {
		t.Fatal("DELETE returned a row")
	}
	r2.Close()
	if _, err := c.ExecContext(context.Background(), "SELECT 1 FROM T1 WHERE I1 = ?", 1); err == nil {
		t.Fatal("a placeholder was accepted")
	}
}

func TestDriverErrorsCarryAltibaseCodes(t *testing.T) {
	newCluster(t)
	c, err := conn(t, dsn(t, "sts-0", true))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ExecContext(context.Background(), "DROP REPLICATION NO_SUCH_REPL")
	var ae *altisim.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an *altisim.Error", err, err)
	}
	if ae.SQLState() != "6111B" {
		t.Fatalf("SQLSTATE %s (%v), want 6111B (undefined replication name)", ae.SQLState(), err)
	}
}

func TestDriverConnectFailures(t *testing.T) {
	cl, s := newCluster(t)
	release := s.Faults().HoldSysdba()
	defer release()
	cl.SetHostFault("sts-dead", altisim.HostRefused)
	cl.SetHostFault("sts-hung", altisim.HostBlackhole)
	tests := []struct {
		name      string
		dsn       string
		wantState string
		wantIs    error
	}{
		{"unknown cluster", "CLUSTER=nope;HOST=sts-0", "08001", nil},
		{"no such host", dsn(t, "sts-9", false), "08001", altisim.ErrNoSuchHost},
		{"refused", dsn(t, "sts-dead", false), "08001", altisim.ErrConnectionRefused},
		{"blackhole until CONNECT_TIMEOUT", dsn(t, "sts-hung", false), "08001", altisim.ErrConnectTimeout},
		{"SYSDBA slot held", dsn(t, "sts-0", true), "41041", nil},
		{"wrong password", fmt.Sprintf("CLUSTER=%s;HOST=sts-0;UID=SYS;PWD=wrong", t.Name()), "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := conn(t, tt.dsn)
			if err == nil {
				t.Fatal("connect succeeded")
			}
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("connect took %v", took)
			}
			var st interface{ SQLState() string }
			if !errors.As(err, &st) {
				t.Fatalf("error %v (%T) has no SQLState", err, err)
			}
			if tt.wantState != "" && st.SQLState() != tt.wantState {
				t.Fatalf("SQLSTATE %s (%v), want %s", st.SQLState(), err, tt.wantState)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Fatalf("error %v does not wrap %v", err, tt.wantIs)
			}
		})
	}
}

func TestDriverDroppedConnectionIsBad(t *testing.T) {
	_, s := newCluster(t)
	c, err := conn(t, dsn(t, "sts-0", false))
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, c, "CREATE TABLE T1 (I1 INTEGER PRIMARY KEY, I2 INTEGER)")
	if err := s.Faults().Add(altisim.Fault{Pattern: "^INSERT", Action: altisim.FaultDrop, Nth: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExecContext(context.Background(), "INSERT INTO T1 VALUES (1, 1)"); !errors.Is(err, driver.ErrBadConn) {
		t.Fatalf("error = %v, want driver.ErrBadConn", err)
	}
	if _, err := c.ExecContext(context.Background(), "SELECT COUNT(*) FROM T1"); !errors.Is(err, driver.ErrBadConn) && !errors.Is(err, sql.ErrConnDone) {
		t.Fatalf("statement on a dropped connection: error = %v, want a bad connection", err)
	}
}

func TestDriverCancelHungStatement(t *testing.T) {
	_, s := newCluster(t)
	c, err := conn(t, dsn(t, "sts-0", false))
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, c, "CREATE TABLE T1 (I1 INTEGER PRIMARY KEY, I2 INTEGER)")
	if err := s.Faults().Add(altisim.Fault{Pattern: "FROM T1", Action: altisim.FaultHang, Nth: 1}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = c.QueryContext(ctx, "SELECT COUNT(*) FROM T1")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v, want context.DeadlineExceeded", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("cancel took %v", took)
	}
	var n int64
	if err := c.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM T1").Scan(&n); err != nil || n != 0 {
		t.Fatalf("after cancel: COUNT(*) = %d, %v; want 0", n, err)
	}
}

// BenchmarkDriverStatement measures one statement through database/sql
// and the in-process driver.
func BenchmarkDriverStatement(b *testing.B) {
	c := altisim.NewCluster(b.Name(), altisim.ClusterOptions{})
	defer c.Close()
	if _, err := c.AddServer("sts-0", altisim.Options{}); err != nil {
		b.Fatal(err)
	}
	db, err := sql.Open(altisimdriver.DriverName, "CLUSTER="+b.Name()+";HOST=sts-0;UID=SYS;PWD=manager")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "CREATE TABLE T1 (I1 INTEGER PRIMARY KEY, I2 INTEGER)"); err != nil {
		b.Fatal(err)
	}
	var n int64
	for b.Loop() {
		if err := conn.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM T1").Scan(&n); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDriverConnect measures opening and closing a SYSDBA session.
func BenchmarkDriverConnect(b *testing.B) {
	c := altisim.NewCluster(b.Name(), altisim.ClusterOptions{})
	defer c.Close()
	if _, err := c.AddServer("sts-0", altisim.Options{}); err != nil {
		b.Fatal(err)
	}
	dsn := "CLUSTER=" + b.Name() + ";HOST=sts-0;UID=SYS;PWD=manager;PRIVILEGE=SYSDBA"
	for b.Loop() {
		db, err := sql.Open(altisimdriver.DriverName, dsn)
		if err != nil {
			b.Fatal(err)
		}
		conn, err := db.Conn(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		conn.Close()
		db.Close()
	}
}

// TestDriverOrdinarySessionsWhileSysdbaIsTaken: a DSN without
// PRIVILEGE=SYSDBA opens ordinary sessions, which are not limited to one
// [I] (docs/altisim.md, "Sessions and users"): several stay open at once
// while the SYSDBA slot is held, and each reads the replication views
// and V$PROPERTY; with ADMIN_MODE = 1 they are refused (ERR-4106E).
func TestDriverOrdinarySessionsWhileSysdbaIsTaken(t *testing.T) {
	_, s := newCluster(t)
	admin, err := conn(t, dsn(t, "sts-0", true))
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, admin, "CREATE TABLE T1 (I1 INTEGER PRIMARY KEY)")
	mustExec(t, admin, "CREATE REPLICATION AKU_REP_01 WITH 'sts-1', 20301 FROM SYS.T1 TO SYS.T1")
	release := s.Faults().HoldSysdba()
	defer release()
	if _, err := conn(t, dsn(t, "sts-0", true)); err == nil {
		t.Fatal("a second SYSDBA session was admitted")
	}
	queries := []struct {
		sql  string
		want []any
	}{
		{"SELECT REPLICATION_NAME, IS_STARTED, XSN FROM SYSTEM_.SYS_REPLICATIONS_", []any{"AKU_REP_01", int64(0), int64(-1)}},
		{"SELECT COUNT(*) FROM V$REPSENDER", []any{int64(0)}},
		{"SELECT COUNT(*) FROM V$REPRECEIVER", []any{int64(0)}},
		{"SELECT COUNT(*) FROM V$REPGAP", []any{int64(0)}},
		{"SELECT COUNT(*) FROM V$REPSYNC", []any{int64(0)}},
		{"SELECT LFG_ID, CUR_WRITE_LF_NO FROM V$LFG", []any{int64(0), int64(0)}},
		{"SELECT VALUE1 FROM V$PROPERTY WHERE NAME = 'ADMIN_MODE'", []any{"0"}},
	}
	var conns []*sql.Conn
	for range 4 {
		c, err := conn(t, dsn(t, "sts-0", false))
		if err != nil {
			t.Fatalf("ordinary session %d: %v", len(conns)+1, err)
		}
		conns = append(conns, c)
	}
	for i, c := range conns {
		for _, q := range queries {
			got := make([]any, len(q.want))
			ptrs := make([]any, len(got))
			for j := range got {
				ptrs[j] = &got[j]
			}
			if err := c.QueryRowContext(context.Background(), q.sql).Scan(ptrs...); err != nil {
				t.Fatalf("session %d: %s: %v", i+1, q.sql, err)
			}
			if !reflect.DeepEqual(got, q.want) {
				t.Fatalf("session %d: %s = %v, want %v", i+1, q.sql, got, q.want)
			}
		}
	}
	mustExec(t, admin, "ALTER SYSTEM SET ADMIN_MODE = 1")
	_, err = conn(t, dsn(t, "sts-0", false))
	var ae *altisim.Error
	if !errors.As(err, &ae) || ae.Code != 0x4106E {
		t.Fatalf("ordinary session under ADMIN_MODE = 1: %v, want ERR-4106E", err)
	}
}
