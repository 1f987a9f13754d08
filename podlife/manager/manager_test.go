package manager

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/aku-project/aku/podlife"
	"github.com/aku-project/aku/podlife/health"
)

// TestEndpoints runs aku run next to pod 0's server (no server command)
// and then pod 1's: the probes flip to 200 once the starts completed, and
// answer as aku probe does; /status is aku status --output json; HEAD has
// no body and other methods get 405. At SIGTERM the end runs: the marker
// is gone.
func TestEndpoints(t *testing.T) {
	ms := newMesh(t, 2)
	ms.boot(t, 0)
	r0 := run(t, ms.config(t, 0))
	r0.waitStatus(t, "/startupz", http.StatusOK)
	r0.waitStatus(t, "/readyz", http.StatusOK)

	ms.boot(t, 1)
	r1 := run(t, ms.config(t, 1))
	body := r1.waitStatus(t, "/readyz", http.StatusOK)
	ctx := context.Background()
	in := ms.healthInput(t, 1)
	if want := health.Ready(ctx, in, -1); !want.OK || body != want.Line+"\n" {
		t.Errorf("/readyz answers %q; aku probe ready says %+v", body, want)
	}
	_, body = r1.get(t, http.MethodGet, "/startupz")
	if want := health.Startup(in.MarkerPath, time.Now()); body != want.Line+"\n" {
		t.Errorf("/startupz answers %q; aku probe startup says %q", body, want.Line)
	}
	for _, c := range []struct {
		path string
		code int
		line string
	}{
		{"/livez", 200, "alive: no aku -p start is running"},
		{"/role/slave", 200, "slave: open to users"},
		{"/role/master", 503, health.Role(ctx, in, "master", -1).Line},
		{"/role/writable", 200, "writable: ready"},
		{"/readyz?max-gap=0", 200, "ready"},
		{"/readyz?max-gap=lots", 400, `max-gap "lots": want a number of bytes`},
		{"/role/writable?max-gap=-1", 400, "max-gap"},
	} {
		r1.waitStatus(t, c.path, c.code)
		if _, body := r1.get(t, http.MethodGet, c.path); !strings.HasPrefix(body, c.line) {
			t.Errorf("GET %s: %q, want %q...", c.path, body, c.line)
		}
	}
	if code, body := r1.get(t, http.MethodHead, "/readyz"); code != 200 || body != "" {
		t.Errorf("HEAD /readyz: %d %q, want 200 and no body", code, body)
	}
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		if code, _ := r1.get(t, method, "/readyz"); code != http.StatusMethodNotAllowed {
			t.Errorf("%s /readyz: %d, want 405", method, code)
		}
	}
	code, body := r1.get(t, http.MethodGet, "/status")
	var report health.Report
	if err := json.Unmarshal([]byte(body), &report); code != 200 || err != nil {
		t.Fatalf("/status: %d %v\n%s", code, err, body)
	}
	if report.Pod != "altibase-sts-1" || report.Health != health.Healthy || len(report.Pairs) != 1 {
		t.Errorf("/status: pod %q, health %q, %d pairs; want altibase-sts-1, healthy, 1 pair", report.Pod, report.Health, len(report.Pairs))
	}

	if err := r1.stop(t); err != nil {
		t.Fatalf("aku run of pod 1 after SIGTERM: %v\n%s", err, r1.log)
	}
	if _, err := os.Stat(ms.markerPath(1)); !os.IsNotExist(err) {
		t.Errorf("the marker of pod 1 after the end: %v, want none", err)
	}
	if !strings.Contains(r1.log.String(), "aku -p end") {
		t.Errorf("the log does not mention the end:\n%s", r1.log)
	}
}

// TestMetrics scrapes /metrics of two running pods and parses it: the
// pair's state, restart point and sender, a gap only where a sender runs
// (never 0 for unknown), the start completed, the lifecycle counted.
func TestMetrics(t *testing.T) {
	ms := newMesh(t, 3)
	ms.boot(t, 0)
	r0 := run(t, ms.config(t, 0))
	r0.waitStatus(t, "/readyz", http.StatusOK)
	ms.boot(t, 1)
	r1 := run(t, ms.config(t, 1))
	r1.waitStatus(t, "/readyz", http.StatusOK)

	var fams map[string]*dto.MetricFamily
	defer func() {
		if t.Failed() {
			_, b := r1.get(t, http.MethodGet, "/metrics")
			t.Log(b)
		}
	}()
	waitFor(t, "the sender toward pod 0 in the metrics", func() bool {
		fams = scrape(t, r1)
		return value(fams, "altibase_replication_sender_up", "replication", "AKU_REP_01") == 1
	})
	for name, want := range map[string]float64{
		"aku_start_completed": 1,
		"altibase_admin_mode": 0,
	} {
		if got := value(fams, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if got := value(fams, "altibase_replication_state", "replication", "AKU_REP_01", "state", "RUN"); got != 1 {
		t.Errorf("altibase_replication_state{AKU_REP_01,RUN} = %v, want 1", got)
	}
	// The pair toward pod 2, which does not exist: no sender, so its gap
	// is unknown and absent.
	if got := value(fams, "altibase_replication_sender_up", "replication", "AKU_REP_12"); got != 0 {
		t.Errorf("sender_up of AKU_REP_12 = %v, want 0", got)
	}
	if has(fams, "altibase_replication_gap_size_bytes", "replication", "AKU_REP_12") {
		t.Error("a gap is exported for AKU_REP_12, which has no sender: it must be absent")
	}
	if !has(fams, "altibase_replication_gap_size_bytes", "replication", "AKU_REP_01") {
		t.Error("no gap for AKU_REP_01, whose sender runs")
	}
	if got := value(fams, "aku_lifecycle_runs_total", "action", "start", "outcome", "ok"); got != 1 {
		t.Errorf("aku_lifecycle_runs_total{start,ok} = %v, want 1", got)
	}
	if got := value(fams, "aku_peer_unresolved_seconds", "peer", "altibase-sts-2"); got <= 0 {
		t.Errorf("aku_peer_unresolved_seconds{altibase-sts-2} = %v, want > 0", got)
	}
	if has(fams, "aku_peer_unresolved_seconds", "peer", "altibase-sts-0") {
		t.Error("aku_peer_unresolved_seconds for altibase-sts-0, which resolves")
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "aku_build_info", "aku_check_duration_seconds", "aku_check_last_success_timestamp_seconds", "altibase_logfile_current"} {
		if _, ok := fams[name]; !ok {
			t.Errorf("no %s", name)
		}
	}
}

// scrape reads /metrics in the Prometheus text format.
func scrape(t testing.TB, r *running) map[string]*dto.MetricFamily {
	t.Helper()
	code, body := r.get(t, http.MethodGet, "/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d\n%s", code, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parsing /metrics: %v\n%s", err, body)
	}
	return fams
}

// sample finds the sample of family name whose labels include pairs
// (name, value, ...).
func sample(fams map[string]*dto.MetricFamily, name string, pairs ...string) *dto.Metric {
	f, ok := fams[name]
	if !ok {
		return nil
	}
next:
	for _, m := range f.Metric {
		for i := 0; i < len(pairs); i += 2 {
			found := false
			for _, l := range m.Label {
				if l.GetName() == pairs[i] && l.GetValue() == pairs[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		return m
	}
	return nil
}

func has(fams map[string]*dto.MetricFamily, name string, pairs ...string) bool {
	return sample(fams, name, pairs...) != nil
}

// value is the sample's value; -1 when there is none.
func value(fams map[string]*dto.MetricFamily, name string, pairs ...string) float64 {
	m := sample(fams, name, pairs...)
	switch {
	case m == nil:
		return -1
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Counter != nil:
		return m.Counter.GetValue()
	}
	return -1
}

// TestSyncedPublished follows the aku/synced verdict aku run publishes:
// true once pod 1's start completed and it replicates, false when its
// peer stops replicating with it, nothing more while nothing changes, and
// a failed publication tried again at the next check.
func TestSyncedPublished(t *testing.T) {
	ms := newMesh(t, 2)
	ms.boot(t, 0)
	r0 := run(t, ms.config(t, 0))
	r0.waitStatus(t, "/readyz", http.StatusOK)
	ms.boot(t, 1)
	cfg := ms.config(t, 1)
	var mu sync.Mutex
	var calls []bool
	fail := true
	cfg.Synced = func(_ context.Context, synced bool) error {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, synced)
		if fail {
			fail = false
			return errors.New("the API server answered 503")
		}
		return nil
	}
	published := func() []bool {
		mu.Lock()
		defer mu.Unlock()
		return append([]bool(nil), calls...)
	}
	r1 := run(t, cfg)
	r1.waitStatus(t, "/readyz", http.StatusOK)
	waitFor(t, "synced=true published after one failure", func() bool {
		c := published()
		return len(c) == 2 && c[0] && c[1]
	})
	if n := strings.Count(r1.log.String(), "publishing aku/synced=true"); n != 1 {
		t.Errorf("the failure is logged %d times, want once:\n%s", n, r1.log)
	}
	time.Sleep(5 * cfg.CheckInterval)
	if c := published(); len(c) != 2 {
		t.Fatalf("published %v with nothing changed, want [true true]", c)
	}
	// Pod 1's side stops: it no longer replicates.
	ms.mustSQL(t, 1, "ALTER REPLICATION AKU_REP_01 STOP")
	r1.waitStatus(t, "/readyz", http.StatusServiceUnavailable)
	waitFor(t, "synced=false published", func() bool {
		c := published()
		return len(c) == 3 && !c[2]
	})
	if err := r1.stop(t); err != nil {
		t.Fatalf("aku run of pod 1 after SIGTERM: %v\n%s", err, r1.log)
	}
	if c := published(); len(c) != 3 {
		t.Errorf("published %v through the end, want nothing after SIGTERM", c)
	}
}

// TestDeadlineFromTheSignal: a SIGTERM that cancels a start whose wind-down
// takes a while (its restore guards) still gives the end the deadline
// counted from the signal: grace period less stop reserve.
func TestDeadlineFromTheSignal(t *testing.T) {
	ms := newMesh(t, 2)
	ms.boot(t, 0)
	cfg := ms.config(t, 0)
	const windDown = 1500 * time.Millisecond
	starting := make(chan struct{})
	ends := make(chan time.Time, 1)
	cfg.Lifecycle = func(ctx context.Context, a podlife.Action, deadline time.Time, _ []int) error {
		switch a {
		case podlife.ActionStart:
			close(starting)
			<-ctx.Done()
			time.Sleep(windDown)
			return ctx.Err()
		case podlife.ActionEnd:
			ends <- deadline
		}
		return nil
	}
	r := run(t, cfg)
	<-starting
	signal := time.Now()
	_ = r.stop(t)
	deadline := <-ends
	want := signal.Add(cfg.GracePeriod - cfg.StopReserve)
	if d := deadline.Sub(want); d < 0 || d > windDown/2 {
		t.Errorf("the end's deadline is %v after signal + grace − reserve, want it within %v of the signal's (the start's wind-down took %v)", d, windDown/2, windDown)
	}
}
