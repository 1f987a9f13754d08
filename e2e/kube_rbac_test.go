package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestKubeForbidden removes rbac.yaml's RoleBinding through the API on the
// real control plane, so every request of aku gets 403: a slave deleted by
// hand, which the StatefulSet creates again, cannot be told from one that
// leaves, and aku falls back to the original's behaviour
// (docs/behaviour.md, "Leaving for good or restarting", unknown): its end
// resets its pairs on both sides with exactly one WARNING naming the 403,
// and the new pod's start takes the fresh path (TRUNCATE, SYNC from the
// master), with its one WARNING that it cannot label the pod. The rows are
// on every pod once, in a full mesh.
func TestKubeForbidden(t *testing.T) {
	kc := newKubeCluster(t, testOptions("statefulset-hooks"))
	c := kc.Cluster
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	api, ns := kc.ControlPlane.Client, kc.Namespace
	mustScaleKube(t, ctx, kc, 3)
	insertRows(t, ctx, c, 0, "T1", 1, 10)
	insertRows(t, ctx, c, 2, "T1", 11, 20)
	waitKeys(t, ctx, c, "T1", span(1, 20))

	// kubectl delete rolebinding altibase-aku, then kubectl delete pod
	// altibase-sts-2.
	if err := api.RbacV1().RoleBindings(ns).Delete(ctx, "altibase-aku", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	deleteByHand(t, ctx, kc, 2)
	end := lastTermination(t, kc, 2)
	what := "end of pod 2 deleted by hand without the RoleBinding"
	checkLog(t, what, end, "AKU started with END option.", "Reset replications.", "Replication reset has ended.", "AKU run successfully.")
	checkExits(t, what, end, "start=0", "end=0")
	warnings := warningLines(end)
	t.Logf("%s: %q", what, warnings)
	if len(warnings) != 1 || !strings.Contains(warnings[0], "AKU_REPLICATION_RESET_AT_END = 2, but Kubernetes did not say whether this pod leaves for good") ||
		!strings.Contains(warnings[0], "403") {
		t.Errorf("%s: warnings %q, want exactly one, that Kubernetes did not say (403)", what, warnings)
	}
	// Pod 1's side toward pod 2 was reset too (the fresh start that
	// follows would only start it).
	waitStatementDone(t, ctx, c, 1, "ALTER REPLICATION AKU_REP_12 RESET", 5*time.Second)
	insertRows(t, ctx, c, 1, "T1", 21, 30)

	// The set created pod 2 again: a fresh start, all rows copied.
	log := startedLog(t, ctx, c, 2)
	what = "start of the new pod 2"
	checkLog(t, what, log, "AKU started with START option.", "Start as SLAVE Pod.", "Truncate tables for replications.", "Sync tables from MASTER Server.", "AKU run successfully.")
	checkExits(t, what, log, "start=0")
	// Its labels cannot be written either: one WARNING for the run.
	if w := warningLines(log); len(w) != 1 || !strings.Contains(w[0], "AKU_KUBERNETES_PUBLISH = 1, but the pod's labels and Events are not written") || !strings.Contains(w[0], "403") {
		t.Errorf("%s: warnings %q, want exactly one, that the labels are not written (403)", what, w)
	}
	insertRows(t, ctx, c, 2, "T1", 31, 40)
	waitKeys(t, ctx, c, "T1", span(1, 40))
	checkMesh(t, ctx, c)
}

// warningLines are the log's lines with a WARNING.
func warningLines(log string) []string {
	var out []string
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "WARNING") {
			out = append(out, line)
		}
	}
	return out
}
