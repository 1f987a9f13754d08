package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aku-project/aku/podlife/health"
)

// TestStatusDuringStart runs aku status and the probes by kubectl exec
// while pod 2's aku -p start holds the SYSDBA sessions of pods 0, 1 and 2
// (the master's SYNC toward pod 2 is slowed, so the start stays in it):
// status reads pods 0 and 1 through ordinary sessions, reports pod 2 as not
// open (starting, with --sysdba, which finds its SYSDBA slot taken) and the
// master's SYNC in progress; pods 0 and 1 stay ready; pod 2's startup probe
// passes while its start progresses. Neither side fails: pod 2's start
// exits 0 at its first try (no exit 8), and status afterwards finds the
// mesh healthy.
func TestStatusDuringStart(t *testing.T) {
	c := newCluster(t, testOptions("statefulset-entrypoint"))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	mustScale(t, ctx, c, 2)
	insertRows(t, ctx, c, 0, "T1", 1, 300)
	waitKeys(t, ctx, c, "T1", span(1, 300))
	// Batches of 20 rows, each taking 20 ms a row: a SYNC of about 6 s
	// whose V$REPSYNC count moves.
	sysdbaExec(t, ctx, c, 0, "ALTER SYSTEM SET REPLICATION_SYNC_TUPLE_COUNT = 20")
	mustFault(t, ctx, c, 0, "sync-delay", "20ms")

	if _, err := c.CreatePod(ctx, 2); err != nil {
		t.Fatal(err)
	}
	waitLog(t, ctx, c, 2, "Sync tables from MASTER Server.", 60*time.Second)

	plain := status(t, ctx, c, 1, false)
	if plain.Health != health.Degraded || len(plain.Findings) != 1 || plain.Findings[0].Kind != health.KindNotOpen || plain.Findings[0].Server != 2 {
		t.Errorf("status from pod 1 during pod 2's start: %s, findings %+v; want degraded by pod 2 not open", plain.Health, plain.Findings)
	}
	for _, q := range []int{0, 1} {
		if s := plain.Servers[q]; s.State != health.StateOpen || s.ViaSysdba {
			t.Errorf("server %d during pod 2's start: %+v; want open, read without SYSDBA", q, s)
		}
	}
	if s := plain.Servers[2]; s.State != health.StateNotOpen {
		t.Errorf("server 2 during its start: %+v; want not-open", s)
	}
	sysdba := status(t, ctx, c, 0, true)
	if sysdba.Health != health.Healthy || sysdba.Servers[2].State != health.StateStarting {
		t.Errorf("status --sysdba from pod 0 during pod 2's start: %s, server 2 %+v, findings %+v; want healthy, pod 2 starting",
			sysdba.Health, sysdba.Servers[2], sysdba.Findings)
	}
	if s := sideOf(sysdba, "AKU_REP_02", 0); s == nil || s.Sender == nil || s.Sender.Status != "SYNC" || len(s.Sync) != 2 || s.Sync[0].Table != "T1" || s.Sync[1].Table != "T2" {
		t.Errorf("the master's side of AKU_REP_02 during the SYNC: %+v; want its sender in SYNC and V$REPSYNC's rows of T1 and T2", s)
	}
	for _, p := range []struct {
		pod  int
		argv []string
		code int
		line string
	}{
		{0, []string{"aku", "probe", "ready"}, 0, "ready: "},
		{1, []string{"aku", "probe", "ready"}, 0, "ready: "},
		{2, []string{"aku", "probe", "startup"}, 0, "starting: aku -p start runs: SYNC of AKU_REP_02 on altibase-sts-0.altibase-svc"},
		{2, []string{"aku", "probe", "live"}, 0, "alive: aku -p start runs"},
		{2, []string{"aku", "probe", "ready"}, 1, "aku: not ready: no marker"},
	} {
		r, err := c.Exec(ctx, p.pod, 10*time.Second, p.argv...)
		if err != nil {
			t.Fatal(err)
		}
		if r.ExitCode != p.code || !strings.HasPrefix(r.Output, p.line) || strings.Count(r.Output, "\n") != 1 {
			t.Errorf("%s in pod %d during pod 2's start: %s; want exit %d, one line %q...", strings.Join(p.argv, " "), p.pod, r, p.code, p.line)
		}
	}

	if err := c.WaitStarted(ctx, 2); err != nil {
		t.Fatal(err)
	}
	checkExits(t, "start of pod 2", c.Pod(2).Logs(), "start=0")
	waitKeys(t, ctx, c, "T1", span(1, 300))
	if after := status(t, ctx, c, 2, false); after.Health != health.Healthy {
		t.Errorf("status from pod 2 after its start: %s, findings %+v", after.Health, after.Findings)
	}
}

// status runs aku status --output json by kubectl exec in the pod and
// decodes the report (the verdict line on stderr is left out).
func status(t *testing.T, ctx context.Context, c *Cluster, ordinal int, sysdba bool) *health.Report {
	t.Helper()
	cmd := "aku status --output json 2>/dev/null"
	if sysdba {
		cmd = "aku status --sysdba --output json 2>/dev/null"
	}
	r, err := c.Exec(ctx, ordinal, 30*time.Second, "sh", "-c", cmd)
	if err != nil {
		t.Fatal(err)
	}
	var rep health.Report
	if err := json.Unmarshal([]byte(r.Output), &rep); err != nil {
		t.Fatalf("aku status in pod %d: %v; %s", ordinal, err, r)
	}
	want := map[health.Health]int{health.Healthy: 0, health.Degraded: 19, health.Unknown: 20}[rep.Health]
	if r.ExitCode != want {
		t.Fatalf("aku status in pod %d: exit %d for %s, want %d", ordinal, r.ExitCode, rep.Health, want)
	}
	return &rep
}

// sideOf is the side of pair name on server q, or nil.
func sideOf(r *health.Report, name string, q int) *health.Side {
	for _, p := range r.Pairs {
		for i := range p.Sides {
			if p.Name == name && p.Sides[i].Ordinal == q {
				return &p.Sides[i]
			}
		}
	}
	return nil
}
