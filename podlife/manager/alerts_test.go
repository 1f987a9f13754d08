package manager

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/aku-project/aku/e2e/manifest"
)

// descs returns the descriptor of every metric of m's registry.
func descs(m *Manager) []*prometheus.Desc {
	ch := make(chan *prometheus.Desc, 200)
	go func() {
		for _, c := range m.metrics.all {
			c.Describe(ch)
		}
		close(ch)
	}()
	var out []*prometheus.Desc
	for d := range ch {
		out = append(out, d)
	}
	return out
}

// exported lists the names of every metric aku run's registry describes.
func exported(t testing.TB) []string {
	t.Helper()
	ms := newMesh(t, 2)
	m, err := New(ms.config(t, 0), testCodes)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range descs(m) {
		names = append(names, descName.FindStringSubmatch(d.String())[1])
	}
	return names
}

// descName reads the name out of a Desc's String.
var descName = regexp.MustCompile(`fqName: "([^"]+)"`)

// TestAlertsUseExportedMetrics: every aku_ or altibase_ name in the
// expressions of examples/kubernetes/alerts.yaml is a metric aku run
// exports.
func TestAlertsUseExportedMetrics(t *testing.T) {
	set, err := manifest.Load(filepath.Join("..", "..", "examples", "kubernetes"))
	if err != nil {
		t.Fatal(err)
	}
	if set.Rules == nil {
		t.Fatal("no PrometheusRule in examples/kubernetes")
	}
	names := exported(t)
	ident := regexp.MustCompile(`\b(?:aku|altibase)_[a-zA-Z0-9_]+`)
	used := 0
	for _, g := range set.Rules.Spec.Groups {
		for _, r := range g.Rules {
			for _, name := range ident.FindAllString(r.Expr, -1) {
				used++
				if !slices.Contains(names, name) {
					t.Errorf("alert %s uses %s, which aku run does not export", r.Alert, name)
				}
			}
		}
	}
	if used == 0 {
		t.Error("no alert uses aku run's metrics")
	}
}

// TestMetricsDocumented checks docs/metrics.md's table against the
// registry both ways: every metric aku run exports (but the Go and process
// collectors') is documented, with its labels, and every documented one is
// exported.
func TestMetricsDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `((?:aku|altibase)_[a-z0-9_]+)` \\| (gauge|counter) \\|([a-z, ]*)\\|")
	documented := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(string(doc), -1) {
		documented[m[1]] = strings.ReplaceAll(strings.TrimSpace(m[3]), " ", "")
	}
	ms := newMesh(t, 2)
	m, err := New(ms.config(t, 0), testCodes)
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{}
	for _, d := range descs(m) {
		s := d.String()
		name := descName.FindStringSubmatch(s)[1]
		if strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_") {
			continue
		}
		var ls []string
		if v := variableLabels.FindStringSubmatch(s); v != nil {
			for _, l := range strings.Split(v[1], " ") {
				if l = strings.Trim(l, "{}"); l != "" {
					ls = append(ls, l)
				}
			}
		}
		labels[name] = strings.Join(ls, ",")
	}
	for name, ls := range labels {
		got, ok := documented[name]
		switch {
		case !ok:
			t.Errorf("%s is exported but not in docs/metrics.md", name)
		case got != ls:
			t.Errorf("%s: docs/metrics.md lists labels %q, it has %q", name, got, ls)
		}
	}
	for name := range documented {
		if _, ok := labels[name]; !ok {
			t.Errorf("docs/metrics.md lists %s, which aku run does not export", name)
		}
	}
}

// variableLabels reads a Desc's variable labels out of its String.
var variableLabels = regexp.MustCompile(`variableLabels: \{?\[?([^\]}]*)`)
