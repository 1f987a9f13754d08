package e2e

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestKubeRoleServices runs service-roles.yaml on the real control plane,
// whose EndpointSlice controller keeps the Services' endpoints from the
// labels aku sets (docs/behaviour.md, "Labels") and the readiness the
// kubelet reports: altibase-ddl lists the master only, altibase-dml every
// synced pod. A slave whose container is killed stays listed, not ready;
// its restarted start fails (pod 1's SYSDBA session is held) and labels it
// not synced, so it leaves altibase-dml; it comes back when its retried
// start succeeds. At a scale-down the leaving pod's end unlabels it before
// its replication stops: it leaves altibase-dml while it still runs. The
// rows written meanwhile are on every pod once.
func TestKubeRoleServices(t *testing.T) {
	o := testOptions("statefulset-entrypoint")
	o.Conf["AKU_SYSDBA_WAIT_TIME"] = "3"
	kc := newKubeCluster(t, o)
	c := kc.Cluster
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	mustScaleKube(t, ctx, kc, 3)
	insertRows(t, ctx, c, 0, "T1", 1, 10)
	waitKeys(t, ctx, c, "T1", span(1, 10))
	waitEndpoints(t, ctx, kc, "altibase-ddl", map[int]bool{0: true})
	waitEndpoints(t, ctx, kc, "altibase-dml", map[int]bool{0: true, 1: true, 2: true})

	// Pod 2's container dies: still synced by its label, but not ready.
	operator, err := c.Connect(ctx, 1, true)
	if err != nil {
		t.Fatal(err)
	}
	defer operator.Close()
	if err := kc.KillContainer(2); err != nil {
		t.Fatal(err)
	}
	waitEndpoints(t, ctx, kc, "altibase-dml", map[int]bool{0: true, 1: true, 2: false})
	insertRows(t, ctx, c, 0, "T1", 11, 20)
	// Its restarted start fails: labelled not synced, out of altibase-dml.
	waitLog(t, ctx, c, 2, "entrypoint: retrying aku -p start", time.Minute)
	checkExits(t, "the failed start of pod 2's new container", c.Pod(2).Logs(), "start=8")
	checkLabels(t, ctx, kc, map[int]string{2: "slave/false"})
	waitEndpoints(t, ctx, kc, "altibase-dml", map[int]bool{0: true, 1: true})
	waitEndpoints(t, ctx, kc, "altibase-ddl", map[int]bool{0: true})

	operator.Close()
	waitEndpoints(t, ctx, kc, "altibase-dml", map[int]bool{0: true, 1: true, 2: true})
	checkLabels(t, ctx, kc, map[int]string{2: "slave/true"})
	checkExits(t, "the retried start of pod 2", startedLog(t, ctx, c, 2), "start=8", "start=0")
	insertRows(t, ctx, c, 2, "T1", 21, 30)
	waitKeys(t, ctx, c, "T1", span(1, 30))

	// kubectl scale --replicas=2: pod 2 leaves altibase-dml while its end
	// runs.
	var leftWhileRunning atomic.Bool
	watchCtx, stopWatch := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for watchCtx.Err() == nil {
			// Pod 2 being deleted before the list and still after it (no
			// step since): it ran while the list was taken.
			h := kc.history()
			eps, err := endpoints(watchCtx, kc, "altibase-dml")
			ending := h[len(h)-1] == "deleting "+kc.PodName(2) && len(kc.history()) == len(h)
			if err == nil && ending && !strings.Contains(eps, kc.PodName(2)+" ") {
				leftWhileRunning.Store(true)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	mustScaleKube(t, ctx, kc, 2)
	stopWatch()
	<-done
	if !leftWhileRunning.Load() {
		t.Error("pod 2 was still in altibase-dml's endpoints whenever it was seen running during its end at the scale-down")
	}
	waitEndpoints(t, ctx, kc, "altibase-dml", map[int]bool{0: true, 1: true})
	waitEndpoints(t, ctx, kc, "altibase-ddl", map[int]bool{0: true})
	insertRows(t, ctx, c, 1, "T1", 31, 40)
	waitKeys(t, ctx, c, "T1", span(1, 40))
	checkMesh(t, ctx, c)
}

// endpoints lists the endpoints of the Service's EndpointSlices, sorted,
// one "pod address ready|not-ready" each.
func endpoints(ctx context.Context, kc *KubeCluster, service string) (string, error) {
	list, err := kc.ControlPlane.Client.DiscoveryV1().EndpointSlices(kc.Namespace).List(ctx,
		metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=" + service})
	if err != nil {
		return "", fmt.Errorf("listing the EndpointSlices of Service %s: %w", service, err)
	}
	var out []string
	for _, s := range list.Items {
		for _, e := range s.Endpoints {
			pod := "(no pod)"
			if e.TargetRef != nil {
				pod = e.TargetRef.Name
			}
			ready := "not-ready"
			if e.Conditions.Ready != nil && *e.Conditions.Ready {
				ready = "ready"
			}
			out = append(out, fmt.Sprintf("%s %s %s", pod, strings.Join(e.Addresses, ","), ready))
		}
	}
	slices.Sort(out)
	return strings.Join(out, "; "), nil
}

// waitEndpoints waits until the Service's EndpointSlices list exactly the
// pods of want (ordinal: ready), each at its pod's address.
func waitEndpoints(t *testing.T, ctx context.Context, kc *KubeCluster, service string, want map[int]bool) {
	t.Helper()
	var lines []string
	for _, i := range slices.Sorted(maps.Keys(want)) {
		ready := "not-ready"
		if want[i] {
			ready = "ready"
		}
		lines = append(lines, fmt.Sprintf("%s %s %s", kc.PodName(i), kc.Pod(i).IP, ready))
	}
	slices.Sort(lines)
	w := strings.Join(lines, "; ")
	var got string
	err := waitFor(ctx, 30*time.Second, func() (bool, error) {
		var err error
		got, err = endpoints(ctx, kc, service)
		return got == w, err
	})
	if err != nil {
		t.Fatalf("Service %s: endpoints %q, want %q: %v", service, got, w, err)
	}
	t.Logf("Service %s: %s", service, got)
}
