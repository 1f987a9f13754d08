package podlife

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// restartRows is how many rows each replicated table holds when the slave
// restarts in BenchmarkSlaveRestart (the figure of docs/behaviour.md,
// "Leaving for good or restarting").
const restartRows = 300_000

// BenchmarkSlaveRestart is the restart of a slave (pod 1 of 2) whose
// tables hold restartRows rows each, with 1,000 rows written on the
// master while it is away: its end and the server's stop, then, after the
// server booted again on the same data directory (the same cost either
// way, reported apart as server-boot-s), its next start. "reset" is the original's AKU_REPLICATION_RESET_AT_END = 1: the
// end resets, so the start truncates and SYNCs everything again.
// "kubernetes" is AKU_REPLICATION_RESET_AT_END = 2 with Kubernetes saying
// the pod comes back (a rolling update, a pod deleted by hand): the end
// keeps the restart points and the start rejoins by FLUSH.
//
// Metrics: restart-s is what aku's two runs cost, end-s and start-s each
// of them; every row is then checked on both pods; the ratio of the two sub-benchmarks' restart-s is the
// figure (target ≥ 100×).
func BenchmarkSlaveRestart(b *testing.B) {
	for _, tt := range []struct {
		name  string
		reset bool
		path  Path
	}{
		{"reset", true, PathFreshSlave},
		{"kubernetes", false, PathRejoinSlave},
	} {
		b.Run(tt.name, func(b *testing.B) {
			var end, start, total, boot time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				tc := newTestCluster(b, flowConfig(2))
				tc.cfg.QueryTimeout = time.Hour
				tc.cfg.ReplicationResetAtEnd = true
				tc.cfg.ResetOnlyWhenLeaving = true
				tc.boot(b, 0)
				tc.bulkInsert(b, 0, 0, restartRows)
				tc.mustRun(b, 0, ActionStart)
				tc.boot(b, 1)
				tc.mustRun(b, 1, ActionStart)
				in := tc.input(b, 1, ActionEnd)
				in.Leaving = Leaving{Verdict: VerdictNotDeleted, Why: "benchmark: the original's reset"}
				if !tt.reset {
					in.Leaving = Leaving{Verdict: VerdictReturning, Why: "benchmark: the pod is deleted and the set counts it"}
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
				b.StartTimer()
				t0 := time.Now()
				if _, err := Run(ctx, in); err != nil {
					b.Fatalf("aku -p end on pod 1: %v\n%s", err, tc.logs.String())
				}
				t1 := time.Now()
				if err := tc.c.Stop(tc.host(1)); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				tc.bulkInsert(b, 0, restartRows, restartRows+1000)
				tb := time.Now()
				tc.boot(b, 1)
				boot += time.Since(tb)
				b.StartTimer()
				t2 := time.Now()
				p, err := Run(ctx, tc.input(b, 1, ActionStart))
				if err != nil {
					b.Fatalf("aku -p start on pod 1: %v\n%s", err, tc.logs.String())
				}
				t3 := time.Now()
				b.StopTimer()
				cancel()
				if p.Path != tt.path {
					b.Fatalf("restart took path %q, want %q", p.Path, tt.path)
				}
				for q := 0; q < 2; q++ {
					if n, want := tc.count(b, q, 2*(restartRows+1000)), int64(2*(restartRows+1000)); n != want {
						b.Fatalf("pod %d holds %d rows, want %d", q, n, want)
					}
				}
				end += t1.Sub(t0)
				start += t3.Sub(t2)
				total += t1.Sub(t0) + t3.Sub(t2)
				tc.c.Close()
				b.StartTimer()
			}
			n := float64(b.N)
			b.ReportMetric(total.Seconds()/n, "restart-s")
			b.ReportMetric(end.Seconds()/n, "end-s")
			b.ReportMetric(start.Seconds()/n, "start-s")
			b.ReportMetric(boot.Seconds()/n, "server-boot-s")
		})
	}
}

// bulkInsert adds rows with keys from..to-1 to SYS.T1 and SYS.T2 on pod q,
// a thousand rows a statement.
func (tc *testCluster) bulkInsert(t testing.TB, q, from, to int) {
	t.Helper()
	const batch = 1000
	for i := from; i < to; i += batch {
		var sb strings.Builder
		for k := i; k < min(i+batch, to); k++ {
			if k > i {
				sb.WriteString(", ")
			}
			fmt.Fprintf(&sb, "(%d, 'p%d')", k, q)
		}
		for _, tbl := range []string{"T1", "T2"} {
			tc.mustSQL(t, q, "INSERT INTO SYS."+tbl+" VALUES "+sb.String())
		}
	}
}

// count is the number of rows of SYS.T1 and SYS.T2 on pod q, waiting up
// to a minute for replication to bring it to want.
func (tc *testCluster) count(t testing.TB, q int, want int64) int64 {
	t.Helper()
	var n int64
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		n = 0
		for _, tbl := range []string{"T1", "T2"} {
			r := tc.mustSQL(t, q, "SELECT COUNT(*) FROM SYS."+tbl)
			n += r.Rows[0][0].(int64)
		}
		if n == want || time.Now().After(deadline) {
			return n
		}
	}
}
