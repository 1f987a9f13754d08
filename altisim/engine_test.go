package altisim

import (
	"context"
	"errors"
	"os"
	"path/filepath"
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

// codeCase is a statement and the Altibase code it fails with.
type codeCase struct {
	name string
	sql  string
	code uint32
}

// wantCodes runs each case on ss as a subtest.
func wantCodes(t *testing.T, ss *Session, cases []codeCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ss.Exec(context.Background(), tt.sql)
			wantCode(t, err, tt.code)
		})
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

func TestConnectRules(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t, Options{SysPassword: "secret", Properties: map[string]int64{"ADMIN_MODE": 1}})
	t.Run("wrong password is refused", func(t *testing.T) {
		_, err := s.Connect(ctx, ConnectOptions{User: "SYS", Password: "manager", SysDBA: true})
		wantCode(t, err, 0x4100C)
	})
	t.Run("unknown user is refused", func(t *testing.T) {
		_, err := s.Connect(ctx, ConnectOptions{User: "SCOTT", Password: "secret", SysDBA: true})
		wantCode(t, err, 0x4100C)
	})
	t.Run("ADMIN_MODE 1 admits only SYSDBA (ERR-4106E)", func(t *testing.T) {
		_, err := s.Connect(ctx, ConnectOptions{User: "SYS", Password: "secret"})
		wantCode(t, err, 0x4106E)
	})
	t.Run("at most one SYSDBA session (ERR-41041)", func(t *testing.T) {
		first, err := s.Connect(ctx, ConnectOptions{User: "sys", Password: "secret", SysDBA: true})
		if err != nil {
			t.Fatal(err)
		}
		if !first.SysDBA() {
			t.Fatal("SysDBA() = false for a SYSDBA session")
		}
		_, err = s.Connect(ctx, ConnectOptions{User: "SYS", Password: "secret", SysDBA: true})
		wantCode(t, err, 0x41041)
		if got := err.Error(); got != "ERR-41041 : Another SYSDBA session is already running." {
			t.Fatalf("error text = %q", got)
		}
		mustExec(t, first, "ALTER SYSTEM SET ADMIN_MODE = 0")
		first.Close()
		second, err := s.Connect(ctx, ConnectOptions{User: "SYS", Password: "secret", SysDBA: true})
		if err != nil {
			t.Fatalf("SYSDBA after the first closed: %v", err)
		}
		second.Close()
		plain, err := s.Connect(ctx, ConnectOptions{User: "SYS", Password: "secret"})
		if err != nil {
			t.Fatalf("plain session with ADMIN_MODE 0: %v", err)
		}
		plain.Close()
	})
	t.Run("HoldSysdba occupies the slot until released", func(t *testing.T) {
		release := s.Faults().HoldSysdba()
		_, err := s.Connect(ctx, ConnectOptions{User: "SYS", Password: "secret", SysDBA: true})
		wantCode(t, err, 0x41041)
		release()
		release()
		ss, err := s.Connect(ctx, ConnectOptions{User: "SYS", Password: "secret", SysDBA: true})
		if err != nil {
			t.Fatalf("after release: %v", err)
		}
		ss.Close()
	})
	t.Run("remote SYSDBA needs REMOTE_SYSDBA_ENABLE 1 (ERR-410C8)", func(t *testing.T) {
		ss, err := s.Connect(ctx, ConnectOptions{User: "SYS", Password: "secret", SysDBA: true, Remote: true})
		if err != nil {
			t.Fatalf("remote SYSDBA with the default REMOTE_SYSDBA_ENABLE 1: %v", err)
		}
		mustExec(t, ss, "ALTER SYSTEM SET REMOTE_SYSDBA_ENABLE = 0")
		ss.Close()
		_, err = s.Connect(ctx, ConnectOptions{User: "SYS", Password: "secret", SysDBA: true, Remote: true})
		wantCode(t, err, 0x410C8)
	})
}

func TestPropertiesAlterSystemAndVProperty(t *testing.T) {
	dir := t.TempDir()
	o := Options{DataDir: dir, ReplicationPort: 20301, Properties: map[string]int64{"ADMIN_MODE": 1}}
	s := newTestServer(t, o)
	ss := connect(t, s, true)
	wantRows(t, ss, "SELECT NAME, VALUE1 FROM V$PROPERTY WHERE NAME = 'ADMIN_MODE' OR NAME = 'REPLICATION_PORT_NO' OR NAME = 'REPLICATION_MAX_COUNT' OR NAME = 'QUERY_TIMEOUT' OR NAME = 'REMOTE_SYSDBA_ENABLE' OR NAME = 'REPLICATION_DDL_ENABLE' OR NAME = 'PORT_NO'",
		[][]Value{{"ADMIN_MODE", "1"}, {"PORT_NO", "20300"}, {"QUERY_TIMEOUT", "600"}, {"REMOTE_SYSDBA_ENABLE", "1"},
			{"REPLICATION_DDL_ENABLE", "0"}, {"REPLICATION_MAX_COUNT", "32"}, {"REPLICATION_PORT_NO", "20301"}})
	mustExec(t, ss, "alter system set admin_mode = 0;")
	wantRows(t, ss, "SELECT VALUE1 FROM V$PROPERTY WHERE NAME = 'ADMIN_MODE'", [][]Value{{"0"}})
	_, err := ss.Exec(context.Background(), "ALTER SYSTEM SET REPLICATION_MAX_COUNT = 64")
	wantCode(t, err, 0x10025)
	_, err = ss.Exec(context.Background(), "ALTER SYSTEM SET ADMIN_MODE = 2")
	wantCode(t, err, 0x10026)
	_, err = ss.Exec(context.Background(), "ALTER SYSTEM SET NO_SUCH = 1")
	wantCode(t, err, 0x10024)
	// ALTER SYSTEM lasts until restart: the restarted server takes its
	// values from Options again, as Altibase from its environment.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := newTestServer(t, o)
	_, err = s2.Connect(context.Background(), ConnectOptions{User: "SYS", Password: "manager"})
	wantCode(t, err, 0x4106E)
}

func TestQueryTimeoutCancelsTheStatement(t *testing.T) {
	s := newTestServer(t, Options{})
	ss := connect(t, s, false)
	mustExec(t, ss, "ALTER SESSION SET QUERY_TIMEOUT = 1")
	if err := s.Faults().Add(Fault{Pattern: "^SELECT", Action: FaultHang}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := ss.Exec(context.Background(), "SELECT * FROM DUAL")
	wantCode(t, err, 0x01044)
	if d := time.Since(start); d < time.Second {
		t.Fatalf("timed out after %v, want QUERY_TIMEOUT 1 s", d)
	}
}

func TestFaults(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t, Options{})
	ss := connect(t, s, false)
	t.Run("fail the n-th matching statement", func(t *testing.T) {
		if err := s.Faults().Add(Fault{Pattern: `alter replication \w+ start`, Action: FaultFail, Nth: 2, Code: 0x6100D, Message: "injected"}); err != nil {
			t.Fatal(err)
		}
		_, err := ss.Exec(ctx, "ALTER REPLICATION R1 START")
		wantCode(t, err, 0x6111B) // the first runs (and fails on its own)
		_, err = ss.Exec(ctx, "ALTER REPLICATION R1 START")
		wantCode(t, err, 0x6100D)
		_, err = ss.Exec(ctx, "ALTER REPLICATION R1 START")
		wantCode(t, err, 0x6111B)
	})
	t.Run("delay", func(t *testing.T) {
		s.Faults().Add(Fault{Pattern: "DUAL", Action: FaultDelay, Delay: 100 * time.Millisecond})
		start := time.Now()
		mustExec(t, ss, "SELECT * FROM DUAL")
		if d := time.Since(start); d < 100*time.Millisecond {
			t.Fatalf("delayed statement took %v", d)
		}
		s.Faults().Clear()
	})
	t.Run("hang until cancelled", func(t *testing.T) {
		s.Faults().Add(Fault{Pattern: "DUAL", Action: FaultHang, Nth: 1})
		cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		if _, err := ss.Exec(cctx, "SELECT * FROM DUAL"); err != context.DeadlineExceeded {
			t.Fatalf("hung statement: err = %v", err)
		}
		mustExec(t, ss, "SELECT * FROM DUAL") // Nth 1 fired once
	})
	t.Run("latency", func(t *testing.T) {
		s.Faults().SetLatency(30 * time.Millisecond)
		start := time.Now()
		mustExec(t, ss, "SELECT * FROM DUAL")
		if d := time.Since(start); d < 30*time.Millisecond {
			t.Fatalf("statement took %v with 30ms latency", d)
		}
		s.Faults().Clear()
	})
	t.Run("drop after executing", func(t *testing.T) {
		mustExec(t, ss, "CREATE TABLE D (I INTEGER PRIMARY KEY)")
		s.Faults().Add(Fault{Pattern: "INSERT", Action: FaultDrop, After: true})
		if _, err := ss.Exec(ctx, "INSERT INTO D VALUES (1)"); err != ErrConnectionDropped {
			t.Fatalf("err = %v, want ErrConnectionDropped", err)
		}
		_, err := ss.Exec(ctx, "SELECT * FROM D")
		wantCode(t, err, 0x410D5)
		s.Faults().Clear()
		wantRows(t, connect(t, s, false), "SELECT * FROM D", [][]Value{{int64(1)}})
	})
	t.Run("invalid fault", func(t *testing.T) {
		if err := s.Faults().Add(Fault{Pattern: "(", Action: FaultFail}); err == nil {
			t.Fatal("invalid pattern accepted")
		}
		if err := s.Faults().Add(Fault{Pattern: "x", Action: "explode"}); err == nil {
			t.Fatal("unknown action accepted")
		}
	})
}

func TestStatementLogRecordsOrderSessionAndErrors(t *testing.T) {
	s := newTestServer(t, Options{})
	ss := connect(t, s, false)
	mustExec(t, ss, "SELECT * FROM DUAL")
	ss.Exec(context.Background(), "SELECT * FROM NOPE")
	log := s.StatementLog()
	if len(log) != 2 {
		t.Fatalf("log has %d entries, want 2", len(log))
	}
	if log[0].SQL != "SELECT * FROM DUAL" || log[0].Err != "" || log[0].Session != ss.ID() {
		t.Fatalf("first entry = %+v", log[0])
	}
	if log[1].Code != 0x31031 || log[1].Err != "ERR-31031 : Table or view was not found : SYS.NOPE" || log[1].Start.Before(log[0].Start) {
		t.Fatalf("second entry = %+v", log[1])
	}
}

func TestStateSurvivesCloseAndCrash(t *testing.T) {
	for _, stop := range []string{"close", "crash"} {
		t.Run(stop, func(t *testing.T) {
			dir := t.TempDir()
			s, err := NewServer(Options{Name: "host-a", DataDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			ss := connect(t, s, false)
			mustExec(t, ss, "CREATE TABLE T1 (I1 INTEGER PRIMARY KEY, S CHAR(3))")
			mustExec(t, ss, "CREATE TABLE N (I INTEGER)")
			mustExec(t, ss, "INSERT INTO T1 VALUES (1, 'a'), (2, 'b'), (3, 'c')")
			mustExec(t, ss, "INSERT INTO N VALUES (7), (7)")
			mustExec(t, ss, "UPDATE T1 SET I1 = I1 + 10 WHERE I1 < 3")
			mustExec(t, ss, "DELETE FROM T1 WHERE I1 = 3")
			mustExec(t, ss, "CREATE REPLICATION R1 WITH 'host-b', 20301 FROM SYS.T1 TO SYS.T1")
			if stop == "close" {
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
			} else {
				s.Crash()
			}
			if _, err := ss.Exec(context.Background(), "SELECT * FROM T1"); err != ErrConnectionDropped {
				t.Fatalf("statement on a stopped server: err = %v", err)
			}
			s2 := newTestServer(t, Options{Name: "host-a", DataDir: dir})
			ss2 := connect(t, s2, false)
			wantRows(t, ss2, "SELECT * FROM T1", [][]Value{{int64(11), "a  "}, {int64(12), "b  "}})
			wantRows(t, ss2, "SELECT COUNT(*) FROM N", [][]Value{{int64(2)}})
			wantRows(t, ss2, "SELECT REPLICATION_NAME, XSN, IS_STARTED FROM SYS_REPLICATIONS_", [][]Value{{"R1", int64(-1), int64(0)}})
			// Restarted again, from the snapshot written at the last start.
			mustExec(t, ss2, "INSERT INTO T1 VALUES (20, 'z')")
			s2.Crash()
			s3 := newTestServer(t, Options{Name: "host-a", DataDir: dir})
			wantRows(t, connect(t, s3, false), "SELECT I1 FROM T1", [][]Value{{int64(11)}, {int64(12)}, {int64(20)}})
		})
	}
}

func TestTornWALTailIsIgnored(t *testing.T) {
	dir := t.TempDir()
	s, err := NewServer(Options{Name: "host-a", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ss := connect(t, s, false)
	mustExec(t, ss, "CREATE TABLE T1 (I1 INTEGER PRIMARY KEY)")
	mustExec(t, ss, "INSERT INTO T1 VALUES (1)")
	s.Crash()
	f, err := os.OpenFile(filepath.Join(dir, walFile), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"t":"recs","recs":[{"lsn":3,"table":"SYS.T1","op":"I","row":[2`)
	f.Close()
	s2 := newTestServer(t, Options{Name: "host-a", DataDir: dir})
	ss2 := connect(t, s2, false)
	wantRows(t, ss2, "SELECT * FROM T1", [][]Value{{int64(1)}})
	mustExec(t, ss2, "INSERT INTO T1 VALUES (3)")
	s2.Crash()
	s3 := newTestServer(t, Options{Name: "host-a", DataDir: dir})
	wantRows(t, connect(t, s3, false), "SELECT * FROM T1", [][]Value{{int64(1)}, {int64(3)}})
}

func TestSelectWithTableAliasAndQualifiedColumns(t *testing.T) {
	s := newTestServer(t, Options{})
	ss := connect(t, s, false)
	mustExec(t, ss, "CREATE TABLE T1 (I1 INTEGER PRIMARY KEY)")
	mustExec(t, ss, "CREATE REPLICATION AKU_REP_01 WITH 'h', 20301 FROM SYS.T1 TO SYS.T1")
	wantRows(t, ss, "SELECT A.REPLICATION_NAME, A.XSN FROM SYSTEM_.SYS_REPLICATIONS_ A WHERE A.REPLICATION_NAME = 'AKU_REP_01'",
		[][]Value{{"AKU_REP_01", int64(-1)}})
}

func TestSessionCloseDoesNotWaitForARunningStatement(t *testing.T) {
	s := newTestServer(t, Options{})
	ss := connect(t, s, true)
	s.Faults().Add(Fault{Pattern: "DUAL", Action: FaultHang, Nth: 1})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := ss.Exec(ctx, "SELECT * FROM DUAL")
		done <- err
	}()
	eventually(t, "the statement to hang", func() bool { return len(s.Faults().List()) == 0 })
	ss.Close()
	// The SYSDBA slot is free at once.
	other, err := s.Connect(context.Background(), ConnectOptions{User: "SYS", Password: "manager", SysDBA: true})
	if err != nil {
		t.Fatalf("SYSDBA after Close of a session with a running statement: %v", err)
	}
	other.Close()
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("cancelled statement: err = %v", err)
	}
}

func TestDataDirectoryServesOneServerAtATime(t *testing.T) {
	dir := t.TempDir()
	s := newTestServer(t, Options{DataDir: dir})
	if s2, err := NewServer(Options{Name: "other", DataDir: dir}); err == nil {
		s2.Close()
		t.Fatal("second server on the same data directory started")
	}
	s.Crash()
	s3 := newTestServer(t, Options{DataDir: dir})
	s3.Close()
}

// TestCrashEndsRunningStatements: a statement waiting when its server
// crashes or closes (a FLUSH toward an unreachable peer, a hang fault)
// ends at once with ErrConnectionDropped, as its connection would.
func TestCrashEndsRunningStatements(t *testing.T) {
	for _, stop := range []string{"close", "crash"} {
		t.Run(stop, func(t *testing.T) {
			s := newTestServer(t, Options{})
			ss := connect(t, s, true)
			s.Faults().Add(Fault{Pattern: "DUAL", Action: FaultHang, Nth: 1})
			done := make(chan error, 1)
			go func() {
				_, err := ss.Exec(context.Background(), "SELECT * FROM DUAL")
				done <- err
			}()
			eventually(t, "the statement to hang", func() bool { return len(s.Faults().List()) == 0 })
			if stop == "close" {
				s.Close()
			} else {
				s.Crash()
			}
			select {
			case err := <-done:
				if err != ErrConnectionDropped {
					t.Fatalf("statement running at %s: err = %v, want ErrConnectionDropped", stop, err)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("statement still running 5 s after %s", stop)
			}
		})
	}
}
