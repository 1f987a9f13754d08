package e2e

import (
	"context"
	"slices"
	"testing"
	"time"
)

// BenchmarkStatusSixPods measures, by kubectl exec in pod 1 of a set of
// AKU_SERVER_COUNT = 6 with five pods running and the sixth absent
// (NXDOMAIN from the pods' DNS): aku status (process start, aku.conf, six
// lookups, five servers read in parallel through ordinary psqlODBC
// sessions), aku probe ready (this pod's server alone, every pair
// replicating) and aku probe startup (two files). The exec of `true`
// measures what the exec itself costs (nsenter into the pod's namespaces).
// Each reports its median as median-ms besides the mean.
func BenchmarkStatusSixPods(b *testing.B) {
	o := testOptions("statefulset-entrypoint")
	o.Conf["AKU_SERVER_COUNT"] = "6"
	c := newCluster(b, o)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	mustScale(b, ctx, c, 5)
	for _, bc := range []struct {
		name string
		argv []string
	}{
		{"status", []string{"aku", "status"}},
		{"probe-ready", []string{"aku", "probe", "ready"}},
		{"probe-startup", []string{"aku", "probe", "startup"}},
		{"exec-baseline", []string{"true"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var took []time.Duration
			for b.Loop() {
				start := time.Now()
				r, err := c.Exec(ctx, 1, time.Minute, bc.argv...)
				took = append(took, time.Since(start))
				if err != nil || r.ExitCode != 0 {
					b.Fatalf("%v: %v", err, r)
				}
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "median-ms")
		})
	}
}
