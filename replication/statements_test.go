package replication

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aku-project/aku/conf"
)

func TestBuilders(t *testing.T) {
	items := []conf.Item{
		{User: "SYS", Table: "T1"},
		{User: "APP", Table: "ORDERS", Partition: "P2024"},
	}
	type build func() (Statement, error)
	tests := []struct {
		name  string
		build build
		want  string
	}{
		{"create", func() (Statement, error) {
			return CreateReplication("AKU_REP_01", "altibase-sts-1.altibase-svc", 20301, items)
		}, "CREATE REPLICATION AKU_REP_01 WITH 'altibase-sts-1.altibase-svc', 20301 FROM SYS.T1 TO SYS.T1, FROM APP.ORDERS PARTITION P2024 TO APP.ORDERS PARTITION P2024"},
		{"create one item", func() (Statement, error) {
			return CreateReplication("R_12", "10.0.0.2", 20301, items[:1])
		}, "CREATE REPLICATION R_12 WITH '10.0.0.2', 20301 FROM SYS.T1 TO SYS.T1"},
		{"start", func() (Statement, error) { return StartStmt("AKU_REP_01") }, "ALTER REPLICATION AKU_REP_01 START"},
		{"stop", func() (Statement, error) { return StopStmt("AKU_REP_01") }, "ALTER REPLICATION AKU_REP_01 STOP"},
		{"reset", func() (Statement, error) { return ResetStmt("AKU_REP_01") }, "ALTER REPLICATION AKU_REP_01 RESET"},
		{"drop", func() (Statement, error) { return DropStmt("AKU_REP_01") }, "DROP REPLICATION AKU_REP_01"},
		{"sync 1", func() (Statement, error) { return SyncStmt("AKU_REP_01", 1) }, "ALTER REPLICATION AKU_REP_01 SYNC PARALLEL 1"},
		{"sync 8", func() (Statement, error) { return SyncStmt("AKU_REP_01", 8) }, "ALTER REPLICATION AKU_REP_01 SYNC PARALLEL 8"},
		{"flush all", func() (Statement, error) { return FlushStmt("AKU_REP_01", 0) }, "ALTER REPLICATION AKU_REP_01 FLUSH ALL"},
		{"flush wait", func() (Statement, error) { return FlushStmt("AKU_REP_01", 300*time.Second) }, "ALTER REPLICATION AKU_REP_01 FLUSH WAIT 300"},
		{"flush wait rounds up", func() (Statement, error) { return FlushStmt("AKU_REP_01", 1500*time.Millisecond) }, "ALTER REPLICATION AKU_REP_01 FLUSH WAIT 2"},
		{"truncate table", func() (Statement, error) { return TruncateStmt(items[0]) }, "TRUNCATE TABLE SYS.T1"},
		{"truncate partition", func() (Statement, error) { return TruncateStmt(items[1]) }, "ALTER TABLE APP.ORDERS TRUNCATE PARTITION P2024"},
		{"set system", func() (Statement, error) { return SetSystem("REPLICATION_DDL_ENABLE", 1) }, "ALTER SYSTEM SET REPLICATION_DDL_ENABLE = 1"},
		{"admin mode", func() (Statement, error) { return SetSystem("ADMIN_MODE", 0) }, "ALTER SYSTEM SET ADMIN_MODE = 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.build()
			if err != nil {
				t.Fatal(err)
			}
			if got.SQL != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestBuildersRefuse(t *testing.T) {
	ok := []conf.Item{{User: "SYS", Table: "T1"}}
	long := strings.Repeat("A", 41)
	tests := []struct {
		name    string
		build   func() (Statement, error)
		want    string
		invalid bool // wraps ErrInvalidName
	}{
		{"name with quote", func() (Statement, error) { return StartStmt("R'; DROP") }, `invalid name: replication name: name "R'; DROP" contains '\'': names may contain only letters, digits, '_' and '$'`, true},
		{"name with space", func() (Statement, error) { return DropStmt("R 1") }, `invalid name: replication name: name "R 1" contains ' ': names may contain only letters, digits, '_' and '$'`, true},
		{"name starting with a digit", func() (Statement, error) { return StopStmt("1R") }, `invalid name: replication name: name "1R" must start with a letter or '_'`, true},
		{"empty name", func() (Statement, error) { return ResetStmt("") }, `invalid name: replication name: empty name`, true},
		{"reserved word", func() (Statement, error) { return DropStmt("TABLE") }, `invalid name: replication name: name "TABLE" is an Altibase reserved word`, true},
		{"name over 40 bytes", func() (Statement, error) { return StartStmt(long) }, `invalid name: replication name "` + long + `" is longer than 40 bytes`, true},
		{"host with quote", func() (Statement, error) { return CreateReplication("R", "h'--", 20301, ok) }, `invalid name: host "h'--" is not a host name`, true},
		{"host with space", func() (Statement, error) { return CreateReplication("R", "a b", 20301, ok) }, `invalid name: host "a b" is not a host name`, true},
		{"port 0", func() (Statement, error) { return CreateReplication("R", "h", 0, ok) }, `invalid name: port 0 of h is out of range`, true},
		{"no items", func() (Statement, error) { return CreateReplication("R", "h", 20301, nil) }, `replication R has no items`, false},
		{"bad table", func() (Statement, error) {
			return CreateReplication("R", "h", 20301, []conf.Item{{User: "SYS", Table: "T;1"}})
		}, `invalid name: table: name "T;1" contains ';': names may contain only letters, digits, '_' and '$'`, true},
		{"bad user", func() (Statement, error) { return TruncateStmt(conf.Item{User: "a.b", Table: "T"}) }, `invalid name: user: name "a.b" contains '.': names may contain only letters, digits, '_' and '$'`, true},
		{"bad partition", func() (Statement, error) {
			return TruncateStmt(conf.Item{User: "U", Table: "T", Partition: "P)"})
		}, `invalid name: partition: name "P)" contains ')': names may contain only letters, digits, '_' and '$'`, true},
		{"sync 0", func() (Statement, error) { return SyncStmt("R", 0) }, `sync parallel count 0 of R is not in 1..100`, false},
		{"sync 101", func() (Statement, error) { return SyncStmt("R", 101) }, `sync parallel count 101 of R is not in 1..100`, false},
		{"negative flush", func() (Statement, error) { return FlushStmt("R", -time.Second) }, `flush wait -1s of R is negative`, false},
		{"bad property", func() (Statement, error) { return SetSystem("A=1,B", 1) }, `invalid name: property: name "A=1,B" contains '=': names may contain only letters, digits, '_' and '$'`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.build()
			if err == nil {
				t.Fatalf("built %q, want error", got)
			}
			if err.Error() != tt.want {
				t.Errorf("error\n%s\nwant\n%s", err, tt.want)
			}
			if errors.Is(err, ErrInvalidName) != tt.invalid {
				t.Errorf("errors.Is(ErrInvalidName) = %v, want %v", !tt.invalid, tt.invalid)
			}
		})
	}
}

func FuzzCheckIdent(f *testing.F) {
	for _, s := range []string{"AKU_REP_01", "a$b#c", "1x", "x y", "x'y", "", "_"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		stmt, err := StartStmt(s)
		if err != nil {
			return
		}
		// Whatever was accepted can only be a single bare word.
		if stmt.SQL != "ALTER REPLICATION "+s+" START" || strings.ContainsAny(s, " '\";,.()-\t\n\r{}?") {
			t.Fatalf("accepted %q as %q", s, stmt)
		}
	})
}
