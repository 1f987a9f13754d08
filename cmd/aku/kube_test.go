package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/podlife"
	"github.com/aku-project/aku/podlife/kube"
	"github.com/aku-project/aku/podlife/kube/kubetest"
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
		if count(cc, q, "ALTER REPLICATION AKU_REP_01 RESET") == 0 {
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

// testConf parses a configuration text.
func testConf(t *testing.T, text string) *conf.Config {
	t.Helper()
	cfg, _, err := conf.Parse("aku.conf", []byte(text), conf.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Against a real kube-apiserver, with the example's RBAC and aku.conf's
// AKU_REPLICATION_RESET_AT_END = 2 and AKU_KUBERNETES_PUBLISH = 1: a slave
// deleted while its StatefulSet still counts it keeps its restart points at
// its end and rejoins by FLUSH at its next start (no TRUNCATE); an end run
// by hand resets, as does one after a scale-down; without the RoleBinding
// (403) it resets as with 1, with one WARNING. Each start and end labels
// the pod and leaves an Event on it.
func TestKubernetesRestartAndScaleDown(t *testing.T) {
	cp := kubetest.Start(t)
	ns := "aku-cli"
	kubetest.Namespace(t, cp, ns, 2)
	cc := newCLICluster(t, 2)
	cc.kube = map[int]kube.Config{}
	for q := range 2 {
		cc.kube[q] = kubetest.Credentials(t, cp, ns, fmt.Sprintf("altibase-sts-%d", q), "")
	}
	conf := cc.writeConf(t, "kube.conf", strings.Replace(cliConf, "AKU_SERVER_COUNT",
		"AKU_REPLICATION_RESET_AT_END = 2\nAKU_KUBERNETES_PUBLISH = 1\nAKU_SERVER_COUNT", 1))
	ctx := context.Background()
	aku := func(q int, action string, wantCode int) string {
		t.Helper()
		code, out, errs := cc.aku(t, q, "--config", conf, "-p", action)
		if code != wantCode {
			t.Fatalf("aku -p %s on pod %d: exit %d, want %d\n%s%s", action, q, code, wantCode, out, errs)
		}
		return out
	}
	labels := func(q int) string {
		t.Helper()
		pod := kubetest.Pod(t, cp, ns, fmt.Sprintf("altibase-sts-%d", q))
		return pod.Labels["aku/role"] + "/" + pod.Labels["aku/synced"]
	}
	reasons := func(q int) []string {
		t.Helper()
		pod := kubetest.Pod(t, cp, ns, fmt.Sprintf("altibase-sts-%d", q))
		evs, err := cp.Client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.uid=" + string(pod.UID)})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range evs.Items {
			out = append(out, e.Type+" "+e.Reason)
		}
		slices.Sort(out)
		return out
	}

	aku(0, "start", 0)
	aku(1, "start", 0)
	if got := labels(0) + " " + labels(1); got != "master/true slave/true" {
		t.Errorf("labels after both starts: %s, want master/true slave/true", got)
	}
	resets := count(cc, 1, "ALTER REPLICATION AKU_REP_01 RESET")
	truncates := count(cc, 1, "TRUNCATE TABLE SYS.T1")

	// kubectl delete pod altibase-sts-1: the set still counts it, so it
	// comes back.
	kubetest.Delete(t, cp, ns, "altibase-sts-1", false)
	out := aku(1, "end", 0)
	if !strings.Contains(out, "this pod comes back (the pod is being deleted and ordinal 1 is below StatefulSet altibase-sts's spec.replicas 2") || count(cc, 1, "ALTER REPLICATION AKU_REP_01 RESET") != resets {
		t.Errorf("end of pod 1 deleted with 2 replicas reset its replication, want the restart points kept\n%s", out)
	}
	if got := labels(1); got != "slave/false" {
		t.Errorf("labels after the end: %s, want slave/false", got)
	}
	// The set creates it again (no kubelet confirms the deletion here).
	kubetest.Delete(t, cp, ns, "altibase-sts-1", true)
	cc.kube[1] = kubetest.Credentials(t, cp, ns, "altibase-sts-1", "")
	out = aku(1, "start", 0)
	if !strings.Contains(out, "path=\"rejoining slave start\"") || count(cc, 1, "TRUNCATE TABLE SYS.T1") != truncates {
		t.Errorf("the start after a restart did not rejoin without TRUNCATE\n%s", out)
	}
	if got := labels(1); got != "slave/true" {
		t.Errorf("labels after the rejoin: %s, want slave/true", got)
	}
	want := []string{"Normal Started"}
	if got := reasons(1); !slices.Equal(got, want) {
		t.Errorf("events of the new pod 1: %v, want %v", got, want)
	}

	// aku -p end by hand (kubectl exec), nothing deletes the pod: reset,
	// as the procedures of docs/behaviour.md expect.
	out = aku(1, "end", 0)
	if !strings.Contains(out, "this pod is not being deleted") || count(cc, 1, "ALTER REPLICATION AKU_REP_01 RESET") != resets+1 {
		t.Errorf("an end by hand did not reset\n%s", out)
	}
	aku(1, "start", 0)

	// A scale-down: pod 1 leaves for good.
	kubetest.Scale(t, cp, ns, 1)
	kubetest.Deleting(t, cp, ns, "altibase-sts-1")
	out = aku(1, "end", 0)
	if !strings.Contains(out, "this pod leaves for good (ordinal 1 is not below StatefulSet altibase-sts's spec.replicas 1") || count(cc, 1, "ALTER REPLICATION AKU_REP_01 RESET") != resets+2 || count(cc, 0, "ALTER REPLICATION AKU_REP_01 RESET") < 2 {
		t.Errorf("end of pod 1 after a scale-down to 1 did not reset both sides\n%s", out)
	}
	want = []string{"Normal Ended", "Normal Ended", "Normal Started", "Normal Started"}
	if got := reasons(1); !slices.Equal(got, want) {
		t.Errorf("events of the new pod 1: %v, want %v", got, want)
	}

	// Without the RoleBinding: 403, one WARNING, reset as with 1.
	cc.kube[1] = kubetest.Credentials(t, cp, ns, "altibase-sts-1", "no-rbac")
	aku(1, "start", 0)
	out = aku(1, "end", 0)
	var warnings []string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "[WARNING]") {
			warnings = append(warnings, line)
		}
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "403 Forbidden") {
		t.Errorf("warnings of an end without the RoleBinding: %q, want one naming the 403", warnings)
	}
	if count(cc, 1, "ALTER REPLICATION AKU_REP_01 RESET") != resets+3 {
		t.Errorf("an end without an answer from Kubernetes did not reset, as with 1\n%s", out)
	}
}

// count is how many times pod q's server ran stmt successfully.
func count(cc *cliCluster, q int, stmt string) int {
	n := 0
	for _, s := range cc.c.Server(cc.host(q)).StatementLog() {
		if s.SQL == stmt && s.Err == "" {
			n++
		}
	}
	return n
}
