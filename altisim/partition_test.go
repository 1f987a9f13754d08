package altisim

import (
	"context"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rangeT2 is the partitioned table of the tests: aku's sample replicates
// SYS.T2 PARTITION P1 (docs/altisim.md, "Partitions").
const rangeT2 = "CREATE TABLE T2 (I1 INTEGER PRIMARY KEY, V VARCHAR(10)) PARTITION BY RANGE (I1) " +
	"(PARTITION P1 VALUES LESS THAN (100), PARTITION P2 VALUES LESS THAN (200), PARTITION P_DEF VALUES DEFAULT)"

func TestCreatePartitionedTableRules(t *testing.T) {
	cols := "CREATE TABLE T (I1 INTEGER PRIMARY KEY, I2 INTEGER, S VARCHAR(8)) "
	tests := []struct {
		name string
		sql  string
		code uint32 // 0: accepted
	}{
		{"range with a default partition", rangeT2, 0},
		{"range on two key columns", cols + "PARTITION BY RANGE (I1, I2) (PARTITION P1 VALUES LESS THAN (10, 5), PARTITION P2 VALUES DEFAULT) TABLESPACE SYS_TBS_DISK_DATA", 0},
		{"list", cols + "PARTITION BY LIST (S) (PARTITION P1 VALUES ('a', 'b'), PARTITION P2 VALUES ('c'), PARTITION P3 VALUES DEFAULT)", 0},
		{"list of the default partition only", cols + "PARTITION BY LIST (I2) (PARTITION P1 VALUES DEFAULT)", 0},
		{"hash", cols + "PARTITION BY HASH (I1) (PARTITION P1, PARTITION P2 TABLESPACE TBS1)", 0},
		{"range without a default partition is ERR-31263", cols + "PARTITION BY RANGE (I1) (PARTITION P1 VALUES LESS THAN (10))", 0x31263},
		{"list with two default partitions is ERR-31263", cols + "PARTITION BY LIST (I1) (PARTITION P1 VALUES DEFAULT, PARTITION P2 VALUES DEFAULT)", 0x31263},
		{"hash with a default partition is ERR-31267", cols + "PARTITION BY HASH (I1) (PARTITION P1, PARTITION P2 VALUES DEFAULT)", 0x31267},
		{"list on two key columns is ERR-31262", cols + "PARTITION BY LIST (I1, I2) (PARTITION P1 VALUES DEFAULT)", 0x31262},
		{"unknown key column is ERR-31261", cols + "PARTITION BY RANGE (NOPE) (PARTITION P1 VALUES DEFAULT)", 0x31261},
		{"duplicate key column is ERR-3125F", cols + "PARTITION BY RANGE (I1, I1) (PARTITION P1 VALUES DEFAULT)", 0x3125F},
		{"duplicate partition name is ERR-3125D", cols + "PARTITION BY RANGE (I1) (PARTITION P1 VALUES LESS THAN (10), PARTITION P1 VALUES DEFAULT)", 0x3125D},
		{"duplicate range bound is ERR-31266", cols + "PARTITION BY RANGE (I1) (PARTITION P1 VALUES LESS THAN (10), PARTITION P2 VALUES LESS THAN (10), PARTITION P3 VALUES DEFAULT)", 0x31266},
		{"a list value in two partitions is ERR-31266", cols + "PARTITION BY LIST (I1) (PARTITION P1 VALUES (1, 2), PARTITION P2 VALUES (2), PARTITION P3 VALUES DEFAULT)", 0x31266},
		{"a bound that is no value of the key column is ERR-31265", cols + "PARTITION BY RANGE (I1) (PARTITION P1 VALUES LESS THAN ('x'), PARTITION P2 VALUES DEFAULT)", 0x31265},
		{"a bound with more values than key columns is ERR-3125E", cols + "PARTITION BY RANGE (I1) (PARTITION P1 VALUES LESS THAN (1, 2), PARTITION P2 VALUES DEFAULT)", 0x3125E},
		{"list values in a range partitioned table are a syntax error", cols + "PARTITION BY RANGE (I1) (PARTITION P1 VALUES (1), PARTITION P2 VALUES DEFAULT)", 0x31001},
		{"a range bound in a list partitioned table is a syntax error", cols + "PARTITION BY LIST (I1) (PARTITION P1 VALUES LESS THAN (1), PARTITION P2 VALUES DEFAULT)", 0x31001},
		{"an unknown method is a syntax error", cols + "PARTITION BY ROUND (I1) (PARTITION P1 VALUES DEFAULT)", 0x31001},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ss := connect(t, newTestServer(t, Options{}), false)
			_, err := ss.Exec(context.Background(), tt.sql)
			if tt.code == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantCode(t, err, tt.code)
		})
	}
}

// partitionRows lists the keys of table T on ss by partition, as a
// TRUNCATE PARTITION of each partition in turn finds them.
func partitionRows(t *testing.T, ss *Session, table string, parts ...string) map[string][]Value {
	t.Helper()
	out := map[string][]Value{}
	before := keys(t, ss, table)
	for _, p := range parts {
		mustExec(t, ss, "ALTER TABLE "+table+" TRUNCATE PARTITION "+p)
		after := keys(t, ss, table)
		out[p] = minus(before, after)
		before = after
	}
	if len(before) != 0 {
		t.Fatalf("rows in no partition of %s: %v", table, before)
	}
	return out
}

func keys(t *testing.T, ss *Session, table string) []Value {
	t.Helper()
	var out []Value
	for _, r := range rows(t, ss, "SELECT I1 FROM "+table) {
		out = append(out, r[0])
	}
	return out
}

func minus(a, b []Value) []Value {
	var out []Value
	for _, x := range a {
		found := false
		for _, y := range b {
			found = found || x == y
		}
		if !found {
			out = append(out, x)
		}
	}
	return out
}

func TestRowsAreRoutedToTheirPartition(t *testing.T) {
	tests := []struct {
		name   string
		create string
		insert string
		want   map[string][]Value
	}{
		{"range: below the first bound, between bounds, above every bound",
			rangeT2, "INSERT INTO T2 VALUES (-5, 'a'), (99, 'b'), (100, 'c'), (199, 'd'), (200, 'e'), (1000, 'f')",
			map[string][]Value{"P1": {int64(-5), int64(99)}, "P2": {int64(100), int64(199)}, "P_DEF": {int64(200), int64(1000)}}},
		{"range bounds in any order of definition",
			"CREATE TABLE T2 (I1 INTEGER PRIMARY KEY) PARTITION BY RANGE (I1) (PARTITION HI VALUES LESS THAN (200), PARTITION D VALUES DEFAULT, PARTITION LO VALUES LESS THAN (100))",
			"INSERT INTO T2 VALUES (1), (150), (250)",
			map[string][]Value{"LO": {int64(1)}, "HI": {int64(150)}, "D": {int64(250)}}},
		{"range on two columns compares the second when the first is equal",
			"CREATE TABLE T2 (I1 INTEGER PRIMARY KEY, I2 INTEGER) PARTITION BY RANGE (I2, I1) (PARTITION P1 VALUES LESS THAN (10, 5), PARTITION P2 VALUES DEFAULT)",
			"INSERT INTO T2 VALUES (4, 10), (5, 10), (100, 9)",
			map[string][]Value{"P1": {int64(4), int64(100)}, "P2": {int64(5)}}},
		{"range: NULL keys go to the default partition",
			"CREATE TABLE T2 (I1 INTEGER PRIMARY KEY, I2 INTEGER) PARTITION BY RANGE (I2) (PARTITION P1 VALUES LESS THAN (10), PARTITION P2 VALUES DEFAULT)",
			"INSERT INTO T2 VALUES (1, 1), (2, NULL)",
			map[string][]Value{"P1": {int64(1)}, "P2": {int64(2)}}},
		{"list: listed values, and everything else in the default partition",
			"CREATE TABLE T2 (I1 INTEGER PRIMARY KEY, S CHAR(4)) PARTITION BY LIST (S) (PARTITION SEOUL VALUES ('SEL', 'ICN'), PARTITION BUSAN VALUES ('PUS'), PARTITION OTHER VALUES DEFAULT)",
			"INSERT INTO T2 VALUES (1, 'SEL'), (2, 'PUS'), (3, 'ICN'), (4, 'CJU'), (5, NULL)",
			map[string][]Value{"SEOUL": {int64(1), int64(3)}, "BUSAN": {int64(2)}, "OTHER": {int64(4), int64(5)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ss := connect(t, newTestServer(t, Options{}), false)
			mustExec(t, ss, tt.create)
			mustExec(t, ss, tt.insert)
			var parts []string
			for p := range tt.want {
				parts = append(parts, p)
			}
			if got := partitionRows(t, ss, "T2", parts...); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("rows by partition = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestHashPartitionsDivideTheRows: every row is in exactly one hash
// partition, the same one for the same key.
func TestHashPartitionsDivideTheRows(t *testing.T) {
	ss := connect(t, newTestServer(t, Options{}), false)
	mustExec(t, ss, "CREATE TABLE T2 (I1 INTEGER PRIMARY KEY) PARTITION BY HASH (I1) (PARTITION P1, PARTITION P2, PARTITION P3)")
	insert := "INSERT INTO T2 VALUES (0)"
	for i := 1; i < 60; i++ {
		insert += ", (" + strconv.Itoa(i) + ")"
	}
	mustExec(t, ss, insert)
	first := partitionRows(t, ss, "T2", "P1", "P2", "P3")
	for p, ks := range first {
		if len(ks) == 0 {
			t.Errorf("hash partition %s holds none of 60 keys", p)
		}
	}
	mustExec(t, ss, insert)
	if again := partitionRows(t, ss, "T2", "P1", "P2", "P3"); !reflect.DeepEqual(again, first) {
		t.Fatalf("the same keys went to other partitions: %v, then %v", first, again)
	}
}

// TestUpdateMovingARowToAnotherPartitionIsError3128A: row movement is
// disabled unless the table enables it, which the simulator does not model.
func TestUpdateMovingARowToAnotherPartitionIsError3128A(t *testing.T) {
	ss := connect(t, newTestServer(t, Options{}), false)
	mustExec(t, ss, rangeT2)
	mustExec(t, ss, "INSERT INTO T2 VALUES (1, 'a'), (2, 'b'), (150, 'c')")
	mustExec(t, ss, "UPDATE T2 SET I1 = I1 + 10 WHERE I1 < 100")
	_, err := ss.Exec(context.Background(), "UPDATE T2 SET I1 = I1 + 100")
	wantCode(t, err, 0x3128A)
	// The statement is atomic: no row changed.
	wantRows(t, ss, "SELECT I1, V FROM T2", [][]Value{{int64(11), "a"}, {int64(12), "b"}, {int64(150), "c"}})
}

func TestTruncatePartitionRules(t *testing.T) {
	ss := connect(t, newTestServer(t, Options{}), false)
	mustExec(t, ss, rangeT2)
	mustExec(t, ss, "CREATE TABLE T1 (I1 INTEGER PRIMARY KEY)")
	mustExec(t, ss, "INSERT INTO T2 VALUES (1, 'a'), (150, 'b'), (300, 'c')")
	tests := []codeCase{
		{"missing table is ERR-31031", "ALTER TABLE NOPE TRUNCATE PARTITION P1", 0x31031},
		{"non-partitioned table is ERR-31268", "ALTER TABLE T1 TRUNCATE PARTITION P1", 0x31268},
		{"unknown partition is ERR-3125B", "ALTER TABLE SYS.T2 TRUNCATE PARTITION P9", 0x3125B},
		{"another ALTER TABLE action is a syntax error", "ALTER TABLE T2 DROP PARTITION P1", 0x31001},
	}
	wantCodes(t, ss, tests)
	mustExec(t, ss, "ALTER TABLE SYS.T2 TRUNCATE PARTITION P2")
	wantRows(t, ss, "SELECT I1 FROM T2", [][]Value{{int64(1)}, {int64(300)}})
	// An empty partition truncates again without error.
	mustExec(t, ss, "alter table sys.t2 truncate partition p2")
	wantRows(t, ss, "SELECT I1 FROM T2", [][]Value{{int64(1)}, {int64(300)}})
}

// TestTruncatePartitionOfAReplicatedTableNeedsReplicationDDLEnable: a
// table one of whose partitions is a replication item is a replicated
// table, for its other partitions too.
func TestTruncatePartitionOfAReplicatedTableNeedsReplicationDDLEnable(t *testing.T) {
	ss := connect(t, newTestServer(t, Options{}), false)
	mustExec(t, ss, rangeT2)
	mustExec(t, ss, "INSERT INTO T2 VALUES (1, 'a'), (150, 'b')")
	mustExec(t, ss, "CREATE REPLICATION R1 WITH 'h', 1 FROM SYS.T2 PARTITION P1 TO SYS.T2 PARTITION P1")
	for _, p := range []string{"P1", "P2"} {
		_, err := ss.Exec(context.Background(), "ALTER TABLE SYS.T2 TRUNCATE PARTITION "+p)
		wantCode(t, err, 0x312C4)
	}
	mustExec(t, ss, "ALTER SYSTEM SET REPLICATION_DDL_ENABLE = 1")
	mustExec(t, ss, "ALTER TABLE SYS.T2 TRUNCATE PARTITION P1")
	wantRows(t, ss, "SELECT I1 FROM T2", [][]Value{{int64(150)}})
}

// TestPartitionsSurviveRestarts: the partitioning is kept with the table,
// and a TRUNCATE PARTITION is replayed, through the WAL (crash) and
// through the snapshot (the next start).
func TestPartitionsSurviveRestarts(t *testing.T) {
	dir := t.TempDir()
	s, err := NewServer(Options{Name: "host-a", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ss := connect(t, s, false)
	mustExec(t, ss, rangeT2)
	mustExec(t, ss, "INSERT INTO T2 VALUES (1, 'a'), (2, 'b'), (150, 'c'), (300, 'd')")
	mustExec(t, ss, "ALTER TABLE T2 TRUNCATE PARTITION P2")
	s.Crash()
	for i := 0; i < 2; i++ {
		s, err = NewServer(Options{Name: "host-a", DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		ss = connect(t, s, false)
		wantRows(t, ss, "SELECT I1 FROM T2", [][]Value{{int64(1)}, {int64(2)}, {int64(300)}})
		if i == 0 {
			s.Close()
		}
	}
	mustExec(t, ss, "INSERT INTO T2 VALUES (160, 'e')")
	if got := partitionRows(t, ss, "T2", "P1", "P2", "P_DEF"); !reflect.DeepEqual(got, map[string][]Value{
		"P1": {int64(1), int64(2)}, "P2": {int64(160)}, "P_DEF": {int64(300)}}) {
		t.Fatalf("rows by partition after two restarts = %v", got)
	}
	s.Close()
}

func TestCreateReplicationPartitionItemRules(t *testing.T) {
	ss := connect(t, newTestServer(t, Options{}), false)
	mustExec(t, ss, rangeT2)
	mustExec(t, ss, "CREATE TABLE T3 (I1 INTEGER PRIMARY KEY)")
	tests := []codeCase{
		{"unknown partition is ERR-6114F", "CREATE REPLICATION R1 WITH 'h', 1 FROM SYS.T2 PARTITION P9 TO SYS.T2 PARTITION P9", 0x6114F},
		{"a partition of a non-partitioned table is ERR-6114F", "CREATE REPLICATION R1 WITH 'h', 1 FROM SYS.T3 PARTITION P1 TO SYS.T3 PARTITION P1", 0x6114F},
		{"a partition to a table is a syntax error", "CREATE REPLICATION R1 WITH 'h', 1 FROM SYS.T2 PARTITION P1 TO SYS.T2", 0x31001},
		{"a table to a partition is a syntax error", "CREATE REPLICATION R1 WITH 'h', 1 FROM SYS.T2 TO SYS.T2 PARTITION P1", 0x31001},
	}
	wantCodes(t, ss, tests)
	mustExec(t, ss, "CREATE REPLICATION R1 WITH 'h', 1 FROM SYS.T2 PARTITION P1 TO SYS.T2 PARTITION P1, FROM SYS.T3 TO SYS.T3")
	wantRows(t, ss, "SELECT LOCAL_TABLE_NAME, LOCAL_PARTITION_NAME, REMOTE_PARTITION_NAME, IS_PARTITION, REPLICATION_UNIT FROM SYS_REPL_ITEMS_",
		[][]Value{{"T2", "P1", "P1", "Y", "P"}, {"T3", nil, nil, "N", "T"}})
}

// partitionItem is the sample's item: T2's partition P1.
const partitionItem = "FROM SYS.T2 PARTITION P1 TO SYS.T2 PARTITION P1"

// newPartitionPair is two servers with T2 as created by defA and defB and
// REP1 replicating T2's partition P1 toward each other.
func newPartitionPair(t *testing.T, defA, defB string) *pair {
	t.Helper()
	return newPairOf(t, Options{}, Options{}, []string{defA}, []string{defB}, partitionItem, partitionItem)
}

// TestPartitionItemReplicatesOnlyItsPartition: SYNC copies the rows of
// the partition only, changes to other partitions are not sent, and the
// peer's other partitions keep their own rows.
func TestPartitionItemReplicatesOnlyItsPartition(t *testing.T) {
	p := newPartitionPair(t, rangeT2, rangeT2)
	mustExec(t, p.sa, "INSERT INTO T2 VALUES (1, 'a1'), (2, 'a2'), (150, 'a150'), (300, 'a300')")
	mustExec(t, p.sb, "INSERT INTO T2 VALUES (160, 'b160'), (400, 'b400')")
	mustExec(t, p.sa, "ALTER REPLICATION REP1 SYNC")
	wantRows(t, p.sb, "SELECT I1, V FROM T2", [][]Value{{int64(1), "a1"}, {int64(2), "a2"}, {int64(160), "b160"}, {int64(400), "b400"}})
	wantRows(t, p.sb, "SELECT INSERT_SUCCESS_COUNT FROM V$REPRECEIVER", [][]Value{{int64(2)}})

	mustExec(t, p.sa, "INSERT INTO T2 VALUES (3, 'a3'), (151, 'a151')")
	mustExec(t, p.sa, "UPDATE T2 SET V = 'x' WHERE I1 = 1 OR I1 = 150")
	mustExec(t, p.sa, "DELETE FROM T2 WHERE I1 = 2 OR I1 = 300")
	mustExec(t, p.sa, "ALTER REPLICATION REP1 FLUSH")
	wantRows(t, p.sb, "SELECT I1, V FROM T2", [][]Value{{int64(1), "x"}, {int64(3), "a3"}, {int64(160), "b160"}, {int64(400), "b400"}})
	wantRows(t, p.sa, "SELECT I1, V FROM T2", [][]Value{{int64(1), "x"}, {int64(3), "a3"}, {int64(150), "x"}, {int64(151), "a151"}})
	// The log was read past the changes of other partitions: no gap is left.
	wantRows(t, p.sa, "SELECT REP_GAP FROM V$REPGAP", [][]Value{{int64(0)}})

	// The other direction too, once B's side runs.
	mustExec(t, p.sb, "ALTER REPLICATION REP1 START")
	mustExec(t, p.sb, "INSERT INTO T2 VALUES (4, 'b4'), (170, 'b170')")
	mustExec(t, p.sb, "ALTER REPLICATION REP1 FLUSH")
	wantRows(t, p.sa, "SELECT I1 FROM T2", [][]Value{{int64(1)}, {int64(3)}, {int64(4)}, {int64(150)}, {int64(151)}})
}

// TestSyncTableNamesTheItemsUnit: SYNC ... TABLE names an item as it was
// created, a table or one partition (ERR-6114E otherwise).
func TestSyncTableNamesTheItemsUnit(t *testing.T) {
	p := newPartitionPair(t, rangeT2, rangeT2)
	mustExec(t, p.sa, "INSERT INTO T2 VALUES (1, 'a'), (150, 'b')")
	_, err := p.sa.Exec(context.Background(), "ALTER REPLICATION REP1 SYNC TABLE SYS.T2")
	wantCode(t, err, 0x6114E)
	mustExec(t, p.sa, "ALTER REPLICATION REP1 SYNC ONLY TABLE SYS.T2 PARTITION P1")
	wantRows(t, p.sb, "SELECT I1 FROM T2", [][]Value{{int64(1)}})
}

// TestHandshakeComparesPartitions: START (and SYNC) fail the handshake,
// ERR-6100D with the receiver's reason, unless both sides replicate the
// same partition, partitioned by the same method and conditions.
func TestHandshakeComparesPartitions(t *testing.T) {
	tests := []struct {
		name     string
		peerT2   string
		ourR     string   // our REP1 item list; "" = the partition item
		peerR    string   // the peer's REP1 item list; "" = the partition item
		peerMore []string // statements on the peer before its REP1
		reason   string
	}{
		{"same partitioning", rangeT2, "", "", nil, ""},
		{"the other partitions may differ",
			"CREATE TABLE T2 (I1 INTEGER PRIMARY KEY, V VARCHAR(10)) PARTITION BY RANGE (I1) (PARTITION P1 VALUES LESS THAN (100), PARTITION Q VALUES DEFAULT)", "", "", nil, ""},
		{"another method",
			"CREATE TABLE T2 (I1 INTEGER PRIMARY KEY, V VARCHAR(10)) PARTITION BY LIST (I1) (PARTITION P1 VALUES (1, 2), PARTITION P2 VALUES DEFAULT)", "", "", nil,
			"The partition method of the replicated table does not match [SYS.T2(RANGE):SYS.T2(LIST)]."},
		{"another upper bound",
			"CREATE TABLE T2 (I1 INTEGER PRIMARY KEY, V VARCHAR(10)) PARTITION BY RANGE (I1) (PARTITION P1 VALUES LESS THAN (90), PARTITION P2 VALUES DEFAULT)", "", "", nil,
			"The partition condition of the replicated table does not match. [100:90]"},
		{"another lower bound",
			"CREATE TABLE T2 (I1 INTEGER PRIMARY KEY, V VARCHAR(10)) PARTITION BY RANGE (I1) (PARTITION P0 VALUES LESS THAN (10), PARTITION P1 VALUES LESS THAN (100), PARTITION P2 VALUES DEFAULT)", "", "", nil,
			"The partition condition of the replicated table does not match. [:10]"},
		{"the peer replicates the whole table",
			rangeT2, "", "FROM SYS.T2 TO SYS.T2", nil,
			"The partition name of the replicated table does not match [P1:]."},
		{"a partition to the peer's partition of another name and the same condition",
			"CREATE TABLE T2 (I1 INTEGER PRIMARY KEY, V VARCHAR(10)) PARTITION BY RANGE (I1) (PARTITION Q1 VALUES LESS THAN (100), PARTITION P2 VALUES DEFAULT)",
			"FROM SYS.T2 PARTITION P1 TO SYS.T2 PARTITION Q1", "FROM SYS.T2 PARTITION Q1 TO SYS.T2 PARTITION P1", nil, ""},
		{"the peer's table lacks the partition, and its object does not replicate it",
			"CREATE TABLE T2 (I1 INTEGER PRIMARY KEY, V VARCHAR(10)) PARTITION BY RANGE (I1) (PARTITION P0 VALUES LESS THAN (100), PARTITION P2 VALUES DEFAULT)",
			"", "FROM SYS.T3 TO SYS.T3", []string{"CREATE TABLE T3 (I1 INTEGER PRIMARY KEY)"},
			"Partition not found : P1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ours, theirs := partitionItem, partitionItem
			if tt.ourR != "" {
				ours = tt.ourR
			}
			if tt.peerR != "" {
				theirs = tt.peerR
			}
			p := newPairOf(t, Options{}, Options{}, []string{rangeT2}, append([]string{tt.peerT2}, tt.peerMore...), ours, theirs)
			for _, stmt := range []string{"ALTER REPLICATION REP1 SYNC", "ALTER REPLICATION REP1 START"} {
				_, err := p.sa.Exec(context.Background(), stmt)
				if tt.reason == "" {
					if err != nil {
						t.Fatalf("%s: %v", stmt, err)
					}
					break
				}
				wantCode(t, err, 0x6100D)
				if want := "(host-b:20301: " + tt.reason + ")"; !strings.HasSuffix(err.Error(), want) {
					t.Fatalf("%s: %v, want the reason %q", stmt, err, want)
				}
			}
		})
	}
}

// TestHandshakeComparesWholePartitionedTables: a whole partitioned table
// is replicated to a table with partitions of the same names and
// conditions, whatever their order of definition.
func TestHandshakeComparesWholePartitionedTables(t *testing.T) {
	tests := []struct {
		name   string
		peerT2 string
		reason string
	}{
		{"the same partitions in another order",
			"CREATE TABLE T2 (I1 INTEGER PRIMARY KEY, V VARCHAR(10)) PARTITION BY RANGE (I1) (PARTITION P_DEF VALUES DEFAULT, PARTITION P2 VALUES LESS THAN (200), PARTITION P1 VALUES LESS THAN (100))", ""},
		{"the peer lacks a partition",
			"CREATE TABLE T2 (I1 INTEGER PRIMARY KEY, V VARCHAR(10)) PARTITION BY RANGE (I1) (PARTITION P1 VALUES LESS THAN (100), PARTITION P_DEF VALUES DEFAULT)",
			"The partition name of the replicated table does not match [P2:]."},
		{"the peer has one more partition",
			"CREATE TABLE T2 (I1 INTEGER PRIMARY KEY, V VARCHAR(10)) PARTITION BY RANGE (I1) (PARTITION P1 VALUES LESS THAN (100), PARTITION P2 VALUES LESS THAN (200), PARTITION P3 VALUES LESS THAN (300), PARTITION P_DEF VALUES DEFAULT)",
			"The partition name of the replicated table does not match [:P3]."},
		{"the peer's table is not partitioned",
			"CREATE TABLE T2 (I1 INTEGER PRIMARY KEY, V VARCHAR(10))",
			"The partition method of the replicated table does not match [SYS.T2(RANGE):SYS.T2(NONE)]."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPairOf(t, Options{}, Options{}, []string{rangeT2}, []string{tt.peerT2}, "FROM SYS.T2 TO SYS.T2", "FROM SYS.T2 TO SYS.T2")
			mustExec(t, p.sa, "INSERT INTO T2 VALUES (1, 'a'), (150, 'b'), (300, 'c')")
			_, err := p.sa.Exec(context.Background(), "ALTER REPLICATION REP1 SYNC")
			if tt.reason == "" {
				if err != nil {
					t.Fatal(err)
				}
				wantRows(t, p.sb, "SELECT I1 FROM T2", [][]Value{{int64(1)}, {int64(150)}, {int64(300)}})
				return
			}
			wantCode(t, err, 0x6100D)
			if want := "(host-b:20301: " + tt.reason + ")"; !strings.HasSuffix(err.Error(), want) {
				t.Fatalf("SYNC: %v, want the reason %q", err, want)
			}
		})
	}
}

// TestHashPartitionItemNeedsTheSameOrder: for hash partitions the
// partition's position is compared (ERR-610D7's reason).
func TestHashPartitionItemNeedsTheSameOrder(t *testing.T) {
	p := newPartitionPair(t,
		"CREATE TABLE T2 (I1 INTEGER PRIMARY KEY) PARTITION BY HASH (I1) (PARTITION P1, PARTITION P2)",
		"CREATE TABLE T2 (I1 INTEGER PRIMARY KEY) PARTITION BY HASH (I1) (PARTITION P2, PARTITION P1)")
	_, err := p.sa.Exec(context.Background(), "ALTER REPLICATION REP1 START")
	wantCode(t, err, 0x6100D)
	if want := "The partition order of the replicated table does not match [SYS.T2(0):SYS.T2(1)].)"; !strings.HasSuffix(err.Error(), want) {
		t.Fatalf("START: %v, want the reason %q", err, want)
	}
}

// TestReplicatedPartitionRowsReachAPeerAfterItsRestart: the sender keeps
// the partition's unsent changes while the peer is down, and the partition
// of a deleted row is known from the log after the sender's own restart.
func TestReplicatedPartitionRowsReachAPeerAfterItsRestart(t *testing.T) {
	dir := t.TempDir()
	p := newPairOf(t, Options{DataDir: dir, ReplicationLag: time.Hour}, Options{}, []string{rangeT2}, []string{rangeT2}, partitionItem, partitionItem)
	mustExec(t, p.sa, "INSERT INTO T2 VALUES (1, 'a'), (2, 'b')")
	mustExec(t, p.sa, "ALTER REPLICATION REP1 SYNC")
	mustExec(t, p.sa, "DELETE FROM T2 WHERE I1 = 1")
	mustExec(t, p.sa, "INSERT INTO T2 VALUES (150, 'c')")
	p.a.Crash()
	a, err := NewServer(Options{Name: "host-a", DataDir: dir, ReplicationPort: 20301, Transport: p.net})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	p.net.mu.Lock()
	p.net.servers["host-a"] = a
	p.net.mu.Unlock()
	mustExec(t, connect(t, a, false), "ALTER REPLICATION REP1 FLUSH ALL")
	wantRows(t, p.sb, "SELECT I1 FROM T2", [][]Value{{int64(2)}})
}
