package e2e

import (
	"context"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestKubeRestartVsScaleDown runs the example manifests (hooks variant,
// AKU_REPLICATION_RESET_AT_END = 2, AKU_KUBERNETES_PUBLISH = 1, rbac.yaml)
// on the real control plane, and tells a restart from a scale-down as
// aku asks the API (docs/behaviour.md, "Leaving for good or restarting"):
// a slave deleted by hand is recreated by the StatefulSet, so its preStop
// end keeps its restart points and its next start rejoins by FLUSH (no
// TRUNCATE, no SYNC); after a scale-down the leaving slave's end resets
// its pairs on both sides. The pods carry aku's labels, and kubectl
// describe pod would show each start and end as an Event.
func TestKubeRestartVsScaleDown(t *testing.T) {
	kc := newKubeCluster(t, testOptions("statefulset-hooks"))
	c := kc.Cluster
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	mustScaleKube(t, ctx, kc, 3)
	insertRows(t, ctx, c, 0, "T1", 1, 10)
	insertRows(t, ctx, c, 2, "T1", 11, 20)
	waitKeys(t, ctx, c, "T1", span(1, 20))
	checkLabels(t, ctx, kc, map[int]string{0: "master/true", 1: "slave/true", 2: "slave/true"})

	deleteByHand(t, ctx, kc, 2)
	end := lastTermination(t, kc, 2)
	checkLog(t, "end of pod 2 deleted by hand", end, "AKU started with END option.", "this pod comes back (the pod is being deleted and ordinal 2 is below StatefulSet altibase-sts's spec.replicas 3", "AKU run successfully.")
	checkNoLog(t, "end of pod 2 deleted by hand", end, "Reset replications.", "WARNING")
	checkExits(t, "end of pod 2 deleted by hand", end, "start=0", "end=0")
	insertRows(t, ctx, c, 0, "T1", 21, 30)
	log := startedLog(t, ctx, c, 2)
	checkLog(t, "start of the recreated pod 2", log, "AKU started with START option.", "Start as SLAVE Pod.", "Flush replications.", "AKU run successfully.")
	checkNoLog(t, "start of the recreated pod 2", log, "Truncate tables for replications.", "Sync tables from MASTER Server.", "WARNING")
	waitKeys(t, ctx, c, "T1", span(1, 30))
	checkMesh(t, ctx, c)
	checkLabels(t, ctx, kc, map[int]string{2: "slave/true"})
	checkEvents(t, ctx, kc, 2, "Normal Started")

	// kubectl scale --replicas=2: pod 2 leaves for good.
	mustScaleKube(t, ctx, kc, 2)
	end = lastTermination(t, kc, 2)
	checkLog(t, "end of pod 2 at a scale-down", end, "AKU started with END option.", "this pod leaves for good (ordinal 2 is not below StatefulSet altibase-sts's spec.replicas 2", "Reset replications.", "Replication reset has ended.", "AKU run successfully.")
	checkNoLog(t, "end of pod 2 at a scale-down", end, "WARNING")
	checkMesh(t, ctx, c)
	insertRows(t, ctx, c, 1, "T1", 31, 40)
	waitKeys(t, ctx, c, "T1", span(1, 40))
}

// deleteByHand deletes pod ordinal through the API (kubectl delete pod)
// and waits until the kubelet has ended it and the StatefulSet's new pod of
// that name is ready, with nothing else between.
func deleteByHand(t *testing.T, ctx context.Context, kc *KubeCluster, ordinal int) {
	t.Helper()
	name := kc.PodName(ordinal)
	before := len(kc.history())
	if err := kc.ControlPlane.Client.CoreV1().Pods(kc.Namespace).Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	want := []string{"deleting " + name, "gone " + name, "created " + name, "ready " + name}
	if err := waitFor(ctx, 2*time.Minute, func() (bool, error) {
		return slices.Equal(kc.history()[before:], want), nil
	}); err != nil {
		t.Fatalf("deleting pod %d by hand, the kubelet saw %v, want %v: %v", ordinal, kc.history()[before:], want, err)
	}
}

// lastTermination is the log of pod ordinal's last deletion, which must
// have been graceful.
func lastTermination(t *testing.T, kc *KubeCluster, ordinal int) string {
	t.Helper()
	terms := kc.Terminations(kc.PodName(ordinal))
	if len(terms) == 0 {
		t.Fatalf("pod %d: no termination recorded", ordinal)
	}
	term := terms[len(terms)-1]
	if !term.Graceful {
		t.Errorf("pod %d: killed after %v, want its end within the grace period", ordinal, term.Duration)
	}
	return term.Log
}

// checkLabels compares the pods' aku/role and aku/synced labels in the API
// with want ("slave/true"), by ordinal.
func checkLabels(t *testing.T, ctx context.Context, kc *KubeCluster, want map[int]string) {
	t.Helper()
	for ordinal, w := range want {
		pod, err := kc.ControlPlane.Client.CoreV1().Pods(kc.Namespace).Get(ctx, kc.PodName(ordinal), metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := pod.Labels["aku/role"] + "/" + pod.Labels["aku/synced"]; got != w {
			t.Errorf("pod %d: labels aku/role and aku/synced %q, want %q", ordinal, got, w)
		}
	}
}

// checkEvents requires Events of these types and reasons ("Normal
// Started") on pod ordinal, as kubectl describe pod finds them.
func checkEvents(t *testing.T, ctx context.Context, kc *KubeCluster, ordinal int, want ...string) {
	t.Helper()
	pod, err := kc.ControlPlane.Client.CoreV1().Pods(kc.Namespace).Get(ctx, kc.PodName(ordinal), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := kc.ControlPlane.Client.CoreV1().Events(kc.Namespace).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.uid=" + string(pod.UID)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs.Items {
		got = append(got, e.Type+" "+e.Reason)
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("pod %d: events %v, want %q among them", ordinal, got, w)
		}
	}
}
