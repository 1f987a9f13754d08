package podlife

import (
	"context"
	"testing"
	"time"

	"github.com/aku-project/aku/altisim"
)

// benchLatency is the time every statement takes on the simulated
// servers in the lifecycle benchmarks: large against the executor's own
// overhead, small enough to keep `make bench` short.
const benchLatency = 20 * time.Millisecond

// benchLifecycle measures aku -p <action> on pod 5 of 6 with every
// statement taking benchLatency, against the plan's critical path (its
// longest chain of statements that must run one after another, ×
// latency) and against running every statement serially. setup brings the
// cluster to the state before the action, with no latency.
//
// Metrics: exec/critical is the execute phase (first statement sent to
// last one answered, from the servers' statement logs) over the plan's
// critical path; run/critical is the whole run over the whole command's
// critical path: the longest chain of observation statements on one server
// (observation must finish before planning) followed by the plan's critical
// path. Both are what the target (≤ 1.15) is about. serial/critical is what
// running the plan's statements one by one would cost.
func benchLifecycle(b *testing.B, action Action, setup func(b *testing.B, tc *testCluster)) {
	var execTotal, runTotal time.Duration
	var critical, statements, observeChain int
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		tc := newTestCluster(b, flowConfig(6))
		setup(b, tc)
		for q := 0; q < 6; q++ {
			if srv := tc.c.Server(tc.host(q)); srv != nil {
				srv.Faults().SetLatency(benchLatency)
			}
		}
		in := tc.input(b, 5, action)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		b.StartTimer()
		t0 := time.Now()
		p, err := Run(ctx, in)
		runTotal += time.Since(t0)
		b.StopTimer()
		cancel()
		if err != nil {
			b.Fatalf("aku -p %s on pod 5: %v", action, err)
		}
		critical, statements = p.CriticalPath(), p.Statements()
		execTotal += tc.execSpan(p, t0)
		observeChain = tc.observeChain(p, t0)
		tc.c.Close()
		b.StartTimer()
	}
	b.StopTimer()
	crit := time.Duration(critical) * benchLatency
	b.ReportMetric(float64(critical), "critical-stmts")
	b.ReportMetric(float64(statements), "stmts")
	b.ReportMetric(float64(execTotal)/float64(b.N)/float64(crit), "exec/critical")
	b.ReportMetric(float64(observeChain), "observe-chain-stmts")
	b.ReportMetric(float64(runTotal)/float64(b.N)/float64(time.Duration(observeChain+critical)*benchLatency), "run/critical")
	b.ReportMetric(float64(statements)/float64(critical), "serial/critical")
}

// execSpan is the time from the first of the plan's statements starting
// to the last one ending, across all servers.
func (tc *testCluster) execSpan(p *Plan, since time.Time) time.Duration {
	want := map[string]bool{}
	for _, s := range p.Steps {
		if s.Kind == StepSQL {
			want[s.Statement] = true
		}
	}
	var first, last time.Time
	for q := 0; q < tc.cfg.ServerCount; q++ {
		srv := tc.c.Server(tc.host(q))
		if srv == nil {
			continue
		}
		for _, e := range srv.StatementLog() {
			if e.Start.Before(since) || !want[e.SQL] {
				continue
			}
			if first.IsZero() || e.Start.Before(first) {
				first = e.Start
			}
			if end := e.Start.Add(e.Duration); end.After(last) {
				last = end
			}
		}
	}
	return last.Sub(first)
}

// observeChain is the most statements any one server ran for the
// observation: those not in the plan that started after the run began and
// before its first planned statement (observation must finish before
// planning; the closing check, which reads later, is in the plan's
// critical path). They run one after another on that server's session.
func (tc *testCluster) observeChain(p *Plan, since time.Time) int {
	planned := map[string]bool{}
	for _, s := range p.Steps {
		if s.Kind == StepSQL {
			planned[s.Statement] = true
		}
	}
	var firstPlanned time.Time
	for q := 0; q < tc.cfg.ServerCount; q++ {
		if srv := tc.c.Server(tc.host(q)); srv != nil {
			for _, e := range srv.StatementLog() {
				if !e.Start.Before(since) && planned[e.SQL] && (firstPlanned.IsZero() || e.Start.Before(firstPlanned)) {
					firstPlanned = e.Start
				}
			}
		}
	}
	longest := 0
	for q := 0; q < tc.cfg.ServerCount; q++ {
		srv := tc.c.Server(tc.host(q))
		if srv == nil {
			continue
		}
		n := 0
		for _, e := range srv.StatementLog() {
			if !e.Start.Before(since) && !planned[e.SQL] && (firstPlanned.IsZero() || e.Start.Before(firstPlanned)) {
				n++
			}
		}
		longest = max(longest, n)
	}
	return longest
}

// BenchmarkStartPod5Of6 is the fresh start of the sixth pod while pods
// 0–4 run.
func BenchmarkStartPod5Of6(b *testing.B) {
	benchLifecycle(b, ActionStart, func(b *testing.B, tc *testCluster) {
		tc.startAll(b, 5)
		tc.boot(b, 5)
	})
}

// BenchmarkEndPod5Of6 is the end (flush, stop, reset on both sides) of
// the sixth pod while all six run.
func BenchmarkEndPod5Of6(b *testing.B) {
	benchLifecycle(b, ActionEnd, func(b *testing.B, tc *testCluster) {
		tc.startAll(b, 6)
	})
}

// BenchmarkCleanPod5Of6 is the clean (stop, drop here; stop the
// counterparts) of the sixth pod while all six run.
func BenchmarkCleanPod5Of6(b *testing.B) {
	benchLifecycle(b, ActionClean, func(b *testing.B, tc *testCluster) {
		tc.startAll(b, 6)
	})
}

// benchConnectTimeout is the connect timeout of the benchmark's
// connection template (CONNECT_TIMEOUT=0.2 in testCluster.input).
const benchConnectTimeout = 200 * time.Millisecond

// BenchmarkAbsentPeers is the master's start with the five other pods
// absent in three ways: their names do not resolve (NXDOMAIN), nothing
// listens (refused), or connects hang until their timeout (blackhole).
// Peers are tried in parallel, so the absent peers together should cost at
// most one connect timeout: absent/connect-timeout is the run's wall time
// over the connect timeout (≤ 1 is the target; the master's own
// statements are included, at no latency).
func BenchmarkAbsentPeers(b *testing.B) {
	for _, fault := range []altisim.HostFault{altisim.HostAbsent, altisim.HostRefused, altisim.HostBlackhole} {
		b.Run(fault.String(), func(b *testing.B) {
			var total time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				tc := newTestCluster(b, flowConfig(6))
				tc.boot(b, 0)
				for q := 1; q < 6; q++ {
					tc.c.SetHostFault(tc.host(q), fault)
				}
				in := tc.input(b, 0, ActionStart)
				b.StartTimer()
				t0 := time.Now()
				if _, err := Run(context.Background(), in); err != nil {
					b.Fatal(err)
				}
				total += time.Since(t0)
				b.StopTimer()
				tc.c.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(total)/float64(b.N)/float64(benchConnectTimeout), "absent/connect-timeout")
		})
	}
}
