package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/podlife"
)

// Without in-cluster credentials, AKU_REPLICATION_RESET_AT_END = 2 ends a
// slave as 1 does (its RESETs run), with one WARNING saying why; with
// AKU_KUBERNETES_PUBLISH = 1 as well, still one (docs/behaviour.md,
// "Kubernetes").
func TestKubernetesWithoutCredentials(t *testing.T) {
	cc := newCLICluster(t, 2)
	for q := range 2 {
		if code, out, errs := cc.aku(t, q, "-p", "start"); code != 0 {
			t.Fatalf("start on pod %d: exit %d\n%s%s", q, code, out, errs)
		}
	}
	conf := cc.writeConf(t, "kube.conf", strings.Replace(cliConf, "AKU_SERVER_COUNT",
		"AKU_REPLICATION_RESET_AT_END = 2\nAKU_KUBERNETES_PUBLISH = 1\nAKU_SERVER_COUNT", 1))
	code, out, errs := cc.aku(t, 1, "--config", conf, "-p", "end")
	if code != 0 {
		t.Fatalf("end: exit %d\n%s%s", code, out, errs)
	}
	var warnings []string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "[WARNING]") {
			warnings = append(warnings, line)
		}
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "no in-cluster credentials") || !strings.Contains(warnings[0], "resetting as with AKU_REPLICATION_RESET_AT_END = 1") {
		t.Errorf("warnings %q, want one saying there are no in-cluster credentials and that end resets as with 1\n%s", warnings, out)
	}
	for q := range 2 {
		if !ran(cc, q, "ALTER REPLICATION AKU_REP_01 RESET") {
			t.Errorf("pod %d never ran ALTER REPLICATION AKU_REP_01 RESET: an end without an answer from Kubernetes resets as with 1", q)
		}
	}
}

// A run whose configuration asks nothing of Kubernetes builds no client and
// sends nothing, whatever the environment: the original's behaviour.
func TestKubernetesNotAsked(t *testing.T) {
	cfg := testConf(t, cliConf)
	o := &options{env: environment{KubernetesHost: "127.0.0.1", KubernetesPort: "1", ServiceAccountDir: t.TempDir()}}
	for _, pod := range []int{0, 1} {
		for _, a := range podlife.Actions {
			in := podlife.Input{Action: a, Config: cfg, Identity: podlife.Identity{PodName: fmt.Sprintf("altibase-sts-%d", pod), Ordinal: pod}}
			if k := o.kubeFor(in); k != nil {
				t.Errorf("pod %d, %s: a run with AKU_REPLICATION_RESET_AT_END = 1 and AKU_KUBERNETES_PUBLISH = 0 uses Kubernetes", pod, a)
			}
		}
	}
	leaving := testConf(t, strings.Replace(cliConf, "AKU_SERVER_COUNT", "AKU_REPLICATION_RESET_AT_END = 2\nAKU_SERVER_COUNT", 1))
	for _, tt := range []struct {
		action podlife.Action
		pod    int
		asks   bool
	}{
		{podlife.ActionEnd, 1, true},
		{podlife.ActionEnd, 0, false}, // the master never resets
		{podlife.ActionStart, 1, false},
		{podlife.ActionClean, 1, false},
	} {
		in := podlife.Input{Action: tt.action, Config: leaving, Identity: podlife.Identity{PodName: fmt.Sprintf("altibase-sts-%d", tt.pod), Ordinal: tt.pod}}
		if k := o.kubeFor(in); (k != nil) != tt.asks {
			t.Errorf("pod %d, %s with AKU_REPLICATION_RESET_AT_END = 2: asks Kubernetes %v, want %v", tt.pod, tt.action, k != nil, tt.asks)
		}
	}
}

// ran reports whether pod q's server ran stmt successfully.
func ran(cc *cliCluster, q int, stmt string) bool {
	for _, s := range cc.c.Server(cc.host(q)).StatementLog() {
		if s.SQL == stmt && s.Err == "" {
			return true
		}
	}
	return false
}

// testConf parses a configuration text.
func testConf(t *testing.T, text string) *conf.Config {
	t.Helper()
	cfg, _, err := conf.Parse("aku.conf", []byte(text), conf.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
