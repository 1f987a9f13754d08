package altisim

import (
	"reflect"
	"testing"
)

// TestParseReplicationStatements covers every form of the replication
// statements (Altibase Replication Manual, "CREATE REPLICATION", "ALTER
// REPLICATION" and "DROP REPLICATION").
func TestParseReplicationStatements(t *testing.T) {
	tests := []struct {
		sql  string
		want any
	}{
		{"CREATE REPLICATION AKU_REP_01 WITH 'sts-1.svc', 20301 FROM SYS.T1 TO SYS.T1",
			&createReplStmt{name: "AKU_REP_01", mode: "LAZY", hosts: []replHost{{"sts-1.svc", 20301}},
				items: []replItem{{"SYS", "T1", "", "SYS", "T1", ""}}}},
		{"create eager replication r as slave options recovery gapless with 'a', 1 using tcp, 'b', 2 from sys.t2 partition p1 to sys.t2 partition p1, from u.x to v.y;",
			&createReplStmt{name: "R", mode: "EAGER", role: "SLAVE", options: []string{"RECOVERY", "GAPLESS"},
				hosts: []replHost{{"a", 1}, {"b", 2}},
				items: []replItem{{"SYS", "T2", "P1", "SYS", "T2", "P1"}, {"U", "X", "", "V", "Y", ""}}}},
		{"ALTER REPLICATION R START", &alterReplStmt{name: "R", action: "START", parallel: 1, wait: -1}},
		{"ALTER REPLICATION R START RETRY", &alterReplStmt{name: "R", action: "START", retry: true, parallel: 1, wait: -1}},
		{"ALTER REPLICATION R QUICKSTART RETRY", &alterReplStmt{name: "R", action: "QUICKSTART", retry: true, parallel: 1, wait: -1}},
		{"ALTER REPLICATION R STOP", &alterReplStmt{name: "R", action: "STOP", parallel: 1, wait: -1}},
		{"ALTER REPLICATION R RESET", &alterReplStmt{name: "R", action: "RESET", parallel: 1, wait: -1}},
		{"ALTER REPLICATION R SYNC PARALLEL 4", &alterReplStmt{name: "R", action: "SYNC", parallel: 4, wait: -1}},
		{"ALTER REPLICATION R SYNC ONLY TABLE SYS.T1, SYS.T2 PARTITION P1",
			&alterReplStmt{name: "R", action: "SYNC", only: true, parallel: 1, wait: -1,
				tables: []replItem{{localUser: "SYS", localTable: "T1"}, {localUser: "SYS", localTable: "T2", localPart: "P1"}}}},
		{"ALTER REPLICATION R FLUSH", &alterReplStmt{name: "R", action: "FLUSH", parallel: 1, wait: -1}},
		{"ALTER REPLICATION R FLUSH ALL", &alterReplStmt{name: "R", action: "FLUSH", all: true, parallel: 1, wait: -1}},
		{"ALTER REPLICATION R FLUSH WAIT 300", &alterReplStmt{name: "R", action: "FLUSH", parallel: 1, wait: 300}},
		{"ALTER REPLICATION R FLUSH ALL WAIT 5", &alterReplStmt{name: "R", action: "FLUSH", all: true, parallel: 1, wait: 5}},
		{"ALTER REPLICATION R ADD TABLE FROM SYS.T3 TO SYS.T3",
			&alterReplStmt{name: "R", action: "ADD TABLE", parallel: 1, wait: -1, tables: []replItem{{"SYS", "T3", "", "SYS", "T3", ""}}}},
		{"DROP REPLICATION R;", &dropReplStmt{"R"}},
		{"ALTER SYSTEM SET REPLICATION_DDL_ENABLE = 1", &setPropStmt{system: true, name: "REPLICATION_DDL_ENABLE", num: 1, isNum: true}},
		{"ALTER SESSION SET REPLICATION = DEFAULT", &setPropStmt{name: "REPLICATION", word: "DEFAULT"}},
		{"TRUNCATE TABLE SYS.T1", &truncateTableStmt{name: qname{"SYS", "T1"}}},
		{"ALTER TABLE SYS.T2 TRUNCATE PARTITION P1", &truncateTableStmt{name: qname{"SYS", "T2"}, part: "P1"}},
		{"create table t2 (i1 integer primary key) partition by range (i1) (partition p1 values less than (-1) tablespace tbs1, partition p2 values default)",
			&createTableStmt{name: qname{"", "T2"}, cols: []colDef{{name: "I1", typ: "INTEGER", pk: true}},
				part: &partitionClause{method: "RANGE", cols: []string{"I1"}, parts: []partitionDef{{name: "P1", lessThan: []Value{int64(-1)}}, {name: "P2", dflt: true}}}}},
		{"CREATE TABLE T2 (S CHAR(2)) PARTITION BY LIST (S) (PARTITION P1 VALUES ('a', 'b'), PARTITION P2 VALUES DEFAULT)",
			&createTableStmt{name: qname{"", "T2"}, cols: []colDef{{name: "S", typ: "CHAR", size: 2}},
				part: &partitionClause{method: "LIST", cols: []string{"S"}, parts: []partitionDef{{name: "P1", values: []Value{"a", "b"}}, {name: "P2", dflt: true}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.sql, func(t *testing.T) {
			got, err := parse(tt.sql)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("parse:\n got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ sql, want string }{
		{"ALTER REPLICATION R JUMP", "ERR-31001 : SQL syntax error\nline 1: unsupported ALTER REPLICATION action JUMP\nALTER REPLICATION R JUMP\n                        ^"},
		{"SELECT * FROM T1 WHERE", "ERR-31001 : SQL syntax error\nline 1: expression expected\nSELECT * FROM T1 WHERE\n                      ^"},
		{"INSERT INTO T1 VALUES ('abc)", "ERR-31001 : SQL syntax error\nline 1: unterminated string literal\nINSERT INTO T1 VALUES ('abc)\n                       ^"},
		{"CREATE REPLICATION R WITH 'h', 1 FROM T1 TO T1", "ERR-31001 : SQL syntax error\nline 1: user.table expected\nCREATE REPLICATION R WITH 'h', 1 FROM T1 TO T1\n                                      ^"},
		{"CREATE REPLICATION R WITH 'h', 1 FROM S.T PARTITION P TO S.T", "ERR-31001 : SQL syntax error\nline 1: both sides of an item name a partition, or neither does\nCREATE REPLICATION R WITH 'h', 1 FROM S.T PARTITION P TO S.T\n                                                         ^"},
		{"ALTER TABLE T DROP PARTITION P", "ERR-31001 : SQL syntax error\nline 1: unsupported ALTER TABLE action: only TRUNCATE PARTITION is simulated\nALTER TABLE T DROP PARTITION P\n              ^"},
		{"SELECT 1; SELECT 2", "ERR-31001 : SQL syntax error\nline 1: unexpected \"SELECT\" after the end of the statement\nSELECT 1; SELECT 2\n          ^"},
	}
	for _, tt := range tests {
		t.Run(tt.sql, func(t *testing.T) {
			_, err := parse(tt.sql)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error:\n got %v\nwant %s", err, tt.want)
			}
		})
	}
}

// FuzzParse checks that no input makes the lexer or parser panic, and that
// every error is an Altibase syntax error.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"CREATE REPLICATION R WITH 'h', 1 FROM SYS.T1 TO SYS.T1",
		"SELECT COUNT(*) FROM V$REPGAP WHERE REP_NAME = 'A''B' AND (X > -1 OR Y IS NOT NULL) ORDER BY X DESC",
		"UPDATE T SET A = A + 1, B = 'x' WHERE C <> 2",
		"ALTER REPLICATION R FLUSH ALL WAIT 3;",
		`CREATE TABLE "t" (a INT PRIMARY KEY, b VARCHAR(3) NOT NULL)`,
		"CREATE TABLE T (A INT, S CHAR(2)) PARTITION BY RANGE (A, S) (PARTITION P1 VALUES LESS THAN (-1, 'x') TABLESPACE X, PARTITION P2 VALUES DEFAULT)",
		"CREATE TABLE T (A INT) PARTITION BY LIST (A) (PARTITION P1 VALUES (1, 2), PARTITION P2 VALUES DEFAULT)",
		"CREATE TABLE T (A INT) PARTITION BY HASH (A) (PARTITION P1, PARTITION P2)",
		"ALTER TABLE U.T TRUNCATE PARTITION P1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		_, err := parse(sql)
		if err != nil {
			if e, ok := err.(*Error); !ok || e.Code != 0x31001 {
				t.Fatalf("parse(%q): %v is not ERR-31001", sql, err)
			}
		}
	})
}
