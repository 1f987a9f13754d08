package podlife

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aku-project/aku/conf"
)

// BenchmarkEndDeadline measures an end with a deadline (docs/behaviour.md,
// "The deadline") on the simulator, in real time with the real
// StatementReserve: the slave of two pods ends with a 50 MB gap toward the
// MASTER that its link ships at 1 MB/s (Faults.SetSendRate), so it needs
// 50 s. With a grace period of 5 s the reserve for the closing statements
// (8 s) leaves no time to flush; with 30 s the FLUSH WAIT gives up with
// most of the gap left; with 120 s it drains. It reports the end's wall
// time, the bytes flushed and left, and whether it kept its restart points
// (exit 16). The 120 s case runs only with AKU_BENCH_LONG=1:
//
//	AKU_BENCH_LONG=1 go test ./podlife -run '^$' -bench EndDeadline -benchtime 1x
func BenchmarkEndDeadline(b *testing.B) {
	for _, grace := range []time.Duration{5 * time.Second, 30 * time.Second, 120 * time.Second} {
		b.Run(fmt.Sprintf("grace=%s", grace), func(b *testing.B) {
			if grace > time.Minute && os.Getenv("AKU_BENCH_LONG") == "" {
				b.Skip("set AKU_BENCH_LONG=1 to run the 120 s case")
			}
			var wall time.Duration
			var flushed, left, kept int64
			for range b.N {
				b.StopTimer()
				tc, gap, perRow := bigGapCluster(b, 50_000_000, 1_000_000)
				in := tc.input(b, 1, ActionEnd)
				in.Clock = nil
				b.StartTimer()
				start := time.Now()
				in.Deadline = start.Add(grace)
				_, err := Run(context.Background(), in)
				wall += time.Since(start)
				b.StopTimer()
				switch {
				case errors.Is(err, ErrRestartPointsKept):
					kept++
				case err != nil:
					b.Fatalf("end: %v\nlogs:\n%s", err, tc.logs.String())
				}
				got := int64(len(tc.mustSQL(b, 0, "SELECT I1 FROM SYS.BIG").Rows)) * perRow
				flushed += got
				left += gap - got
				tc.c.Close() // 50 MB a cluster: one at a time
			}
			n := float64(b.N)
			b.ReportMetric(wall.Seconds()/n, "wall_s/op")
			b.ReportMetric(float64(flushed)/n/1e6, "flushed_MB/op")
			b.ReportMetric(float64(left)/n/1e6, "left_MB/op")
			b.ReportMetric(float64(kept)/n, "kept/op")
		})
	}
}

// bigGapCluster starts two pods replicating SYS.BIG, rows of 32 000
// characters, and writes about bytes of them on pod 1 while its sender is
// held; then the sender ships at rate bytes a second. It returns the
// cluster, the gap (V$REPGAP) and the log bytes of one row.
func bigGapCluster(b *testing.B, bytes int, rate int64) (*testCluster, int64, int64) {
	b.Helper()
	cfg := flowConfig(2)
	cfg.Groups[0].Items = []conf.Item{{User: "SYS", Table: "BIG"}}
	cfg.QueryTimeout = time.Hour // the default; flowConfig's 5 s would cut a FLUSH WAIT first
	tc := newTestCluster(b, cfg)
	for q := 0; q < 2; q++ {
		tc.boot(b, q)
		tc.mustSQL(b, q, "CREATE TABLE SYS.BIG (I1 INTEGER PRIMARY KEY, V VARCHAR(32000))")
		tc.mustRun(b, q, ActionStart)
	}
	const width, perStatement = 32000, 16
	value := strings.Repeat("x", width)
	rows := bytes / width
	release := tc.c.Server(tc.host(1)).Faults().HoldSender("")
	for i := 0; i < rows; i += perStatement {
		var sb strings.Builder
		for k := i; k < min(i+perStatement, rows); k++ {
			if k > i {
				sb.WriteString(", ")
			}
			fmt.Fprintf(&sb, "(%d, '%s')", k, value)
		}
		tc.mustSQL(b, 1, "INSERT INTO SYS.BIG VALUES "+sb.String())
	}
	gap := tc.gapOf(b, 1, "AKU_REP_01")
	tc.c.Server(tc.host(1)).Faults().SetSendRate(rate)
	release()
	return tc, gap, gap / int64(rows)
}
