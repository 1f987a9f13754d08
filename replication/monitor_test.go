package replication_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/replication"
)

// TestMonitor reads the performance views through an ordinary session
// while another session holds the server's SYSDBA slot, at each stage of a
// replication's life: created (no thread, so no sender, gap or receiver),
// started (sender RUN on both sides, a receiver for the peer), a sender
// held back while rows are written (a gap in bytes that grows, the log
// file it reads), stopped again (the gap unknown: no row), and a SYNC
// copying rows (V$REPSYNC).
func TestMonitor(t *testing.T) {
	c, d := newCluster(t, replication.Policy{QueryTimeout: 10 * time.Second})
	ctx := context.Background()
	items := []conf.Item{{User: "SYS", Table: "T1"}}
	s0, s1 := connect(t, d, host0), connect(t, d, host1)
	for _, s := range []*replication.Session{s0, s1} {
		mustExec(t, s, "CREATE TABLE SYS.T1 (ID INTEGER PRIMARY KEY, V VARCHAR(20))", "ALTER SYSTEM SET ADMIN_MODE = 0")
	}
	mustExec(t, s0, build(t)(replication.CreateReplication("AKU_REP_01", host1, 20301, items)))
	mustExec(t, s1, build(t)(replication.CreateReplication("AKU_REP_01", host0, 20301, items)))

	ordinary := *d
	ordinary.Template = strings.Replace(d.Template, ";PRIVILEGE=SYSDBA", "", 1)
	m0, m1 := connect(t, &ordinary, host0), connect(t, &ordinary, host1)
	read := func(s *replication.Session) replication.Monitor {
		t.Helper()
		m, err := s.Monitor(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}

	m := read(m0)
	if len(m.Senders)+len(m.Receivers)+len(m.Gaps)+len(m.Syncs)+len(m.GiveUps) != 0 || m.LogFile < 0 {
		t.Fatalf("created, not started: %+v; want no thread, a log file", m)
	}

	mustExec(t, s0, build(t)(replication.StartStmt("AKU_REP_01")))
	mustExec(t, s1, build(t)(replication.StartStmt("AKU_REP_01")))
	waitMonitor(t, m1, "a receiver on pod 1 for pod 0's sender", func(m replication.Monitor) bool {
		_, ok := m.Receivers["AKU_REP_01"]
		return ok
	})
	m = read(m0)
	snd, ok := m.Senders["AKU_REP_01"]
	if !ok || snd.Status != replication.SenderRun || snd.NetError {
		t.Fatalf("started: sender %+v (present %v); want RUN without a net error", snd, ok)
	}
	if g, ok := m.Gaps["AKU_REP_01"]; !ok || g.Bytes < 0 {
		t.Fatalf("started: gap %+v (present %v); want a row", g, ok)
	}

	release := c.Server(host0).Faults().HoldSender("AKU_REP_01")
	hold := c.Server(host0).Faults().HoldSysdba()
	mustExec(t, m0, "INSERT INTO SYS.T1 VALUES (1, 'a')", "INSERT INTO SYS.T1 VALUES (2, 'b')")
	m = read(m0)
	g := m.Gaps["AKU_REP_01"]
	if g.Bytes <= 0 || g.ReadFile < 0 || g.ReadFile > m.LogFile {
		t.Fatalf("held sender, two rows written: gap %+v, log file %d; want bytes > 0 read from a file up to the current one", g, m.LogFile)
	}
	hold()
	release()

	mustExec(t, s0, build(t)(replication.StopStmt("AKU_REP_01")))
	m = read(m0)
	if _, ok := m.Gaps["AKU_REP_01"]; ok {
		t.Fatalf("stopped: gap row %+v; want none (unknown, not 0)", m.Gaps["AKU_REP_01"])
	}
	if _, ok := m.Senders["AKU_REP_01"]; ok {
		t.Fatal("stopped: a sender row")
	}

	// A SYNC slowed row by row shows in V$REPSYNC while it runs.
	mustExec(t, s0, build(t)(replication.ResetStmt("AKU_REP_01")))
	for i := 10; i < 20; i++ {
		mustExec(t, m0, fmt.Sprintf("INSERT INTO SYS.T1 VALUES (%d, 'c')", i))
	}
	mustExec(t, s1, build(t)(replication.StopStmt("AKU_REP_01")))
	c.Server(host0).Faults().SetSyncRowDelay(20 * time.Millisecond)
	done := make(chan error, 1)
	go func() { done <- s0.Exec(ctx, "ALTER REPLICATION AKU_REP_01 SYNC") }()
	waitMonitor(t, m0, "V$REPSYNC rows of the running SYNC", func(m replication.Monitor) bool {
		u := m.Syncs["AKU_REP_01"]
		return len(u) == 1 && u[0].Table == "T1" && u[0].Partition == "" && u[0].Records >= 0 &&
			m.Senders["AKU_REP_01"].Status == replication.SenderSync
	})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// waitMonitor reads the server's views until ok holds, for 5 s at most.
func waitMonitor(t *testing.T, s *replication.Session, what string, ok func(replication.Monitor) bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		m, err := s.Monitor(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if ok(m) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: last read %+v", what, m)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSenderStatusName(t *testing.T) {
	for code, want := range map[int64]string{0: "STOP", 1: "RUN", 2: "RETRY", 4: "FAILBACK", 6: "SYNC", 9: "IDLE", 7: "STATUS 7"} {
		if got := replication.SenderStatusName(code); got != want {
			t.Errorf("SenderStatusName(%d) = %q, want %q", code, got, want)
		}
	}
}
