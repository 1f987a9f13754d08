package altisim

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// The size of a log record of T1 (I1 INTEGER PRIMARY KEY, V VARCHAR(n))
// as docs/altisim.md defines it: a 32-byte header, the table name
// "SYS.T1", 8 bytes for I1 and 2 plus its length for V.
const t1RecordBase = 32 + len("SYS.T1") + 8 + 2

// insertRows inserts rows first..first+n-1 into T1 with V of vlen bytes,
// in one statement, and returns the bytes they add to the log.
func insertRows(t *testing.T, ss *Session, first, n, vlen int) int64 {
	t.Helper()
	var b strings.Builder
	b.WriteString("INSERT INTO T1 VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(%d, '%s')", first+i, strings.Repeat("v", vlen))
	}
	mustExec(t, ss, b.String())
	return int64(n * (t1RecordBase + vlen))
}

// TestRepGapCountsUnsentLogInBytes: V$REPGAP.REP_GAP_SIZE is the bytes of
// log the sender has not had acknowledged; it grows with every write while
// the peer is down, REP_GAP is the same in REPLICATION_GAP_UNIT rounded up
// (Altibase 7.1.0.1.8 patch notes, BUG-46598), and FLUSH brings both back
// to 0.
func TestRepGapCountsUnsentLogInBytes(t *testing.T) {
	p := newPairWith(t, Options{}, Options{}, "V VARCHAR(200)")
	mustExec(t, p.sa, "ALTER REPLICATION REP1 START")
	p.net.setDown("host-b", true)
	var size int64
	steps := []struct {
		name  string
		run   func() // the change; nil: none
		unit  int64
		lastS int64 // REP_LAST_SN - REP_SN: the records not acknowledged
	}{
		{"started, nothing written", nil, 1 << 20, 0},
		{"one row", func() { size += insertRows(t, p.sa, 1, 1, 100) }, 1 << 20, 1},
		{"two more rows", func() { size += insertRows(t, p.sa, 2, 2, 100) }, 1 << 20, 3},
		{"a smaller unit", func() { mustExec(t, p.sa, "ALTER SYSTEM SET REPLICATION_GAP_UNIT = 100") }, 100, 3},
		{"an update", func() {
			mustExec(t, p.sa, "UPDATE T1 SET V = 'w' WHERE I1 = 1")
			size += int64(t1RecordBase + 1 + 8) // the row, and the key I1 of the old row
		}, 100, 4},
		{"a delete", func() {
			mustExec(t, p.sa, "DELETE FROM T1 WHERE I1 = 2")
			size += int64(32 + len("SYS.T1") + 8) // the key only
		}, 100, 5},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.run != nil {
				st.run()
			}
			gap := (size + st.unit - 1) / st.unit
			wantRows(t, p.sa, "SELECT REP_GAP, REP_GAP_SIZE FROM V$REPGAP", [][]Value{{gap, size}})
			r := rows(t, p.sa, "SELECT REP_LAST_SN, REP_SN FROM V$REPGAP")
			if d := r[0][0].(int64) - r[0][1].(int64); d != st.lastS {
				t.Fatalf("REP_LAST_SN - REP_SN = %d, want %d", d, st.lastS)
			}
		})
	}
	p.net.setDown("host-b", false)
	mustExec(t, p.sa, "ALTER REPLICATION REP1 FLUSH")
	wantRows(t, p.sa, "SELECT REP_GAP, REP_GAP_SIZE, REP_LAST_SN - REP_SN FROM V$REPGAP", [][]Value{{int64(0), int64(0), int64(0)}})
	wantRows(t, p.sb, "SELECT I1, V FROM T1", [][]Value{{int64(1), "w"}, {int64(3), strings.Repeat("v", 100)}})
}

// TestHeldSenderRunsWhileItsGapFillsLogFiles: a held sender stays
// connected (STATUS 1, no network error) but ships nothing, so its gap
// grows; READ_FILE_NO stays in the log file it reads while V$LFG moves on,
// the difference being the log files held back for it; after the release
// a FLUSH catches up.
func TestHeldSenderRunsWhileItsGapFillsLogFiles(t *testing.T) {
	p := newPairWith(t, Options{}, Options{}, "V VARCHAR(200)")
	mustExec(t, p.sa, "ALTER REPLICATION REP1 START")
	release := p.a.Faults().HoldSender("rep1")
	defer release()
	size := insertRows(t, p.sa, 1, 1000, 200) // 248 000 bytes: 3 files of 64 KB and some
	const fileSize = 64 << 10
	wantRows(t, p.sa, "SELECT STATUS, NET_ERROR_FLAG FROM V$REPSENDER", [][]Value{{int64(1), int64(0)}})
	wantRows(t, p.sa, "SELECT REP_GAP, REP_GAP_SIZE, READ_LFG_ID, READ_FILE_NO, READ_OFFSET FROM V$REPGAP",
		[][]Value{{int64(1), size, int64(0), int64(0), int64(0)}})
	wantRows(t, p.sa, "SELECT LFG_ID, CUR_WRITE_LF_NO, CUR_WRITE_LF_OFFSET FROM V$LFG",
		[][]Value{{int64(0), size / fileSize, size % fileSize}})

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := p.sa.Exec(ctx, "ALTER REPLICATION REP1 FLUSH"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("FLUSH while the sender is held: %v, want %v", err, context.DeadlineExceeded)
	}
	wantRows(t, p.sb, "SELECT COUNT(*) FROM T1", [][]Value{{int64(0)}})

	release()
	mustExec(t, p.sa, "ALTER REPLICATION REP1 FLUSH")
	wantRows(t, p.sb, "SELECT COUNT(*) FROM T1", [][]Value{{int64(1000)}})
	wantRows(t, p.sa, "SELECT REP_GAP, REP_GAP_SIZE, READ_FILE_NO, READ_OFFSET FROM V$REPGAP",
		[][]Value{{int64(0), int64(0), size / fileSize, size % fileSize}})
}

// TestHoldSenderWithoutANameHoldsEverySender: "" holds the senders of
// every replication, including one started after the hold.
func TestHoldSenderWithoutANameHoldsEverySender(t *testing.T) {
	p := newPairWith(t, Options{}, Options{}, "V VARCHAR(200)")
	release := p.a.Faults().HoldSender("")
	defer release()
	mustExec(t, p.sa, "ALTER REPLICATION REP1 START")
	size := insertRows(t, p.sa, 1, 2, 10)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := p.sa.Exec(ctx, "ALTER REPLICATION REP1 FLUSH"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("FLUSH while every sender is held: %v, want %v", err, context.DeadlineExceeded)
	}
	wantRows(t, p.sa, "SELECT REP_GAP_SIZE FROM V$REPGAP", [][]Value{{size}})
	release()
	mustExec(t, p.sa, "ALTER REPLICATION REP1 FLUSH")
	wantRows(t, p.sb, "SELECT COUNT(*) FROM T1", [][]Value{{int64(2)}})
}

// TestSenderRowsExistOnlyWhileTheSenderRuns: V$REPSENDER and V$REPGAP
// have a row per running sender and none otherwise, even when a stopped
// replication keeps unsent changes behind its restart point: an unknown
// gap is a missing row, never 0.
func TestSenderRowsExistOnlyWhileTheSenderRuns(t *testing.T) {
	p := newPair(t, 0)
	const sender = "SELECT REP_NAME, START_FLAG, NET_ERROR_FLAG, STATUS, PEER_IP, PEER_PORT FROM V$REPSENDER"
	const gap = "SELECT REP_NAME, START_FLAG, REP_GAP FROM V$REPGAP"
	steps := []struct {
		stmt       string
		peerDown   bool
		wantSender [][]Value
		wantGap    [][]Value
	}{
		{"", false, nil, nil},
		// The handshake fails at once: RETRY from the start, no peer yet.
		{"ALTER REPLICATION REP1 START RETRY", true,
			[][]Value{{"REP1", int64(0), int64(1), int64(2), nil, nil}}, [][]Value{{"REP1", int64(0), int64(0)}}},
		{"INSERT INTO T1 VALUES (1, 1)", true,
			[][]Value{{"REP1", int64(0), int64(1), int64(2), nil, nil}}, [][]Value{{"REP1", int64(0), int64(1)}}},
		{"ALTER REPLICATION REP1 STOP", true, nil, nil},
		{"INSERT INTO T1 VALUES (2, 2)", true, nil, nil},
		{"ALTER REPLICATION REP1 QUICKSTART", false,
			[][]Value{{"REP1", int64(1), int64(0), int64(1), "host-b", int64(20301)}}, [][]Value{{"REP1", int64(1), int64(0)}}},
	}
	for _, st := range steps {
		p.net.setDown("host-b", st.peerDown)
		if st.stmt != "" {
			mustExec(t, p.sa, st.stmt)
		}
		wantRows(t, p.sa, sender, st.wantSender)
		wantRows(t, p.sa, gap, st.wantGap)
	}
}

// TestSenderXSNFollowsTheAcknowledgedLog: V$REPSENDER.XSN is the sender's
// restart point, the LSN the peer acknowledged, as in SYS_REPLICATIONS_.
func TestSenderXSNFollowsTheAcknowledgedLog(t *testing.T) {
	p := newPair(t, 0)
	mustExec(t, p.sa, "ALTER REPLICATION REP1 START")
	mustExec(t, p.sa, "INSERT INTO T1 VALUES (1, 1), (2, 2)")
	mustExec(t, p.sa, "ALTER REPLICATION REP1 FLUSH")
	last := p.a.lastLSNForTest()
	wantRows(t, p.sa, "SELECT XSN, COMMIT_XSN, READ_LOG_COUNT, SEND_LOG_COUNT FROM V$REPSENDER",
		[][]Value{{last, last, int64(2), int64(2)}})
	if x := xsn(t, p.sa, "REP1"); x != last {
		t.Fatalf("SYS_REPLICATIONS_.XSN = %d, want %d", x, last)
	}
}

// syncTables is T1 and a range partitioned T2 on both servers, with one
// replication of both: SYNC copies T1, then T2 partition by partition.
var syncTables = []string{
	"CREATE TABLE T1 (I1 INTEGER PRIMARY KEY, I2 INTEGER)",
	"CREATE TABLE T2 (I1 INTEGER PRIMARY KEY, V VARCHAR(10)) PARTITION BY RANGE (I1) (PARTITION P1 VALUES LESS THAN (100), PARTITION P2 VALUES DEFAULT)",
}

const syncItems = "FROM SYS.T1 TO SYS.T1, FROM SYS.T2 TO SYS.T2"

// TestRepSyncShowsARunningSync: while a SYNC copies rows, V$REPSYNC has a
// row per table or partition with the rows copied so far, in batches of
// REPLICATION_SYNC_TUPLE_COUNT, and -1 once it is done; V$REPSENDER shows
// the sender in STATUS 6 (SYNC). When the SYNC has ended, V$REPSYNC is
// empty and the sender runs.
func TestRepSyncShowsARunningSync(t *testing.T) {
	p := newPairOf(t, Options{}, Options{}, syncTables, syncTables, syncItems, syncItems)
	mustExec(t, p.sa, "ALTER SYSTEM SET REPLICATION_SYNC_TUPLE_COUNT = 4")
	insertIntoT1(t, p.sa, 12)
	mustExec(t, p.sa, "INSERT INTO T2 VALUES (1, 'a'), (2, 'b'), (3, 'c'), (100, 'x'), (101, 'y')")
	p.a.Faults().SetSyncRowDelay(20 * time.Millisecond)
	mon := connect(t, p.a, false)

	done := make(chan error, 1)
	go func() {
		_, err := p.sa.Exec(context.Background(), "ALTER REPLICATION REP1 SYNC")
		done <- err
	}()
	// Every observation must be a state the SYNC passes through: units in
	// order, the earlier ones done (-1), one in progress at a multiple of
	// the batch (or all of its rows, just before -1), the later ones at 0.
	units := [][2]Value{{"T1", nil}, {"T2", "P1"}, {"T2", "P2"}}
	totals := []int64{12, 3, 2}
	seen := map[string]bool{}
	var err error
	for polling := true; polling; time.Sleep(5 * time.Millisecond) {
		select {
		case err = <-done:
			polling = false
			continue
		default:
		}
		obs := rows(t, mon, "SELECT REP_NAME, SYNC_TABLE, SYNC_PARTITION, SYNC_RECORD_COUNT, SYNC_SN FROM V$REPSYNC")
		if obs == nil {
			continue // before the handshake, or after the end
		}
		if len(obs) != len(units) {
			t.Fatalf("V$REPSYNC = %v, want a row per table or partition %v", obs, units)
		}
		phase := 0 // 0: done units, 1: past the one in progress
		var counts []int64
		for i, row := range obs {
			if row[0] != "REP1" || row[1] != units[i][0] || row[2] != units[i][1] || row[4] != int64(0) {
				t.Fatalf("V$REPSYNC row %d = %v", i, row)
			}
			n := row[3].(int64)
			counts = append(counts, n)
			switch {
			case n == -1 && phase == 0:
			case n >= 0 && n <= totals[i] && (n%4 == 0 || n == totals[i]) && phase == 0:
				phase = 1
			case n == 0 && phase == 1:
			default:
				t.Fatalf("V$REPSYNC counts %v are no state of a SYNC copying %v in batches of 4", counts, totals)
			}
		}
		seen[fmt.Sprint(counts)] = true
		if s := rows(t, mon, "SELECT START_FLAG, NET_ERROR_FLAG, STATUS, PEER_IP FROM V$REPSENDER"); !reflect.DeepEqual(s,
			[][]Value{{int64(2), int64(0), int64(6), "host-b"}}) && rows(t, mon, "SELECT * FROM V$REPSYNC") != nil {
			t.Fatalf("V$REPSENDER during SYNC = %v, want START_FLAG 2 (SYNC), STATUS 6 (SYNC)", s)
		}
	}
	if err != nil {
		t.Fatalf("SYNC: %v", err)
	}
	// Mid-SYNC states, each lasting at least two batches' delay: T1 partly
	// copied, and T1 done while T2's partitions are not.
	if !seen["[4 0 0]"] && !seen["[8 0 0]"] {
		t.Errorf("V$REPSYNC never showed T1 partly copied; seen %v", seen)
	}
	if !seen["[-1 0 0]"] && !seen["[-1 -1 0]"] {
		t.Errorf("V$REPSYNC never showed T1 done before T2; seen %v", seen)
	}
	wantRows(t, p.sa, "SELECT * FROM V$REPSYNC", nil)
	wantRows(t, p.sa, "SELECT START_FLAG, STATUS FROM V$REPSENDER", [][]Value{{int64(2), int64(1)}})
	wantRows(t, p.sb, "SELECT COUNT(*) FROM T2", [][]Value{{int64(5)}})
}

func insertIntoT1(t *testing.T, ss *Session, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		mustExec(t, ss, fmt.Sprintf("INSERT INTO T1 VALUES (%d, %d)", i, i))
	}
}

// TestSyncOnlyLeavesNoSender: SYNC ONLY shows START_FLAG 3 while it runs
// and no sender once it has ended.
func TestSyncOnlyLeavesNoSender(t *testing.T) {
	p := newPair(t, 0)
	insertIntoT1(t, p.sa, 3)
	p.a.Faults().SetSyncRowDelay(100 * time.Millisecond)
	done := make(chan error, 1)
	go func() {
		_, err := p.sa.Exec(context.Background(), "ALTER REPLICATION REP1 SYNC ONLY")
		done <- err
	}()
	mon := connect(t, p.a, false)
	eventually(t, "the SYNC ONLY to show", func() bool {
		return reflect.DeepEqual(rows(t, mon, "SELECT START_FLAG, STATUS FROM V$REPSENDER"), [][]Value{{int64(3), int64(6)}})
	})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	wantRows(t, p.sa, "SELECT * FROM V$REPSENDER", nil)
	wantRows(t, p.sa, "SELECT * FROM V$REPSYNC", nil)
}

// monitorQueries are what a read-only monitor (aku status) asks a server.
var monitorQueries = []string{
	"SELECT REPLICATION_NAME, IS_STARTED, XSN FROM SYSTEM_.SYS_REPLICATIONS_",
	"SELECT REP_NAME, STATUS, NET_ERROR_FLAG, XSN FROM V$REPSENDER",
	"SELECT REP_NAME, APPLY_XSN FROM V$REPRECEIVER",
	"SELECT REP_NAME, REP_GAP, REP_GAP_SIZE, READ_FILE_NO FROM V$REPGAP",
	"SELECT REP_NAME, SYNC_TABLE, SYNC_RECORD_COUNT FROM V$REPSYNC",
	"SELECT REP_NAME, BUFFER_MIN_SN, READ_SN FROM V$REPLOGBUFFER",
	"SELECT CUR_WRITE_LF_NO FROM V$LFG",
	"SELECT VALUE1 FROM V$PROPERTY WHERE NAME = 'ADMIN_MODE'",
}

// TestOrdinarySessionsAreNotLimited: sessions without SYSDBA privilege are
// not subject to the one-SYSDBA-session rule (ERR-41041 concerns SYSDBA
// only [I]): many of them run at once while the SYSDBA slot is taken, and
// each reads what a monitor reads. Under ADMIN_MODE = 1 none is admitted.
func TestOrdinarySessionsAreNotLimited(t *testing.T) {
	p := newPair(t, 0)
	mustExec(t, p.sa, "INSERT INTO T1 VALUES (1, 1)")
	mustExec(t, p.sa, "ALTER REPLICATION REP1 SYNC")
	connect(t, p.a, true)
	release := p.a.Faults().HoldSysdba()
	defer release()
	_, err := p.a.Connect(context.Background(), ConnectOptions{User: "SYS", Password: "manager", SysDBA: true})
	wantCode(t, err, 0x41041)

	const sessions = 8
	var wg sync.WaitGroup
	errs := make(chan error, sessions)
	for range sessions {
		ss := connect(t, p.a, false) // all open at once
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, q := range monitorQueries {
				if _, err := ss.Exec(context.Background(), q); err != nil {
					errs <- fmt.Errorf("%s: %w", q, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	ss := connect(t, p.a, false)
	wantRows(t, ss, monitorQueries[1], [][]Value{{"REP1", int64(1), int64(0), p.a.lastLSNForTest()}})
	wantRows(t, ss, monitorQueries[7], [][]Value{{"0"}})

	mustExec(t, ss, "ALTER SYSTEM SET ADMIN_MODE = 1")
	_, err = p.a.Connect(context.Background(), ConnectOptions{User: "SYS", Password: "manager"})
	wantCode(t, err, 0x4106E)
}

// TestLogPositionSurvivesRestarts: the log's end (V$LFG) is where it was
// after a clean stop — replayed from the WAL, then from the snapshot alone
// — and after a crash, so log file numbers only grow.
func TestLogPositionSurvivesRestarts(t *testing.T) {
	dir := t.TempDir()
	s := newTestServer(t, Options{DataDir: dir})
	ss := connect(t, s, false)
	mustExec(t, ss, "CREATE TABLE T1 (I1 INTEGER PRIMARY KEY, V VARCHAR(200))")
	size := insertRows(t, ss, 1, 300, 200)
	const lfg = "SELECT CUR_WRITE_LF_NO, CUR_WRITE_LF_OFFSET FROM V$LFG"
	lfgOf := func(size int64) [][]Value { return [][]Value{{size / (64 << 10), size % (64 << 10)}} }
	wantRows(t, ss, lfg, lfgOf(size))
	for _, restart := range []string{"close, replay the WAL", "close, load the snapshot", "crash after a write"} {
		if restart == "crash after a write" {
			size += insertRows(t, ss, 301, 1, 10)
			s.Crash()
		} else if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s = newTestServer(t, Options{DataDir: dir})
		ss = connect(t, s, false)
		t.Run(restart, func(t *testing.T) { wantRows(t, ss, lfg, lfgOf(size)) })
	}
}

// TestMonitorProperties: the properties behind the views, with their
// defaults and who may change them.
func TestMonitorProperties(t *testing.T) {
	s := newTestServer(t, Options{})
	ss := connect(t, s, false)
	wantRows(t, ss, "SELECT NAME, MIN, MAX, VALUE1 FROM V$PROPERTY WHERE NAME = 'LOG_FILE_SIZE' OR NAME = 'REPLICATION_GAP_UNIT' OR NAME = 'REPLICATION_SYNC_TUPLE_COUNT'",
		[][]Value{
			{"LOG_FILE_SIZE", "65536", "4294967295", "65536"},
			{"REPLICATION_GAP_UNIT", "1", "9223372036854775807", "1048576"},
			{"REPLICATION_SYNC_TUPLE_COUNT", "0", "9223372036854775807", "50000"},
		})
	wantCodes(t, ss, []codeCase{
		{"LOG_FILE_SIZE is fixed when the database is created", "ALTER SYSTEM SET LOG_FILE_SIZE = 1048576", 0x10025},
		{"REPLICATION_GAP_UNIT is at least 1", "ALTER SYSTEM SET REPLICATION_GAP_UNIT = 0", 0x10026},
	})
	if _, err := NewServer(Options{Name: "x", Properties: map[string]int64{"LOG_FILE_SIZE": 4096}}); err == nil {
		t.Fatal("LOG_FILE_SIZE 4096, below Altibase's 64 KB minimum, was accepted")
	}
	s2 := newTestServer(t, Options{Name: "y", Properties: map[string]int64{"LOG_FILE_SIZE": 1 << 20}})
	wantRows(t, connect(t, s2, false), "SELECT VALUE1 FROM V$PROPERTY WHERE NAME = 'LOG_FILE_SIZE'", [][]Value{{"1048576"}})
}

// TestSendRateDrainsTheGapAtThatRate: with Faults.SetSendRate the sender
// ships its gap at that many bytes a second, so a FLUSH WAIT 1 gives up
// after its second with the gap partly drained (by about a second's
// worth), and a FLUSH without WAIT, once the rate is lifted, drains it.
func TestSendRateDrainsTheGapAtThatRate(t *testing.T) {
	p := newPairWith(t, Options{}, Options{}, "V VARCHAR(2000)")
	mustExec(t, p.sa, "ALTER REPLICATION REP1 START")
	release := p.a.Faults().HoldSender("rep1")
	size := insertRows(t, p.sa, 1, 500, 2000) // about 1 MB
	const rate = 200 << 10
	p.a.Faults().SetSendRate(rate)
	if got := p.a.Faults().SendRate(); got != rate {
		t.Fatalf("SendRate() = %d, want %d", got, rate)
	}
	release()

	start := time.Now()
	mustExec(t, p.sa, "ALTER REPLICATION REP1 FLUSH WAIT 1")
	if d := time.Since(start); d < time.Second {
		t.Fatalf("FLUSH WAIT 1 returned after %v, before its second, with %d bytes to ship at %d bytes/s", d, size, rate)
	}
	r := rows(t, p.sa, "SELECT REP_GAP_SIZE FROM V$REPGAP")
	if len(r) != 1 {
		t.Fatalf("V$REPGAP: %d rows, want 1", len(r))
	}
	left := r[0][0].(int64)
	// One second at the rate, give or take a batch (a tenth of a second)
	// and the time the FLUSH took to begin.
	if sent := size - left; sent < rate/2 || sent > 2*rate {
		t.Errorf("after FLUSH WAIT 1 at %d bytes/s: %d of %d bytes sent, want about %d", rate, sent, size, rate)
	}

	p.a.Faults().Clear()
	if got := p.a.Faults().SendRate(); got != 0 {
		t.Fatalf("SendRate() after Clear = %d, want 0", got)
	}
	mustExec(t, p.sa, "ALTER REPLICATION REP1 FLUSH")
	wantRows(t, p.sa, "SELECT REP_GAP_SIZE FROM V$REPGAP", [][]Value{{int64(0)}})
	wantRows(t, p.sb, "SELECT COUNT(*) FROM T1", [][]Value{{int64(500)}})
}
