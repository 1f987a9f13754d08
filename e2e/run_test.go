package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/aku-project/aku/e2e/manifest"
	"github.com/aku-project/aku/podlife/health"
)

// TestRunManager runs the whole life of two pods under aku run
// (statefulset-run.yaml): each container's PID 1 is aku run, which starts
// the server through entrypoint.sh prepare and runs the start; the
// harness's httpGet startup and readiness probes (from the pod's network
// namespace) flip to 200; pod 1 joins; /metrics is scraped and parsed,
// /status and /role answer; deleting pod 1 sends aku run SIGTERM, whose end
// completes within the grace period before `server stop`, all of it in
// the pod's output; pod 0 is ready again once its check saw pod 1 gone.
func TestRunManager(t *testing.T) {
	c := newCluster(t, testOptions("statefulset-run"))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	mustScale(t, ctx, c, 2)
	insertRows(t, ctx, c, 0, "T1", 1, 20)
	waitKeys(t, ctx, c, "T1", span(1, 20))

	get := func(q int, path string) (int, string) {
		t.Helper()
		code, body, err := c.Pod(q).HTTPGet(ctx, 5*time.Second, manifest.DefaultListenPort, path)
		if err != nil {
			t.Fatal(err)
		}
		return code, body
	}
	for _, e := range []struct {
		pod  int
		path string
		code int
	}{{0, "/role/master", 200}, {1, "/role/master", 503}, {1, "/role/slave", 200}, {1, "/livez", 200}, {0, "/readyz", 200}} {
		if code, body := get(e.pod, e.path); code != e.code {
			t.Errorf("pod %d %s: %d %q, want %d", e.pod, e.path, code, body, e.code)
		}
	}
	// The metrics, once pod 1's check saw its sender toward pod 0 run.
	var fams map[string]*dto.MetricFamily
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, body := get(1, "/metrics")
		p := expfmt.NewTextParser(model.UTF8Validation)
		var err error
		if fams, err = p.TextToMetricFamilies(strings.NewReader(body)); code != 200 || err != nil {
			t.Fatalf("/metrics of pod 1: %d %v\n%s", code, err, body)
		}
		if metricValue(fams, "altibase_replication_state", "replication", "AKU_REP_01", "state", "RUN") == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pod 1's metrics never showed AKU_REP_01's sender in RUN:\n%s", body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for name, want := range map[string]float64{"aku_start_completed": 1, "altibase_admin_mode": 0, "altibase_replication_sender_up": 1} {
		if got := metricValue(fams, name); got != want {
			t.Errorf("pod 1: %s = %v, want %v", name, got, want)
		}
	}
	if got := metricValue(fams, "aku_lifecycle_runs_total", "action", "start"); got < 1 {
		t.Errorf("pod 1: aku_lifecycle_runs_total{action=start} = %v, want at least 1", got)
	}
	code, body := get(1, "/status")
	var r health.Report
	if err := json.Unmarshal([]byte(body), &r); code != 200 || err != nil || r.Pod != "altibase-sts-1" {
		t.Fatalf("/status of pod 1: %d %v, pod %q\n%s", code, err, r.Pod, body)
	}

	term, err := c.DeletePod(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !term.Graceful {
		t.Errorf("pod 1 did not end within its grace period:\n%s", term.Log)
	}
	checkLog(t, "pod 1's output", term.Log,
		"aku run: serving the probes and metrics", "AKU started with START option.", "AKU run successfully.",
		"aku run: SIGTERM: aku -p end", "AKU started with END option.", "AKU run successfully.",
		"aku run: stopping the server: /bin/sh -c server stop", "server: stopped", "aku run: the server stopped", "aku run: done")
	// Pod 0's cached check saw pod 1 ending (its pair stopped, the pod
	// still there); its next checks see it gone, and the pair no longer
	// counts.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		code, body := get(0, "/readyz")
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pod 0 after pod 1 left: /readyz %d %q for 10 s", code, body)
		}
	}
}

// metricValue is the value of the first sample of family name whose labels
// include pairs (name, value, ...); -1 when there is none.
func metricValue(fams map[string]*dto.MetricFamily, name string, pairs ...string) float64 {
	f, ok := fams[name]
	if !ok {
		return -1
	}
next:
	for _, m := range f.Metric {
		for i := 0; i+1 < len(pairs); i += 2 {
			found := false
			for _, l := range m.Label {
				found = found || l.GetName() == pairs[i] && l.GetValue() == pairs[i+1]
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Counter != nil:
			return m.Counter.GetValue()
		}
	}
	return -1
}
