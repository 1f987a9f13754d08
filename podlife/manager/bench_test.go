package manager

import (
	"io"
	"net/http"
	"slices"
	"testing"
	"time"
)

// BenchmarkReadyz measures /readyz of a running pod (two pods, the
// cached check every 5 s as by default) over HTTP on the loopback: as
// fast as one client can ask ("closed"), and paced at 100 requests a
// second ("100rps"; -benchtime=1000x is 10 s). It reports the latency's
// p50 and p99 besides ns/op.
//
//	go test ./podlife/manager -run '^$' -bench Readyz -benchtime 1000x
func BenchmarkReadyz(b *testing.B) {
	ms := newMesh(b, 2)
	ms.boot(b, 0)
	cfg := ms.config(b, 0)
	cfg.CheckInterval = DefaultCheckInterval
	r := run(b, cfg)
	r.waitStatus(b, "/readyz", http.StatusOK)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	get := func() time.Duration {
		begin := time.Now()
		resp, err := client.Get(r.url + "/readyz")
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("/readyz: %d", resp.StatusCode)
		}
		return time.Since(begin)
	}
	for _, pace := range []struct {
		name  string
		every time.Duration
	}{{"closed", 0}, {"100rps", 10 * time.Millisecond}} {
		b.Run(pace.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			next := time.Now()
			b.ResetTimer()
			for b.Loop() {
				if pace.every > 0 {
					time.Sleep(time.Until(next))
					next = next.Add(pace.every)
				}
				lat = append(lat, get())
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}
