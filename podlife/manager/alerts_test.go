package manager

import (
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/aku-project/aku/e2e/manifest"
)

// exported lists the names of every metric family aku run's registry
// describes.
func exported(t testing.TB) []string {
	t.Helper()
	ms := newMesh(t, 2)
	m, err := New(ms.config(t, 0), testCodes)
	if err != nil {
		t.Fatal(err)
	}
	fams, err := m.metrics.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range fams {
		names = append(names, f.GetName())
	}
	// Gather leaves out what has no sample yet: add every descriptor's name.
	ch := make(chan *prometheus.Desc, 100)
	go func() {
		(&checkCollector{m: m}).Describe(ch)
		m.metrics.runs.Describe(ch)
		m.metrics.lastRun.Describe(ch)
		m.metrics.lastDuration.Describe(ch)
		m.metrics.released.Describe(ch)
		close(ch)
	}()
	for d := range ch {
		names = append(names, descName.FindStringSubmatch(d.String())[1])
	}
	slices.Sort(names)
	return slices.Compact(names)
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
