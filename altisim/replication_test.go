package altisim

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"
)

// testNet is an in-test Transport: host names map to servers of the test,
// and every message is JSON-encoded on the way, as over TCP.
type testNet struct {
	mu      sync.Mutex
	servers map[string]*Server
	down    map[string]bool
	// checkLocks makes Send record a message sent while the sending
	// server's lock is held (lockedSends), which could deadlock two servers
	// replicating to each other. Only for tests where nothing else takes
	// that lock meanwhile.
	checkLocks  bool
	lockedSends []string
}

func newTestNet() *testNet {
	return &testNet{servers: map[string]*Server{}, down: map[string]bool{}}
}

func (n *testNet) lookup(host string, port int) (*Server, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	s := n.servers[host]
	if s == nil || n.down[host] {
		return nil, fmt.Errorf("dial %s:%d: connection refused", host, port)
	}
	if port != 0 && s.opts.ReplicationPort != port {
		return nil, fmt.Errorf("dial %s:%d: connection refused", host, port)
	}
	return s, nil
}

func (n *testNet) setDown(host string, down bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.down[host] = down
}

func (n *testNet) Dial(ctx context.Context, host string, port int) (Link, error) {
	if _, err := n.lookup(host, port); err != nil {
		return nil, err
	}
	return &testLink{n: n, host: host}, nil
}

type testLink struct {
	n    *testNet
	host string
}

func roundTrip[T any](v *T) *T {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	out := new(T)
	if err := json.Unmarshal(b, out); err != nil {
		panic(err)
	}
	return out
}

func (l *testLink) Send(ctx context.Context, m *ReplMessage) (*ReplMessage, error) {
	l.n.mu.Lock()
	if src := l.n.servers[m.From]; l.n.checkLocks && src != nil {
		if src.mu.TryLock() {
			src.mu.Unlock()
		} else {
			l.n.lockedSends = append(l.n.lockedSends, m.Kind)
		}
	}
	l.n.mu.Unlock()
	s, err := l.n.lookup(l.host, 0)
	if err != nil {
		return nil, err
	}
	reply, err := s.Receive(ctx, roundTrip(m))
	if err != nil {
		return nil, err
	}
	return roundTrip(reply), nil
}

func (l *testLink) Close() error { return nil }

// pair is two servers, A and B, on one testNet, each with T1 (I1 INTEGER
// PRIMARY KEY, I2 INTEGER) and replication REP1 toward the other.
type pair struct {
	net    *testNet
	a, b   *Server
	sa, sb *Session
}

func (p *pair) add(t *testing.T, name string, o Options) *Server {
	t.Helper()
	o.Name = name
	o.ReplicationPort = 20301
	o.Transport = p.net
	s, err := NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	p.net.mu.Lock()
	p.net.servers[name] = s
	p.net.mu.Unlock()
	return s
}

func newPair(t *testing.T, lag time.Duration) *pair {
	t.Helper()
	return newPairWith(t, Options{ReplicationLag: lag}, Options{ReplicationLag: lag}, "I2 INTEGER")
}

// newPairWith is newPair with each server's options and T1's second
// column.
func newPairWith(t *testing.T, a, b Options, col2 string) *pair {
	t.Helper()
	t1 := []string{"CREATE TABLE T1 (I1 INTEGER PRIMARY KEY, " + col2 + ")"}
	return newPairOf(t, a, b, t1, t1, "FROM SYS.T1 TO SYS.T1", "FROM SYS.T1 TO SYS.T1")
}

// newPairOf is two servers, A with options oa after the statements a and
// B with ob after b, each with REP1 toward the other replicating the
// items itemsA and itemsB.
func newPairOf(t *testing.T, oa, ob Options, a, b []string, itemsA, itemsB string) *pair {
	t.Helper()
	p := &pair{net: newTestNet()}
	p.a = p.add(t, "host-a", oa)
	p.b = p.add(t, "host-b", ob)
	p.sa, p.sb = connect(t, p.a, false), connect(t, p.b, false)
	for _, x := range []struct {
		ss    *Session
		stmts []string
		peer  string
		items string
	}{{p.sa, a, "host-b", itemsA}, {p.sb, b, "host-a", itemsB}} {
		for _, stmt := range x.stmts {
			mustExec(t, x.ss, stmt)
		}
		mustExec(t, x.ss, "CREATE REPLICATION REP1 WITH '"+x.peer+"', 20301 "+x.items)
	}
	return p
}

func xsn(t *testing.T, ss *Session, name string) int64 {
	t.Helper()
	r := rows(t, ss, "SELECT XSN FROM SYSTEM_.SYS_REPLICATIONS_ WHERE REPLICATION_NAME = '"+name+"'")
	if len(r) != 1 {
		t.Fatalf("replication %s: %d rows in SYS_REPLICATIONS_", name, len(r))
	}
	return r[0][0].(int64)
}

func TestFreshReplicationHasXSNMinusOneAndMetaRows(t *testing.T) {
	s := newTestServer(t, Options{})
	ss := connect(t, s, false)
	mustExec(t, ss, "CREATE TABLE T1 (I1 INTEGER PRIMARY KEY)")
	mustExec(t, ss, "CREATE TABLE T2 (I1 INTEGER, I2 VARCHAR(8), PRIMARY KEY (I1)) PARTITION BY RANGE (I1) (PARTITION P1 VALUES LESS THAN (10), PARTITION P2 VALUES DEFAULT)")
	mustExec(t, ss, "create lazy replication aku_rep_01 as master with 'sts-1.svc', 20301, 'sts-1b.svc', 20311 from sys.t1 to sys.t1, from sys.t2 partition p1 to sys.t2 partition p1")
	wantRows(t, ss, "SELECT REPLICATION_NAME, LAST_USED_HOST_NO, HOST_COUNT, IS_STARTED, XSN, ITEM_COUNT, CONFLICT_RESOLUTION, REPL_MODE FROM SYSTEM_.SYS_REPLICATIONS_",
		[][]Value{{"AKU_REP_01", int64(0), int64(2), int64(0), int64(-1), int64(2), int64(1), int64(0)}})
	wantRows(t, ss, "SELECT HOST_NO, REPLICATION_NAME, HOST_IP, PORT_NO FROM SYSTEM_.SYS_REPL_HOSTS_ WHERE REPLICATION_NAME = 'AKU_REP_01'",
		[][]Value{{int64(1), "AKU_REP_01", "sts-1.svc", int64(20301)}, {int64(2), "AKU_REP_01", "sts-1b.svc", int64(20311)}})
	wantRows(t, ss, "SELECT LOCAL_USER_NAME, LOCAL_TABLE_NAME, LOCAL_PARTITION_NAME, REMOTE_TABLE_NAME, REMOTE_PARTITION_NAME, IS_PARTITION, REPLICATION_UNIT FROM SYS_REPL_ITEMS_",
		[][]Value{{"SYS", "T1", nil, "T1", nil, "N", "T"}, {"SYS", "T2", "P1", "T2", "P1", "Y", "P"}})
	wantRows(t, ss, "SELECT * FROM V$REPSENDER", nil)
	wantRows(t, ss, "SELECT * FROM V$REPGAP", nil)
}

func TestCreateReplicationRules(t *testing.T) {
	s := newTestServer(t, Options{Properties: map[string]int64{"REPLICATION_MAX_COUNT": 2}})
	ss := connect(t, s, false)
	mustExec(t, ss, "CREATE TABLE T1 (I1 INTEGER PRIMARY KEY)")
	mustExec(t, ss, "CREATE TABLE NOKEY (I1 INTEGER)")
	mustExec(t, ss, "CREATE REPLICATION R1 WITH 'h', 1 FROM SYS.T1 TO SYS.T1")
	tests := []codeCase{
		{"duplicate name is ERR-61100", "CREATE REPLICATION R1 WITH 'h', 1 FROM SYS.T1 TO SYS.T1", 0x61100},
		{"missing table is ERR-31031", "CREATE REPLICATION R2 WITH 'h', 1 FROM SYS.NOPE TO SYS.NOPE", 0x31031},
		{"table without primary key is refused", "CREATE REPLICATION R2 WITH 'h', 1 FROM SYS.NOKEY TO SYS.NOKEY", 0x610A9},
		{"undefined name is ERR-6111B", "ALTER REPLICATION NOPE START", 0x6111B},
		{"drop of an undefined name is ERR-6111B", "DROP REPLICATION NOPE", 0x6111B},
		{"FLUSH of a stopped replication is ERR-61027", "ALTER REPLICATION R1 FLUSH", 0x61027},
		{"STOP of a stopped replication is ERR-61027", "ALTER REPLICATION R1 STOP", 0x61027},
		{"SYNC PARALLEL 0 is refused", "ALTER REPLICATION R1 SYNC PARALLEL 0", 0x610B2},
	}
	wantCodes(t, ss, tests)
	t.Run("more than REPLICATION_MAX_COUNT is ERR-61102", func(t *testing.T) {
		mustExec(t, ss, "CREATE REPLICATION R2 WITH 'h', 1 FROM SYS.T1 TO SYS.T1")
		_, err := ss.Exec(context.Background(), "CREATE REPLICATION R3 WITH 'h', 1 FROM SYS.T1 TO SYS.T1")
		wantCode(t, err, 0x61102)
	})
}

func TestStartFailsWithHandshakeErrorWhenPeerLacksObject(t *testing.T) {
	p := newPair(t, 0)
	mustExec(t, p.sb, "DROP REPLICATION REP1")
	_, err := p.sa.Exec(context.Background(), "ALTER REPLICATION REP1 START")
	wantCode(t, err, 0x6100D)
	if got := err.Error(); got != "ERR-6100D : [Sender] Failed to handshake with the peer server (host-b:20301: the replication REP1 does not exist on host-b)" {
		t.Fatalf("error text = %q", got)
	}
	wantRows(t, p.sa, "SELECT IS_STARTED FROM SYS_REPLICATIONS_", [][]Value{{int64(0)}})
}

func TestStartFailsWithHandshakeErrorWhenPeerUnreachable(t *testing.T) {
	p := newPair(t, 0)
	p.net.setDown("host-b", true)
	_, err := p.sa.Exec(context.Background(), "ALTER REPLICATION REP1 START")
	wantCode(t, err, 0x6100D)
}

func TestStartRetrySucceedsAndCatchesUpWhenPeerComesBack(t *testing.T) {
	p := newPair(t, 0)
	p.net.setDown("host-b", true)
	mustExec(t, p.sa, "ALTER REPLICATION REP1 START RETRY")
	wantRows(t, p.sa, "SELECT STATUS, NET_ERROR_FLAG FROM V$REPSENDER", [][]Value{{int64(2), int64(1)}})
	mustExec(t, p.sa, "INSERT INTO T1 VALUES (1, 1)")
	wantRows(t, p.sa, "SELECT REP_GAP FROM V$REPGAP", [][]Value{{int64(1)}})
	p.net.setDown("host-b", false)
	mustExec(t, p.sa, "ALTER REPLICATION REP1 FLUSH")
	wantRows(t, p.sb, "SELECT * FROM T1", [][]Value{{int64(1), int64(1)}})
	wantRows(t, p.sa, "SELECT STATUS, NET_ERROR_FLAG FROM V$REPSENDER", [][]Value{{int64(1), int64(0)}})
}

func TestStartOnStartedReplicationIsError6100A(t *testing.T) {
	p := newPair(t, 0)
	mustExec(t, p.sa, "ALTER REPLICATION REP1 START")
	_, err := p.sa.Exec(context.Background(), "ALTER REPLICATION REP1 START")
	wantCode(t, err, 0x6100A)
}

func TestSyncCopiesAllRowsThenStartsAndFlushShipsLaterChanges(t *testing.T) {
	p := newPair(t, 0)
	mustExec(t, p.sa, "INSERT INTO T1 VALUES (1, 10), (2, 20), (3, 30)")
	mustExec(t, p.sa, "ALTER REPLICATION REP1 SYNC PARALLEL 2")
	wantRows(t, p.sb, "SELECT * FROM T1", [][]Value{{int64(1), int64(10)}, {int64(2), int64(20)}, {int64(3), int64(30)}})
	wantRows(t, p.sa, "SELECT IS_STARTED FROM SYS_REPLICATIONS_", [][]Value{{int64(1)}})
	wantRows(t, p.sa, "SELECT REP_NAME, START_FLAG, STATUS, PEER_IP, PEER_PORT FROM V$REPSENDER", [][]Value{{"REP1", int64(2), int64(1), "host-b", int64(20301)}})
	wantRows(t, p.sb, "SELECT REP_NAME, PEER_IP, INSERT_SUCCESS_COUNT FROM V$REPRECEIVER", [][]Value{{"REP1", "host-a", int64(3)}})

	mustExec(t, p.sa, "INSERT INTO T1 VALUES (4, 40)")
	mustExec(t, p.sa, "UPDATE T1 SET I2 = 11 WHERE I1 = 1")
	mustExec(t, p.sa, "DELETE FROM T1 WHERE I1 = 2")
	mustExec(t, p.sa, "ALTER REPLICATION REP1 FLUSH")
	wantRows(t, p.sb, "SELECT * FROM T1", [][]Value{{int64(1), int64(11)}, {int64(3), int64(30)}, {int64(4), int64(40)}})
	if x := xsn(t, p.sa, "REP1"); x != p.a.lastLSNForTest() {
		t.Fatalf("XSN after FLUSH = %d, want the last LSN %d", x, p.a.lastLSNForTest())
	}
}

func (s *Server) lastLSNForTest() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastLSN
}

func TestSyncOnlyDoesNotStart(t *testing.T) {
	p := newPair(t, 0)
	mustExec(t, p.sa, "INSERT INTO T1 VALUES (1, 10)")
	mustExec(t, p.sa, "ALTER REPLICATION REP1 SYNC ONLY TABLE SYS.T1")
	wantRows(t, p.sb, "SELECT COUNT(*) FROM T1", [][]Value{{int64(1)}})
	wantRows(t, p.sa, "SELECT IS_STARTED FROM SYS_REPLICATIONS_", [][]Value{{int64(0)}})
}

// TestSyncOnlySendsWithoutHoldingTheLock: SYNC ONLY says goodbye to the
// peer without holding the server's lock, so that two servers syncing
// toward each other cannot deadlock.
func TestSyncOnlySendsWithoutHoldingTheLock(t *testing.T) {
	p := newPair(t, 0)
	mustExec(t, p.sa, "INSERT INTO T1 VALUES (1, 10)")
	p.net.mu.Lock()
	p.net.checkLocks = true
	p.net.mu.Unlock()
	mustExec(t, p.sa, "ALTER REPLICATION REP1 SYNC ONLY")
	p.net.mu.Lock()
	defer p.net.mu.Unlock()
	if len(p.net.lockedSends) > 0 {
		t.Fatalf("messages sent while holding the sender's lock: %v", p.net.lockedSends)
	}
}

func TestFlushWaitsForTheReplicationLag(t *testing.T) {
	const lag = time.Second
	p := newPair(t, lag)
	mustExec(t, p.sa, "ALTER REPLICATION REP1 START")
	mustExec(t, p.sa, "INSERT INTO T1 VALUES (1, 1)")
	wantRows(t, p.sb, "SELECT COUNT(*) FROM T1", [][]Value{{int64(0)}})
	start := time.Now()
	mustExec(t, p.sa, "ALTER REPLICATION REP1 FLUSH ALL")
	if d := time.Since(start); d < lag/2 {
		t.Fatalf("FLUSH ALL returned after %v, before the change was due (lag %v)", d, lag)
	}
	wantRows(t, p.sb, "SELECT COUNT(*) FROM T1", [][]Value{{int64(1)}})
}

func TestFlushWaitGivesUpSilentlyWhenPeerIsDown(t *testing.T) {
	p := newPair(t, 0)
	mustExec(t, p.sa, "ALTER REPLICATION REP1 START")
	p.net.setDown("host-b", true)
	mustExec(t, p.sa, "INSERT INTO T1 VALUES (1, 1)")
	start := time.Now()
	mustExec(t, p.sa, "ALTER REPLICATION REP1 FLUSH WAIT 1")
	if d := time.Since(start); d < time.Second {
		t.Fatalf("FLUSH WAIT 1 returned after %v", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := p.sa.Exec(ctx, "ALTER REPLICATION REP1 FLUSH"); err != context.DeadlineExceeded {
		t.Fatalf("cancelled FLUSH: err = %v, want %v", err, context.DeadlineExceeded)
	}
}

func TestStopKeepsXSNAndStartResumesFromIt(t *testing.T) {
	p := newPair(t, 0)
	mustExec(t, p.sa, "ALTER REPLICATION REP1 START")
	mustExec(t, p.sa, "INSERT INTO T1 VALUES (1, 1)")
	mustExec(t, p.sa, "ALTER REPLICATION REP1 FLUSH")
	mustExec(t, p.sa, "ALTER REPLICATION REP1 STOP")
	before := xsn(t, p.sa, "REP1")
	mustExec(t, p.sa, "INSERT INTO T1 VALUES (2, 2)")
	if got := xsn(t, p.sa, "REP1"); got != before {
		t.Fatalf("XSN moved while stopped: %d -> %d", before, got)
	}
	wantRows(t, p.sb, "SELECT COUNT(*) FROM T1", [][]Value{{int64(1)}})
	mustExec(t, p.sa, "ALTER REPLICATION REP1 START")
	mustExec(t, p.sa, "ALTER REPLICATION REP1 FLUSH")
	wantRows(t, p.sb, "SELECT * FROM T1", [][]Value{{int64(1), int64(1)}, {int64(2), int64(2)}})
}

func TestResetOnlyWhenStoppedSetsXSNMinusOneAndForgetsUnsentChanges(t *testing.T) {
	p := newPair(t, 0)
	mustExec(t, p.sa, "ALTER REPLICATION REP1 START")
	_, err := p.sa.Exec(context.Background(), "ALTER REPLICATION REP1 RESET")
	wantCode(t, err, 0x610FE)
	mustExec(t, p.sa, "ALTER REPLICATION REP1 STOP")
	mustExec(t, p.sa, "INSERT INTO T1 VALUES (1, 1)")
	mustExec(t, p.sa, "ALTER REPLICATION REP1 RESET")
	if got := xsn(t, p.sa, "REP1"); got != -1 {
		t.Fatalf("XSN after RESET = %d, want -1", got)
	}
	mustExec(t, p.sa, "ALTER REPLICATION REP1 START")
	mustExec(t, p.sa, "ALTER REPLICATION REP1 FLUSH")
	wantRows(t, p.sb, "SELECT COUNT(*) FROM T1", [][]Value{{int64(0)}})
	mustExec(t, p.sa, "INSERT INTO T1 VALUES (2, 2)")
	mustExec(t, p.sa, "ALTER REPLICATION REP1 FLUSH")
	wantRows(t, p.sb, "SELECT * FROM T1", [][]Value{{int64(2), int64(2)}})
}

func TestQuickstartSkipsPendingChanges(t *testing.T) {
	p := newPair(t, 0)
	mustExec(t, p.sa, "ALTER REPLICATION REP1 START")
	mustExec(t, p.sa, "ALTER REPLICATION REP1 STOP")
	mustExec(t, p.sa, "INSERT INTO T1 VALUES (1, 1)")
	mustExec(t, p.sa, "ALTER REPLICATION REP1 QUICKSTART")
	mustExec(t, p.sa, "ALTER REPLICATION REP1 FLUSH")
	wantRows(t, p.sb, "SELECT COUNT(*) FROM T1", [][]Value{{int64(0)}})
	wantRows(t, p.sa, "SELECT START_FLAG FROM V$REPSENDER", [][]Value{{int64(1)}})
}

func TestDropReplicationOnlyWhenStopped(t *testing.T) {
	p := newPair(t, 0)
	mustExec(t, p.sa, "ALTER REPLICATION REP1 START")
	_, err := p.sa.Exec(context.Background(), "DROP REPLICATION REP1")
	wantCode(t, err, 0x610FE)
	if got := err.Error(); got != "ERR-610FE : Replication has already started." {
		t.Fatalf("error text = %q", got)
	}
	mustExec(t, p.sa, "ALTER REPLICATION REP1 STOP")
	mustExec(t, p.sa, "DROP REPLICATION REP1")
	wantRows(t, p.sa, "SELECT COUNT(*) FROM SYSTEM_.SYS_REPLICATIONS_", [][]Value{{int64(0)}})
}

func TestTruncateOfReplicatedTableNeedsReplicationDDLEnable(t *testing.T) {
	p := newPair(t, 0)
	mustExec(t, p.sa, "INSERT INTO T1 VALUES (1, 1)")
	_, err := p.sa.Exec(context.Background(), "TRUNCATE TABLE T1")
	wantCode(t, err, 0x312C4)
	mustExec(t, p.sa, "ALTER SYSTEM SET REPLICATION_DDL_ENABLE = 1")
	mustExec(t, p.sa, "ALTER SESSION SET REPLICATION = DEFAULT")
	mustExec(t, p.sa, "TRUNCATE TABLE SYS.T1")
	wantRows(t, p.sa, "SELECT COUNT(*) FROM T1", [][]Value{{int64(0)}})
	_, err = p.sa.Exec(context.Background(), "DROP TABLE T1")
	wantCode(t, err, 0x31020)
	mustExec(t, p.sa, "ALTER SYSTEM SET REPLICATION_DDL_ENABLE = 0")
}

func TestChangesAppliedByReceiverAreNotSentOn(t *testing.T) {
	p := newPair(t, 0)
	mustExec(t, p.sa, "ALTER REPLICATION REP1 START")
	mustExec(t, p.sb, "ALTER REPLICATION REP1 START")
	mustExec(t, p.sa, "INSERT INTO T1 VALUES (1, 1)")
	mustExec(t, p.sb, "INSERT INTO T1 VALUES (2, 2)")
	mustExec(t, p.sa, "ALTER REPLICATION REP1 FLUSH")
	mustExec(t, p.sb, "ALTER REPLICATION REP1 FLUSH ALL")
	mustExec(t, p.sa, "ALTER REPLICATION REP1 FLUSH ALL")
	for _, ss := range []*Session{p.sa, p.sb} {
		wantRows(t, ss, "SELECT * FROM T1", [][]Value{{int64(1), int64(1)}, {int64(2), int64(2)}})
		// One insert received each way, and no echo counted as a conflict.
		wantRows(t, ss, "SELECT INSERT_SUCCESS_COUNT, INSERT_FAILURE_COUNT FROM V$REPRECEIVER", [][]Value{{int64(1), int64(0)}})
	}
}

func TestSessionReplicationNoneIsNotReplicated(t *testing.T) {
	p := newPair(t, 0)
	mustExec(t, p.sa, "ALTER REPLICATION REP1 START")
	mustExec(t, p.sa, "ALTER SESSION SET REPLICATION = NONE")
	mustExec(t, p.sa, "INSERT INTO T1 VALUES (1, 1)")
	mustExec(t, p.sa, "ALTER SESSION SET REPLICATION = DEFAULT")
	mustExec(t, p.sa, "INSERT INTO T1 VALUES (2, 2)")
	mustExec(t, p.sa, "ALTER REPLICATION REP1 FLUSH")
	wantRows(t, p.sb, "SELECT * FROM T1", [][]Value{{int64(2), int64(2)}})
}

func TestConflictsOnApplyAreSkippedAndCounted(t *testing.T) {
	p := newPair(t, 0)
	mustExec(t, p.sb, "INSERT INTO T1 VALUES (1, 99)")
	mustExec(t, p.sa, "INSERT INTO T1 VALUES (1, 1), (2, 2)")
	mustExec(t, p.sa, "ALTER REPLICATION REP1 SYNC")
	mustExec(t, p.sb, "DELETE FROM T1 WHERE I1 = 1")
	mustExec(t, p.sa, "DELETE FROM T1 WHERE I1 = 1")
	mustExec(t, p.sa, "ALTER REPLICATION REP1 FLUSH")
	wantRows(t, p.sb, "SELECT * FROM T1", [][]Value{{int64(2), int64(2)}})
	wantRows(t, p.sb, "SELECT INSERT_SUCCESS_COUNT, INSERT_FAILURE_COUNT, DELETE_SUCCESS_COUNT, DELETE_FAILURE_COUNT FROM V$REPRECEIVER",
		[][]Value{{int64(1), int64(1), int64(0), int64(1)}})
}

func TestPeerDownKeepsChangesAndCatchesUpAfterRestart(t *testing.T) {
	dirB := t.TempDir()
	p := newPairWith(t, Options{}, Options{DataDir: dirB}, "I2 INTEGER")
	mustExec(t, p.sa, "ALTER REPLICATION REP1 START")
	mustExec(t, p.sa, "INSERT INTO T1 VALUES (1, 1)")
	mustExec(t, p.sa, "ALTER REPLICATION REP1 FLUSH")
	p.b.Crash()
	for i := 2; i <= 4; i++ {
		mustExec(t, p.sa, fmt.Sprintf("INSERT INTO T1 VALUES (%d, %d)", i, i))
	}
	eventually(t, "the sender to notice the peer is down", func() bool {
		return reflect.DeepEqual(rows(t, p.sa, "SELECT STATUS FROM V$REPSENDER"), [][]Value{{int64(2)}})
	})
	// Three records of 54 bytes (docs/altisim.md, "Log size and log files").
	wantRows(t, p.sa, "SELECT REP_LAST_SN - REP_SN, REP_GAP, REP_GAP_SIZE FROM V$REPGAP", [][]Value{{int64(3), int64(1), int64(3 * 54)}})
	b2 := p.add(t, "host-b", Options{DataDir: dirB})
	sb2 := connect(t, b2, false)
	mustExec(t, p.sa, "ALTER REPLICATION REP1 FLUSH")
	wantRows(t, sb2, "SELECT I1 FROM T1", [][]Value{{int64(1)}, {int64(2)}, {int64(3)}, {int64(4)}})
}

func TestConcurrentSessionsAndSendersAreRaceFree(t *testing.T) {
	p := newPair(t, 5*time.Millisecond)
	mustExec(t, p.sa, "ALTER REPLICATION REP1 START")
	mustExec(t, p.sb, "ALTER REPLICATION REP1 START")
	const writers, perWriter = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, 2*writers+2)
	for w := 0; w < writers; w++ {
		for _, srv := range []*Server{p.a, p.b} {
			wg.Add(1)
			go func(w int, srv *Server) {
				defer wg.Done()
				ss, err := srv.Connect(context.Background(), ConnectOptions{User: "SYS", Password: "manager"})
				if err != nil {
					errs <- err
					return
				}
				defer ss.Close()
				base := w * 1000
				if srv == p.b {
					base += 100000
				}
				for i := 0; i < perWriter; i++ {
					if _, err := ss.Exec(context.Background(), fmt.Sprintf("INSERT INTO T1 VALUES (%d, %d)", base+i, i)); err != nil {
						errs <- err
						return
					}
				}
			}(w, srv)
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		ss, err := p.a.Connect(context.Background(), ConnectOptions{User: "SYS", Password: "manager"})
		if err != nil {
			errs <- err
			return
		}
		defer ss.Close()
		for i := 0; i < 20; i++ {
			for _, q := range []string{"SELECT * FROM V$REPSENDER", "SELECT * FROM V$REPGAP", "SELECT * FROM V$REPRECEIVER", "ALTER REPLICATION REP1 FLUSH"} {
				if _, err := ss.Exec(context.Background(), q); err != nil {
					errs <- err
					return
				}
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	mustExec(t, p.sa, "ALTER REPLICATION REP1 FLUSH ALL")
	mustExec(t, p.sb, "ALTER REPLICATION REP1 FLUSH ALL")
	want := [][]Value{{int64(2 * writers * perWriter)}}
	wantRows(t, p.sa, "SELECT COUNT(*) FROM T1", want)
	wantRows(t, p.sb, "SELECT COUNT(*) FROM T1", want)
}

func TestStartedReplicationAutoStartsAfterCrash(t *testing.T) {
	dirA := t.TempDir()
	p := newPairWith(t, Options{DataDir: dirA}, Options{}, "I2 VARCHAR(5)")
	mustExec(t, p.sa, "ALTER REPLICATION REP1 START")
	p.net.setDown("host-b", true)
	mustExec(t, p.sa, "INSERT INTO T1 VALUES (1, 'x')")
	p.a.Crash()
	p.net.setDown("host-b", false)
	a2 := p.add(t, "host-a", Options{DataDir: dirA})
	sa2 := connect(t, a2, false)
	wantRows(t, sa2, "SELECT IS_STARTED FROM SYS_REPLICATIONS_", [][]Value{{int64(1)}})
	mustExec(t, sa2, "ALTER REPLICATION REP1 FLUSH")
	wantRows(t, p.sb, "SELECT * FROM T1", [][]Value{{int64(1), "x"}})
	// Stopped before a clean shutdown: stays stopped.
	mustExec(t, sa2, "ALTER REPLICATION REP1 STOP")
	if err := a2.Close(); err != nil {
		t.Fatal(err)
	}
	a3 := p.add(t, "host-a", Options{DataDir: dirA})
	wantRows(t, connect(t, a3, false), "SELECT * FROM V$REPSENDER", nil)
}

func TestReceiverExistsWhileThePeersSenderRuns(t *testing.T) {
	p := newPair(t, 0)
	receivers := func() [][]Value { return rows(t, p.sb, "SELECT REP_NAME, PEER_IP FROM V$REPRECEIVER") }
	wantRows(t, p.sb, "SELECT * FROM V$REPRECEIVER", nil)
	mustExec(t, p.sa, "ALTER REPLICATION REP1 START")
	if got := receivers(); !reflect.DeepEqual(got, [][]Value{{"REP1", "host-a"}}) {
		t.Fatalf("receivers on B after START on A = %v", got)
	}
	mustExec(t, p.sa, "ALTER REPLICATION REP1 STOP")
	if got := receivers(); got != nil {
		t.Fatalf("receivers on B after STOP on A = %v", got)
	}
	mustExec(t, p.sa, "ALTER REPLICATION REP1 START")
	p.a.Crash() // no goodbye: B notices the silence
	eventually(t, "the receiver of a crashed sender to go away", func() bool { return receivers() == nil })
}

func benchServer(b *testing.B, dir string) *Session {
	b.Helper()
	s, err := NewServer(Options{Name: "bench", DataDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	ss, err := s.Connect(context.Background(), ConnectOptions{User: "SYS", Password: "manager"})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := ss.Exec(context.Background(), "CREATE TABLE T1 (I1 INTEGER PRIMARY KEY, I2 INTEGER)"); err != nil {
		b.Fatal(err)
	}
	return ss
}

// BenchmarkInsert measures one autocommitted INSERT, in memory and with a
// data directory (one fsync per statement).
func BenchmarkInsert(b *testing.B) {
	for _, bc := range []struct {
		name string
		dir  func() string
	}{{"memory", func() string { return "" }}, {"datadir", b.TempDir}} {
		b.Run(bc.name, func(b *testing.B) {
			ss := benchServer(b, bc.dir())
			for i := 0; b.Loop(); i++ {
				if _, err := ss.Exec(context.Background(), fmt.Sprintf("INSERT INTO T1 VALUES (%d, %d)", i, i)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReplicatedInsertAndFlush measures an INSERT on A followed by a
// FLUSH that waits until B has applied it (no lag).
func BenchmarkReplicatedInsertAndFlush(b *testing.B) {
	n := newTestNet()
	var sess []*Session
	for _, x := range [][2]string{{"host-a", "host-b"}, {"host-b", "host-a"}} {
		s, err := NewServer(Options{Name: x[0], ReplicationPort: 20301, Transport: n})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		n.servers[x[0]] = s
		ss, _ := s.Connect(context.Background(), ConnectOptions{User: "SYS", Password: "manager"})
		for _, q := range []string{"CREATE TABLE T1 (I1 INTEGER PRIMARY KEY, I2 INTEGER)",
			"CREATE REPLICATION REP1 WITH '" + x[1] + "', 20301 FROM SYS.T1 TO SYS.T1"} {
			if _, err := ss.Exec(context.Background(), q); err != nil {
				b.Fatal(err)
			}
		}
		sess = append(sess, ss)
	}
	if _, err := sess[0].Exec(context.Background(), "ALTER REPLICATION REP1 START"); err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		if _, err := sess[0].Exec(context.Background(), fmt.Sprintf("INSERT INTO T1 VALUES (%d, %d)", i, i)); err != nil {
			b.Fatal(err)
		}
		if _, err := sess[0].Exec(context.Background(), "ALTER REPLICATION REP1 FLUSH"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestBigintValuesKeepTheirPrecisionAcrossReplication(t *testing.T) {
	p := newPair(t, 0)
	for _, ss := range []*Session{p.sa, p.sb} {
		mustExec(t, ss, "CREATE TABLE B (K BIGINT PRIMARY KEY, V VARCHAR(20))")
		mustExec(t, ss, "CREATE REPLICATION REPB WITH '"+map[*Session]string{p.sa: "host-b", p.sb: "host-a"}[ss]+"', 20301 FROM SYS.B TO SYS.B")
	}
	mustExec(t, p.sa, "INSERT INTO B VALUES (9223372036854775807, '123')")
	mustExec(t, p.sa, "ALTER REPLICATION REPB SYNC")
	mustExec(t, p.sa, "UPDATE B SET V = '9007199254740993' WHERE K = 9223372036854775807")
	mustExec(t, p.sa, "ALTER REPLICATION REPB FLUSH")
	wantRows(t, p.sb, "SELECT * FROM B", [][]Value{{int64(9223372036854775807), "9007199254740993"}})
}

// TestReceiveRefusesAMalformedApplyWhole: an apply with an unknown record
// op is refused before any of its records changes a row, since rows changed
// by a receiver must also reach the log and the data directory.
func TestReceiveRefusesAMalformedApplyWhole(t *testing.T) {
	p := newPair(t, 0)
	ctx := context.Background()
	if _, err := p.b.Receive(ctx, &ReplMessage{Kind: "handshake", Replication: "REP1", From: "host-a", Items: []HandshakeItem{{Table: "SYS.T1", SenderTable: "SYS.T1"}}}); err != nil {
		t.Fatal(err)
	}
	reply, err := p.b.Receive(ctx, &ReplMessage{Kind: "apply", Replication: "REP1", From: "host-a", Records: []ReplRecord{
		{LSN: 1, Table: "SYS.T1", Op: "I", Row: []any{"1", "1"}},
		{LSN: 2, Table: "SYS.T1", Op: "X"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if reply.Error == nil || reply.Error.Code != 0x6100D {
		t.Fatalf("reply error = %v, want ERR-6100D", reply.Error)
	}
	wantRows(t, p.sb, "SELECT COUNT(*) FROM T1", [][]Value{{int64(0)}})
}

// TestAddAndDropTableOnlyWhenStoppedAndAtomic: ALTER REPLICATION ADD/DROP
// TABLE only while stopped (Altibase Replication Manual, "ALTER REPLICATION";
// ERR-610FE); a statement naming one unacceptable table changes no item.
func TestAddAndDropTableOnlyWhenStoppedAndAtomic(t *testing.T) {
	p := newPair(t, 0)
	for _, ss := range []*Session{p.sa, p.sb} {
		mustExec(t, ss, "CREATE TABLE T2 (I1 INTEGER PRIMARY KEY)")
	}
	items := func() [][]Value {
		return rows(t, p.sa, "SELECT LOCAL_TABLE_NAME FROM SYS_REPL_ITEMS_ ORDER BY LOCAL_TABLE_NAME")
	}
	mustExec(t, p.sa, "ALTER REPLICATION REP1 START")
	_, err := p.sa.Exec(context.Background(), "ALTER REPLICATION REP1 ADD TABLE FROM SYS.T2 TO SYS.T2")
	wantCode(t, err, 0x610FE)
	mustExec(t, p.sa, "ALTER REPLICATION REP1 STOP")
	_, err = p.sa.Exec(context.Background(), "ALTER REPLICATION REP1 ADD TABLE FROM SYS.T2 TO SYS.T2, FROM SYS.NOPE TO SYS.NOPE")
	wantCode(t, err, 0x31031)
	if got := items(); !reflect.DeepEqual(got, [][]Value{{"T1"}}) {
		t.Fatalf("items after a failed ADD TABLE = %v, want only T1", got)
	}
	mustExec(t, p.sa, "ALTER REPLICATION REP1 ADD TABLE FROM SYS.T2 TO SYS.T2")
	if got := items(); !reflect.DeepEqual(got, [][]Value{{"T1"}, {"T2"}}) {
		t.Fatalf("items after ADD TABLE = %v", got)
	}
	mustExec(t, p.sa, "ALTER REPLICATION REP1 DROP TABLE FROM SYS.T1 TO SYS.T1")
	if got := items(); !reflect.DeepEqual(got, [][]Value{{"T2"}}) {
		t.Fatalf("items after DROP TABLE = %v", got)
	}
}
