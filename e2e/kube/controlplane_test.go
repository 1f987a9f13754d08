package kube

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/aku-project/aku/e2e/owner"
)

// TestControlPlane starts the control plane and uses what it offers: the
// real StatefulSet controller creates a StatefulSet's pods, the
// EndpointSlice controller publishes one in its Service's slices, a pod's
// ServiceAccount token authenticates and RBAC denies it what no Role
// grants, and Close leaves no process and no state directory.
func TestControlPlane(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cp := StartForTest(t, filepath.Join("..", ".."))
	c := cp.Client

	ns := "cp-test"
	if _, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// kube-controller-manager's ServiceAccount controller is not running:
	// the ServiceAccount admission plugin needs the default one.
	if _, err := c.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	replicas := int32(2)
	labels := map[string]string{"app": "cp-test"}
	sts := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.StatefulSetSpec{
			Replicas:            &replicas,
			ServiceName:         "web",
			PodManagementPolicy: appsv1.ParallelPodManagement,
			Selector:            &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "none"}}},
			},
		},
	}
	if _, err := c.AppsV1().StatefulSets(ns).Create(ctx, sts, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var pod *corev1.Pod
	waitUntil(t, ctx, "the controller creating web-0 and web-1", func() (bool, error) {
		pods, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		names := map[string]bool{}
		for i := range pods.Items {
			names[pods.Items[i].Name] = true
			if pods.Items[i].Name == "web-0" {
				pod = &pods.Items[i]
			}
		}
		return len(names) == 2 && names["web-0"] && names["web-1"], nil
	})
	if len(pod.OwnerReferences) != 1 || pod.OwnerReferences[0].Kind != "StatefulSet" {
		t.Errorf("web-0's owner references: %+v, want the StatefulSet", pod.OwnerReferences)
	}
	checkEndpointSlices(t, ctx, cp, ns, pod, labels)

	token, err := cp.ServiceAccountToken(ctx, pod, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := cp.WriteInCluster(dir, ns, token); err != nil {
		t.Fatal(err)
	}
	// What a pod's client does with them (rest.InClusterConfig).
	env := map[string]string{}
	for _, kv := range cp.InClusterEnv() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	ca, _ := os.ReadFile(filepath.Join(dir, "ca.crt"))
	tok, _ := os.ReadFile(filepath.Join(dir, "token"))
	nsFile, _ := os.ReadFile(filepath.Join(dir, "namespace"))
	podClient, err := kubernetes.NewForConfig(&rest.Config{
		Host:            "https://" + env["KUBERNETES_SERVICE_HOST"] + ":" + env["KUBERNETES_SERVICE_PORT"],
		BearerToken:     string(tok),
		TLSClientConfig: rest.TLSClientConfig{CAData: ca},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = podClient.CoreV1().Pods(string(nsFile)).List(ctx, metav1.ListOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("listing pods with web-0's token and no Role: %v, want forbidden (authenticated, denied by RBAC)", err)
	} else if !strings.Contains(err.Error(), "system:serviceaccount:"+ns+":default") {
		t.Errorf("forbidden to whom? %v", err)
	}

	pids := map[string]int{}
	for _, p := range cp.procs {
		pids[p.name] = p.cmd.Process.Pid
	}
	stateDir := cp.Dir()
	cp.Close()
	for name, pid := range pids {
		if err := syscall.Kill(pid, 0); err == nil {
			t.Errorf("%s (pid %d) still runs after Close", name, pid)
		}
	}
	if _, err := os.Stat(stateDir); !os.IsNotExist(err) {
		t.Errorf("state directory %s after Close: %v, want it removed", stateDir, err)
	}
}

// checkEndpointSlices has the EndpointSlice controller publish a pod of
// the set: a Service selecting the set's pods, and the pod's status given
// an IP (no kubelet runs here: the test writes the status, and the Service
// publishes not-ready addresses, since the pod is bound to no Node), must
// get an EndpointSlice listing the pod at that address.
func checkEndpointSlices(t *testing.T, ctx context.Context, cp *ControlPlane, ns string, pod *corev1.Pod, selector map[string]string) {
	t.Helper()
	c := cp.Client
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{Selector: selector, ClusterIP: corev1.ClusterIPNone, PublishNotReadyAddresses: true,
			Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
	}
	if _, err := c.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod.Status.PodIP, pod.Status.PodIPs = "10.0.0.7", []corev1.PodIP{{IP: "10.0.0.7"}}
	pod.Status.Phase = corev1.PodRunning
	if _, err := c.CoreV1().Pods(ns).UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, ctx, "an EndpointSlice of Service web listing web-0 at 10.0.0.7", func() (bool, error) {
		slices, err := c.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=web"})
		if err != nil {
			return false, err
		}
		for _, s := range slices.Items {
			for _, e := range s.Endpoints {
				if e.TargetRef != nil && e.TargetRef.Name == pod.Name && len(e.Addresses) == 1 && e.Addresses[0] == "10.0.0.7" {
					return true, nil
				}
			}
		}
		return false, nil
	})
}

// TestSweep plants the state directory of a killed run, whose owner is gone
// and whose recorded component still runs: Sweep kills that component and
// removes the directory; a live run's directory, and a process that merely
// reuses a recorded PID, are left alone.
func TestSweep(t *testing.T) {
	// A gone owner: a process that has exited, with its start time.
	gone := exec.Command("true")
	if err := gone.Start(); err != nil {
		t.Fatal(err)
	}
	goneStart, err := owner.ProcessStart(gone.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	_ = gone.Wait()

	component := exec.Command("sleep", "600")
	component.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := component.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- component.Wait() }()
	t.Cleanup(func() { _ = component.Process.Kill(); <-done })
	compStart, err := owner.ProcessStart(component.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	bystander := exec.Command("sleep", "600")
	bystander.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := bystander.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bystander.Process.Kill(); _ = bystander.Wait() })

	stale, err := os.MkdirTemp("/var/tmp", "aku-kube-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(stale) })
	write := func(dir, name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(stale, owner.File, fmt.Sprintf("%d %s -\n", gone.Process.Pid, goneStart))
	// The bystander is recorded with a wrong start time: a PID reused.
	write(stale, procsFile, fmt.Sprintf("etcd %d %s\nkube-apiserver %d 1\n", component.Process.Pid, compStart, bystander.Process.Pid))

	live, err := os.MkdirTemp("/var/tmp", "aku-kube-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(live) })
	if err := owner.Write(live, "-"); err != nil {
		t.Fatal(err)
	}
	write(live, procsFile, fmt.Sprintf("etcd %d %s\n", component.Process.Pid, compStart))

	// Only this test's directories matter; others' are swept or kept by
	// the same rule.
	Sweep(t.Logf)
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the killed run's directory: %v, want it removed", err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("the live run's directory: %v, want it kept", err)
	}
	select {
	case err := <-done:
		done <- err // for the cleanup
		if ws, ok := component.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
			t.Errorf("the recorded component ended with %v, want SIGKILL", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("the recorded component of the killed run still runs")
	}
	if err := syscall.Kill(bystander.Process.Pid, 0); err != nil {
		t.Errorf("a process reusing a recorded PID was killed: %v", err)
	}
}

func waitUntil(t *testing.T, ctx context.Context, what string, cond func() (bool, error)) {
	t.Helper()
	var last error
	for {
		ok, err := cond()
		if ok {
			return
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v (last error: %v)", what, ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
