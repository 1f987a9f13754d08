package altisim

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

// newTestServer starts an in-memory server (or one on dir) that tests close.
func newTestServer(t *testing.T, o Options) *Server {
	t.Helper()
	if o.Name == "" {
		o.Name = "host-a"
	}
	s, err := NewServer(o)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func connect(t *testing.T, s *Server, sysdba bool) *Session {
	t.Helper()
	ss, err := s.Connect(context.Background(), ConnectOptions{User: "sys", Password: "manager", SysDBA: sysdba})
	if err != nil {
		t.Fatalf("connecting to %s: %v", s.Name(), err)
	}
	t.Cleanup(func() { ss.Close() })
	return ss
}

func mustExec(t *testing.T, ss *Session, sql string) *Result {
	t.Helper()
	res, err := ss.Exec(context.Background(), sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return res
}

// wantCode asserts that err is an *Error with the given code.
func wantCode(t *testing.T, err error, code uint32) {
	t.Helper()
	var ae *Error
	if !errors.As(err, &ae) || ae.Code != code {
		t.Fatalf("error = %v, want ERR-%05X", err, code)
	}
}

func rows(t *testing.T, ss *Session, sql string) [][]Value {
	t.Helper()
	return mustExec(t, ss, sql).Rows
}

func wantRows(t *testing.T, ss *Session, sql string, want [][]Value) {
	t.Helper()
	got := rows(t, ss, sql)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %v\nwant %v", sql, got, want)
	}
}

// eventually polls cond for up to 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSQLTablesRowsAndErrors(t *testing.T) {
	s := newTestServer(t, Options{})
	ss := connect(t, s, false)
	mustExec(t, ss, "CREATE TABLE T1 (I1 INTEGER PRIMARY KEY, I2 INTEGER, S VARCHAR(10));")
	mustExec(t, ss, "insert into t1 values (1, 10, 'a'), (2, 20, 'it''s')")
	mustExec(t, ss, "INSERT INTO SYS.T1 (I1, S) VALUES (3, 'c')")
	wantRows(t, ss, "SELECT * FROM T1", [][]Value{{int64(1), int64(10), "a"}, {int64(2), int64(20), "it's"}, {int64(3), nil, "c"}})
	_, err := ss.Exec(context.Background(), "INSERT INTO T1 VALUES (4, 0, 'd'), (1, 0, 'dup')")
	wantCode(t, err, 0x11058)
	wantRows(t, ss, "SELECT COUNT(*) FROM T1", [][]Value{{int64(3)}})
	if r := mustExec(t, ss, "UPDATE T1 SET I2 = I2 + 1 WHERE I1 >= 2"); r.RowsAffected != 2 {
		t.Fatalf("UPDATE affected %d rows, want 2", r.RowsAffected)
	}
	wantRows(t, ss, "SELECT I1, I2 FROM T1 WHERE I2 IS NOT NULL ORDER BY I1 DESC", [][]Value{{int64(2), int64(21)}, {int64(1), int64(10)}})
	mustExec(t, ss, "UPDATE T1 SET I1 = I1 + 1")
	wantRows(t, ss, "SELECT I1 FROM T1", [][]Value{{int64(2)}, {int64(3)}, {int64(4)}})
	mustExec(t, ss, "DELETE FROM T1 WHERE I1 = 3 OR S = 'c'")
	wantRows(t, ss, "SELECT I1, S FROM T1", [][]Value{{int64(2), "a"}})
	_, err = ss.Exec(context.Background(), "SELECT * FROM NOPE")
	wantCode(t, err, 0x31031)
	_, err = ss.Exec(context.Background(), "SELEC 1")
	wantCode(t, err, 0x31001)
	mustExec(t, ss, "TRUNCATE TABLE T1")
	wantRows(t, ss, "SELECT COUNT(*) FROM T1", [][]Value{{int64(0)}})
	mustExec(t, ss, "DROP TABLE T1")
	_, err = ss.Exec(context.Background(), "SELECT * FROM T1")
	wantCode(t, err, 0x31031)
}
