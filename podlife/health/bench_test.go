package health_test

import (
	"context"
	"testing"
	"time"

	"github.com/aku-project/aku/podlife/health"
)

// BenchmarkObserveSixPods is one aku status observation, in process, of a
// set of AKU_SERVER_COUNT = 6 with five pods running (a full mesh) and the
// sixth absent: six lookups and five servers read in parallel through the
// simulator's driver, then Assess. It measures aku's own work; the e2e
// BenchmarkStatusSixPods measures the binary over ODBC.
func BenchmarkObserveSixPods(b *testing.B) {
	m := newMesh(b, 6)
	m.startAll(b, 5)
	in := m.input(b, 1, false)
	ctx := context.Background()
	for b.Loop() {
		r := health.Assess(m.cfg, in.Identity, health.Observe(ctx, in))
		if r.Health != health.Healthy || r.Servers[5].State != health.StateAbsent {
			b.Fatalf("%s, %v", r.Health, kinds(r))
		}
	}
}

// BenchmarkReady is aku probe ready's work, in process, on a pod of that
// set: its marker, one ordinary session to its server, three reads.
func BenchmarkReady(b *testing.B) {
	m := newMesh(b, 6)
	m.startAll(b, 5)
	in := m.input(b, 1, false)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for b.Loop() {
		if v := health.Ready(ctx, in, -1); !v.OK {
			b.Fatal(v.Line)
		}
	}
}
