package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/aku-project/aku/e2e/kube"
)

// newKubeCluster starts a KubeCluster for the test and registers its
// cleanup; on failure the cleanup first prints every log, the control
// plane's too.
func newKubeCluster(t *testing.T, o Options) *KubeCluster {
	t.Helper()
	skipUnlessPossible(t)
	o = kubeOptions(t, o)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	kc, err := StartKube(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("==== control plane ====\n%s", kc.ControlPlane.Logs())
		}
	})
	cleanUp(t, kc.Cluster)
	return kc
}

// kubeOptions completes o for StartKube: the binaries, aku's and the
// control plane's, and the narration. Without the control plane's binaries
// (make kube-deps) the test is skipped, or fails when AKU_E2E_REQUIRED=1.
func kubeOptions(t *testing.T, o Options) Options {
	t.Helper()
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if o.KubeBinDir, err = kube.BinDir(root); err != nil {
		if os.Getenv("AKU_E2E_REQUIRED") == "1" {
			t.Fatalf("kube tier required (AKU_E2E_REQUIRED=1) but cannot run: %v", err)
		}
		t.Skip(err)
	}
	o.BinDir = binDir
	o.Logf = harnessLogf(t)
	return o
}

// mustScaleKube scales the StatefulSet through the API or fails the test.
func mustScaleKube(t *testing.T, ctx context.Context, kc *KubeCluster, n int) {
	t.Helper()
	start := time.Now()
	if err := kc.Scale(ctx, n); err != nil {
		t.Fatalf("scaling to %d: %v", n, err)
	}
	t.Logf("scaled to %d through the API in %v", n, time.Since(start).Round(time.Millisecond))
}

// TestKubeScale runs the manifests on the real control plane: the
// StatefulSet controller creates and deletes the pods as the StatefulSet is
// scaled 1 -> 6 -> 1 -> 6 through the API, the harness only runs them as a
// kubelet. Rows are written between steps, on the master and on the newest
// pod; after each step every pod holds every row once and the live pods
// replicate in a full mesh; the API shows exactly the pods that run, ready,
// on the kubelet's node, at their addresses, never restarted; a pod reaches
// the API server with its own ServiceAccount token.
func TestKubeScale(t *testing.T) {
	o := testOptions("statefulset-entrypoint")
	o.Conf["AKU_SERVER_COUNT"] = "6"
	kc := newKubeCluster(t, o)
	c := kc.Cluster
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var want []int
	next, from := 1, 0
	for _, n := range []int{1, 6, 1, 6} {
		before := len(kc.history())
		mustScaleKube(t, ctx, kc, n)
		checkOrdered(t, kc, kc.history()[before:], from, n)
		if n < from {
			for i := n; i < from; i++ {
				checkKubeEnd(t, kc, i)
			}
		}
		from = n
		checkKubePods(t, ctx, kc, n)
		for _, writer := range []int{0, n - 1} {
			insertRows(t, ctx, c, writer, "T1", next, next+4)
			want = union(want, span(next, next+4))
			next += 5
		}
		waitKeys(t, ctx, c, "T1", want)
		checkMeshOf(t, ctx, c, 6)
	}
	checkInCluster(t, ctx, kc, 5)
}

// checkOrdered checks the steps of a scale from..to against OrderedReady:
// up, each pod created after the previous one was ready, in ordinal order;
// down, each pod deleted after the previous one was gone, from the highest
// ordinal.
func checkOrdered(t *testing.T, kc *KubeCluster, steps []string, from, to int) {
	t.Helper()
	var want []string
	for i := from; i < to; i++ {
		want = append(want, "created "+kc.PodName(i), "ready "+kc.PodName(i))
	}
	for i := from - 1; i >= to; i-- {
		want = append(want, "deleting "+kc.PodName(i), "gone "+kc.PodName(i))
	}
	if strings.Join(steps, ", ") != strings.Join(want, ", ") {
		t.Errorf("scaling %d -> %d, the kubelet saw:\n  %s\nwant (OrderedReady):\n  %s", from, to, strings.Join(steps, ", "), strings.Join(want, ", "))
	}
}

// checkKubeEnd checks the last deletion of pod ordinal: aku -p end ran from
// the entry point on SIGTERM and succeeded within the grace period, and the
// server stopped.
func checkKubeEnd(t *testing.T, kc *KubeCluster, ordinal int) {
	t.Helper()
	terms := kc.Terminations(kc.PodName(ordinal))
	if len(terms) == 0 {
		t.Errorf("pod %d: no termination recorded", ordinal)
		return
	}
	term := terms[len(terms)-1]
	what := fmt.Sprintf("end of pod %d", ordinal)
	if !term.Graceful || term.Duration > kc.Grace() {
		t.Errorf("%s: graceful %v after %v, want within the grace period %v", what, term.Graceful, term.Duration, kc.Grace())
	}
	checkLog(t, what, term.Log, "AKU started with END option.", "AKU run successfully.", "entrypoint: stopping the server", "server: stopped")
	checkExits(t, what, term.Log, "start=0", "end=0")
}

// checkKubePods compares the API's pods with the harness's: n pods, each
// bound to the node, Running and Ready with the harness's address, started,
// never restarted, owned by the StatefulSet.
func checkKubePods(t *testing.T, ctx context.Context, kc *KubeCluster, n int) {
	t.Helper()
	pods, err := kc.ControlPlane.Client.CoreV1().Pods(kc.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != n {
		t.Errorf("%d pods in the API, want %d", len(pods.Items), n)
	}
	for _, pod := range pods.Items {
		var ordinal int
		if _, err := fmt.Sscanf(strings.TrimPrefix(pod.Name, kc.StatefulSet().Name+"-"), "%d", &ordinal); err != nil || ordinal >= n {
			t.Errorf("pod %s: not one of ordinals 0..%d", pod.Name, n-1)
			continue
		}
		p := kc.Pod(ordinal)
		if p == nil {
			t.Errorf("pod %s: in the API but not running here", pod.Name)
			continue
		}
		ready := false
		for _, cond := range pod.Status.Conditions {
			if cond.Type == corev1.PodReady {
				ready = cond.Status == corev1.ConditionTrue
			}
		}
		if pod.Spec.NodeName != kc.Node || pod.Status.Phase != corev1.PodRunning || !ready || pod.Status.PodIP != p.IP {
			t.Errorf("pod %s: node %q phase %s ready %v IP %s, want node %q, Running, ready, IP %s",
				pod.Name, pod.Spec.NodeName, pod.Status.Phase, ready, pod.Status.PodIP, kc.Node, p.IP)
		}
		if len(pod.Status.ContainerStatuses) != 1 {
			t.Errorf("pod %s: container statuses %+v", pod.Name, pod.Status.ContainerStatuses)
		} else if cs := pod.Status.ContainerStatuses[0]; cs.Started == nil || !*cs.Started || !cs.Ready || cs.RestartCount != 0 {
			t.Errorf("pod %s: container started %v ready %v restarts %d, want started, ready, 0", pod.Name, cs.Started, cs.Ready, cs.RestartCount)
		}
		if len(pod.OwnerReferences) != 1 || pod.OwnerReferences[0].Kind != "StatefulSet" {
			t.Errorf("pod %s: owners %+v, want the StatefulSet", pod.Name, pod.OwnerReferences)
		}
	}
}

// checkInCluster checks what a pod sees of the API server: its
// ServiceAccount token, CA and namespace under kube.ServiceAccountDir, an
// API server reachable from its network namespace at
// KUBERNETES_SERVICE_HOST:PORT, and a token that authenticates as the
// pod's ServiceAccount.
func checkInCluster(t *testing.T, ctx context.Context, kc *KubeCluster, ordinal int) {
	t.Helper()
	read := func(file string) string {
		r, err := kc.Exec(ctx, ordinal, 5*time.Second, "cat", kube.ServiceAccountDir+"/"+file)
		if err != nil || r.ExitCode != 0 {
			t.Fatalf("reading %s in pod %d: %v %s", file, ordinal, err, r)
		}
		return r.Output
	}
	if ns := read("namespace"); ns != kc.Namespace {
		t.Errorf("namespace file %q, want %q", ns, kc.Namespace)
	}
	if ca := read("ca.crt"); ca != string(kc.ControlPlane.CA) {
		t.Errorf("ca.crt is not the control plane's CA:\n%s", ca)
	}
	token := read("token")
	r, err := kc.Exec(ctx, ordinal, 5*time.Second, "bash", "-c", `exec 3<>/dev/tcp/$KUBERNETES_SERVICE_HOST/$KUBERNETES_SERVICE_PORT`)
	if err != nil || r.ExitCode != 0 {
		t.Errorf("connecting to the API server from pod %d: %v %s", ordinal, err, r)
	}
	client, err := kubernetes.NewForConfig(&rest.Config{Host: kc.ControlPlane.Host, BearerToken: token,
		TLSClientConfig: rest.TLSClientConfig{CAData: kc.ControlPlane.CA}})
	if err != nil {
		t.Fatal(err)
	}
	who, err := client.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("authenticating with pod %d's token: %v", ordinal, err)
	}
	pod, err := kc.ControlPlane.Client.CoreV1().Pods(kc.Namespace).Get(ctx, kc.PodName(ordinal), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "system:serviceaccount:" + kc.Namespace + ":" + pod.Spec.ServiceAccountName; who.Status.UserInfo.Username != want {
		t.Errorf("pod %d's token authenticates as %q, want %q", ordinal, who.Status.UserInfo.Username, want)
	}
}

// TestKubeContainerRestart kills a slave's whole container (SIGKILL, no
// end) under the real control plane: the kubelet reports the pod not ready
// and restarts the container (restartPolicy Always) in the same pod, which
// takes the rejoin path (docs/behaviour.md, "Rejoining slave start"); the
// API then shows the pod ready again with restart count 1, the controller
// neither deleted nor replaced it (same UID), and the rows written while it
// was down arrive.
func TestKubeContainerRestart(t *testing.T) {
	kc := newKubeCluster(t, testOptions("statefulset-entrypoint"))
	c := kc.Cluster
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	mustScaleKube(t, ctx, kc, 3)
	insertRows(t, ctx, c, 0, "T1", 1, 10)
	waitKeys(t, ctx, c, "T1", span(1, 10))
	pods := kc.ControlPlane.Client.CoreV1().Pods(kc.Namespace)
	before, err := pods.Get(ctx, kc.PodName(2), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}

	if err := kc.KillContainer(2); err != nil {
		t.Fatal(err)
	}
	insertRows(t, ctx, c, 0, "T1", 11, 20)
	var after *corev1.Pod
	sawNotReady := false
	for {
		after, err = pods.Get(ctx, kc.PodName(2), metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cs := after.Status.ContainerStatuses
		if len(cs) == 1 && !cs[0].Ready {
			sawNotReady = true
		}
		if len(cs) == 1 && cs[0].RestartCount == 1 && cs[0].Ready {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for pod 2 to be restarted and ready: %v; status %+v", ctx.Err(), after.Status)
		case <-time.After(50 * time.Millisecond):
		}
	}
	if !sawNotReady {
		t.Error("pod 2 was never reported not ready while its container was down")
	}
	if after.UID != before.UID {
		t.Errorf("pod 2 was replaced (UID %s, then %s), want the same pod restarted", before.UID, after.UID)
	}
	log := startedLog(t, ctx, c, 2)
	checkLog(t, "rejoin of pod 2", log, "AKU started with START option.", "Start as SLAVE Pod.", "AKU run successfully.")
	checkNoLog(t, "rejoin of pod 2", log, "Truncate tables for replications.", "Sync tables from MASTER Server.")
	waitKeys(t, ctx, c, "T1", span(1, 20))
	checkMesh(t, ctx, c)
}

// TestKubeServerValidation shows that the API server validates the
// manifests itself: a StatefulSet whose selector does not match its pod
// template decodes (the harness's strict decoding checks fields and types,
// not such rules) but the API server refuses it, and StartKube fails saying
// which file and why.
func TestKubeServerValidation(t *testing.T) {
	skipUnlessPossible(t)
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src := filepath.Join(root, "examples", "kubernetes")
	files, err := filepath.Glob(filepath.Join(src, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("manifests in %s: %v", src, err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(f) == "statefulset-entrypoint.yaml" {
			broken := strings.Replace(string(data), "    matchLabels:\n      app: altibase\n", "    matchLabels:\n      app: another\n", 1)
			if broken == string(data) {
				t.Fatalf("%s: no selector app: altibase to break", f)
			}
			data = []byte(broken)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	o := testOptions("statefulset-entrypoint")
	o.ManifestDir = dir
	o = kubeOptions(t, o)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	kc, err := StartKube(ctx, o)
	if err == nil {
		kc.Close()
		t.Fatal("StartKube accepted a StatefulSet whose selector does not match its template")
	}
	t.Logf("StartKube: %v", err)
	for _, want := range []string{"statefulset-entrypoint.yaml", "StatefulSet altibase-sts", "selector", "does not match"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("StartKube's error lacks %q:\n%v", want, err)
		}
	}
}
