package replication_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/replication"
)

// mustExec runs statements that must succeed.
func mustExec(t *testing.T, s *replication.Session, stmts ...string) {
	t.Helper()
	for _, q := range stmts {
		if err := s.Exec(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
}

// build unwraps a builder's result: build(t)(replication.StartStmt(name)).
func build(t *testing.T) func(replication.Statement, error) string {
	return func(q replication.Statement, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return q.SQL
	}
}

func TestReplications(t *testing.T) {
	_, d := newCluster(t, replication.Policy{})
	s0 := connect(t, d, host0)
	s1 := connect(t, d, host1)
	items := []conf.Item{{User: "SYS", Table: "T1"}, {User: "SYS", Table: "T2"}}
	for _, s := range []*replication.Session{s0, s1} {
		mustExec(t, s,
			"CREATE TABLE SYS.T1 (ID INTEGER PRIMARY KEY, V VARCHAR(20))",
			"CREATE TABLE SYS.T2 (ID INTEGER PRIMARY KEY)")
	}
	ctx := context.Background()
	if got, err := s0.Replications(ctx); err != nil || len(got) != 0 {
		t.Fatalf("before: %v, %v; want none", got, err)
	}
	mustExec(t, s0,
		build(t)(replication.CreateReplication("AKU_REP_01", host1, 20301, items)),
		build(t)(replication.CreateReplication("AKU_REP_02", "altibase-sts-2.altibase-svc", 20301, items[:1])))
	mustExec(t, s1, build(t)(replication.CreateReplication("AKU_REP_01", host0, 20301, items)))

	got, err := s0.Replications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []replication.State{
		{Name: "AKU_REP_01", XSN: -1, ItemCount: 2, PeerHost: host1, PeerPort: 20301, Items: items},
		{Name: "AKU_REP_02", XSN: -1, ItemCount: 1, PeerHost: "altibase-sts-2.altibase-svc", PeerPort: 20301, Items: items[:1]},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("created:\n%+v\nwant\n%+v", got, want)
	}
	if !got[0].Reset() {
		t.Error("a never started replication is not Reset")
	}

	// Started: IS_STARTED = 1 and a restart point.
	mustExec(t, s0, build(t)(replication.StartStmt("AKU_REP_01")))
	got, err = s0.Replications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !got[0].Started || got[0].Reset() {
		t.Errorf("after START: %+v, want started with an XSN", got[0])
	}
	// Stopped keeps the restart point; RESET forgets it.
	mustExec(t, s0, build(t)(replication.StopStmt("AKU_REP_01")))
	got, _ = s0.Replications(ctx)
	if got[0].Started || got[0].Reset() {
		t.Errorf("after STOP: %+v, want stopped with an XSN", got[0])
	}
	mustExec(t, s0, build(t)(replication.ResetStmt("AKU_REP_01")))
	got, _ = s0.Replications(ctx)
	if got[0].Started || !got[0].Reset() {
		t.Errorf("after RESET: %+v, want stopped with XSN -1", got[0])
	}
	mustExec(t, s0, build(t)(replication.DropStmt("AKU_REP_02")))
	if got, _ = s0.Replications(ctx); len(got) != 1 || got[0].Name != "AKU_REP_01" {
		t.Errorf("after DROP: %+v, want AKU_REP_01 only", got)
	}
}

func TestReplicationStatementErrors(t *testing.T) {
	_, d := newCluster(t, replication.Policy{RetryCount: 3, Sleep: new(sleeps).sleep})
	s0 := connect(t, d, host0)
	mustExec(t, s0, "CREATE TABLE SYS.T1 (ID INTEGER PRIMARY KEY)")
	create := build(t)(replication.CreateReplication("AKU_REP_01", host1, 20301, []conf.Item{{User: "SYS", Table: "T1"}}))
	mustExec(t, s0, create)
	err := s0.Exec(context.Background(), create)
	var se *replication.StatementError
	if !errors.As(err, &se) || se.Code != replication.CodeDuplicateName || se.Tries != 1 || !errors.Is(err, replication.ErrStatement) {
		t.Errorf("duplicate create: %v, want ERR-61100 at the first try", err)
	}
	err = s0.Exec(context.Background(), build(t)(replication.StartStmt("AKU_REP_09")))
	if !errors.As(err, &se) || se.Code != replication.CodeUndefinedName {
		t.Errorf("start of an unknown name: %v, want ERR-6111B", err)
	}
}

func TestProperty(t *testing.T) {
	_, d := newCluster(t, replication.Policy{})
	s := connect(t, d, host0)
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		want int64
	}{{"ADMIN_MODE", 1}, {"REPLICATION_DDL_ENABLE", 0}, {"REPLICATION_MAX_COUNT", 32}} {
		if v, err := s.Property(ctx, tt.name); err != nil || v != tt.want {
			t.Errorf("Property(%s) = %d, %v; want %d", tt.name, v, err, tt.want)
		}
	}
	mustExec(t, s, build(t)(replication.SetSystem("REPLICATION_DDL_ENABLE", 1)))
	if v, err := s.Property(ctx, "REPLICATION_DDL_ENABLE"); err != nil || v != 1 {
		t.Errorf("after SET: %d, %v; want 1", v, err)
	}
	if _, err := s.Property(ctx, "NO_SUCH_PROPERTY"); !errors.Is(err, replication.ErrStatement) {
		t.Errorf("unknown property: %v, want ErrStatement", err)
	}
	if _, err := s.Property(ctx, "X' OR '1"); !errors.Is(err, replication.ErrInvalidName) {
		t.Errorf("property with a quote: %v, want ErrInvalidName", err)
	}
}

// Query returns rows; Exec of a SELECT drains them; Query of a statement
// without rows returns none.
func TestQuery(t *testing.T) {
	_, d := newCluster(t, replication.Policy{})
	s := connect(t, d, host0)
	mustExec(t, s,
		"CREATE TABLE SYS.T1 (ID INTEGER PRIMARY KEY, V VARCHAR(20))",
		"INSERT INTO SYS.T1 VALUES (1, 'one')",
		"INSERT INTO SYS.T1 VALUES (2, 'it''s {two}?')",
		"SELECT ID FROM SYS.T1")
	rows, err := s.Query(context.Background(), "SELECT ID, V FROM SYS.T1 ORDER BY ID")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprintf("%#v", rows), `[][]interface {}{[]interface {}{1, "one"}, []interface {}{2, "it's {two}?"}}`; got != want {
		t.Errorf("rows %s, want %s", got, want)
	}
	rows, err = s.Query(context.Background(), "DELETE FROM SYS.T1 WHERE ID = 1")
	if err != nil || len(rows) != 0 {
		t.Errorf("DELETE through Query: %v, %v; want no rows", rows, err)
	}
}
