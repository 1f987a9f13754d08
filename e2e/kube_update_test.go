package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// TestKubeRollingUpdate changes the StatefulSet's pod template through the
// API (kubectl rollout restart) on the real control plane, with the
// example's update strategy (RollingUpdate) and aku.conf
// (AKU_REPLICATION_RESET_AT_END = 2): the controller deletes and recreates
// the pods one at a time from the highest ordinal down, each after the
// previous one is ready again. Every end keeps its restart points (the pod
// comes back: docs/behaviour.md, "Leaving for good or restarting"), every
// new pod rejoins by FLUSH, the master too (no TRUNCATE, no SYNC), and the
// rows written on a surviving pod while each pod is replaced, and on each
// new pod once it is ready, are on every pod once.
func TestKubeRollingUpdate(t *testing.T) {
	kc := newKubeCluster(t, testOptions("statefulset-entrypoint"))
	c := kc.Cluster
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	api, ns := kc.ControlPlane.Client, kc.Namespace
	const n = 3
	mustScaleKube(t, ctx, kc, n)
	insertRows(t, ctx, c, 0, "T1", 1, 10)
	want := span(1, 10)
	waitKeys(t, ctx, c, "T1", want)
	uids := map[string]types.UID{}
	for i := range n {
		pod, err := api.CoreV1().Pods(ns).Get(ctx, kc.PodName(i), metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		uids[pod.Name] = pod.UID
	}

	before := len(kc.history())
	start := time.Now()
	if err := kc.RolloutRestart(ctx); err != nil {
		t.Fatal(err)
	}
	// Follow the kubelet: while pod i is replaced, write on a pod that
	// stays (the master, or pod 1 while the master is replaced); once the
	// new pod i is ready, write on it.
	var steps []string
	for next := 11; len(steps) < 4*n; {
		h := kc.history()[before:]
		for _, step := range h[len(steps):] {
			steps = append(steps, step)
			verb, pod, _ := strings.Cut(step, " ")
			var ordinal int
			if _, err := fmt.Sscanf(strings.TrimPrefix(pod, c.sts.Name+"-"), "%d", &ordinal); err != nil {
				t.Fatalf("kubelet step %q: %v", step, err)
			}
			writer := -1
			switch {
			case verb == "deleting" && ordinal == 0:
				writer = 1
			case verb == "deleting":
				writer = 0
			case verb == "ready":
				writer = ordinal
			}
			if writer >= 0 {
				insertRows(t, ctx, c, writer, "T1", next, next+4)
				want = union(want, span(next, next+4))
				next += 5
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("waiting for the rolling update, the kubelet saw %v", steps)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var wantSteps []string
	for i := n - 1; i >= 0; i-- {
		p := kc.PodName(i)
		wantSteps = append(wantSteps, "deleting "+p, "gone "+p, "created "+p, "ready "+p)
	}
	if !slices.Equal(steps, wantSteps) {
		t.Errorf("rolling update, the kubelet saw:\n  %s\nwant (highest ordinal first, one at a time):\n  %s", strings.Join(steps, ", "), strings.Join(wantSteps, ", "))
	}
	if err := waitFor(ctx, 30*time.Second, func() (bool, error) {
		sts, err := api.AppsV1().StatefulSets(ns).Get(ctx, c.sts.Name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		s := sts.Status
		return s.ObservedGeneration == sts.Generation && s.UpdatedReplicas == n && s.ReadyReplicas == n && s.CurrentRevision == s.UpdateRevision, nil
	}); err != nil {
		t.Fatalf("waiting for the StatefulSet to report the rollout done: %v", err)
	}
	t.Logf("rolling update of %d pods done in %v", n, time.Since(start).Round(time.Millisecond))
	sts, err := api.AppsV1().StatefulSets(ns).Get(ctx, c.sts.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}

	for i := range n {
		pod, err := api.CoreV1().Pods(ns).Get(ctx, kc.PodName(i), metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if pod.UID == uids[pod.Name] {
			t.Errorf("pod %d: same UID %s after the rolling update, want a new pod", i, pod.UID)
		}
		if rev := pod.Labels["controller-revision-hash"]; rev != sts.Status.UpdateRevision {
			t.Errorf("pod %d: revision %q, want the update revision %q", i, rev, sts.Status.UpdateRevision)
		}
		what := fmt.Sprintf("end of pod %d at the rolling update", i)
		end := lastTermination(t, kc, i)
		checkLog(t, what, end, "AKU started with END option.", "AKU run successfully.")
		if i > 0 {
			checkHas(t, what, end, fmt.Sprintf("this pod comes back (the pod is being deleted and ordinal %d is below StatefulSet altibase-sts's spec.replicas %d", i, n))
		}
		checkNoLog(t, what, end, "Reset replications.", "WARNING")
		checkExits(t, what, end, "start=0", "end=0")
		role := "SLAVE"
		if i == 0 {
			role = "MASTER"
		}
		what = fmt.Sprintf("start of the new pod %d", i)
		log := startedLog(t, ctx, c, i)
		checkLog(t, what, log, "AKU started with START option.", "Start as "+role+" Pod.", "Flush replications.", "AKU run successfully.")
		checkNoLog(t, what, log, "Truncate tables for replications.", "Sync tables from MASTER Server.", "WARNING")
		checkExits(t, what, log, "start=0")
	}
	waitKeys(t, ctx, c, "T1", want)
	checkMesh(t, ctx, c)
	checkLabels(t, ctx, kc, map[int]string{0: "master/true", 1: "slave/true", 2: "slave/true"})
}
