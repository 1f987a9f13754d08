package kubetest

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	controlplane "github.com/aku-project/aku/e2e/kube"
	"github.com/aku-project/aku/e2e/manifest"
	"github.com/aku-project/aku/podlife/kube"
)

// StatefulSet is the name of the test StatefulSet: the example's, which
// the example Role lets aku read.
const StatefulSet = "altibase-sts"

// Node is the node the test StatefulSet's pods are bound to (no kubelet
// runs): a bound pod is deleted gracefully, so a pod that a scale-down
// deletes still exists, terminating, as while its preStop hook runs.
const Node = "aku-test-node"

// root is the repository's top directory.
func root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// Start starts a control plane for the test and stops it when the test
// ends, or skips the test without the binaries (controlplane.StartForTest).
func Start(t *testing.T) *controlplane.ControlPlane {
	t.Helper()
	return controlplane.StartForTest(t, root())
}

// Namespace creates namespace ns with its default ServiceAccount, the
// objects of examples/kubernetes/rbac.yaml, and a StatefulSet StatefulSet
// of replicas pods running as the example's ServiceAccount, and waits until
// the controller has created its pods.
func Namespace(t *testing.T, cp *controlplane.ControlPlane, ns string, replicas int32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	set, err := manifest.Load(filepath.Join(root(), "examples", "kubernetes"))
	if err != nil {
		t.Fatal(err)
	}
	c := cp.Client
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("creating %s in %s: %v", what, ns, err)
		}
	}
	_, err = c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	must("the namespace", err)
	// No ServiceAccount controller runs: admission needs the default one.
	_, err = c.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{})
	must("ServiceAccount default", err)
	_, err = c.CoreV1().ServiceAccounts(ns).Create(ctx, set.ServiceAccount, metav1.CreateOptions{})
	must("the example's ServiceAccount", err)
	_, err = c.RbacV1().Roles(ns).Create(ctx, set.Role, metav1.CreateOptions{})
	must("the example's Role", err)
	_, err = c.RbacV1().RoleBindings(ns).Create(ctx, set.RoleBinding, metav1.CreateOptions{})
	must("the example's RoleBinding", err)
	labels := map[string]string{"app": "altibase"}
	sts := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: StatefulSet},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    &replicas,
			ServiceName: "altibase-svc",
			// All pods at once: no kubelet makes any of them ready.
			PodManagementPolicy: appsv1.ParallelPodManagement,
			Selector:            &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					ServiceAccountName: set.ServiceAccount.Name,
					NodeName:           Node,
					Containers:         []corev1.Container{{Name: "altibase", Image: "none"}},
				},
			},
		},
	}
	_, err = c.AppsV1().StatefulSets(ns).Create(ctx, sts, metav1.CreateOptions{})
	must("StatefulSet "+StatefulSet, err)
	for q := range replicas {
		Pod(t, cp, ns, fmt.Sprintf("%s-%d", StatefulSet, q))
	}
}

// Pod waits until pod name exists and returns it.
func Pod(t *testing.T, cp *controlplane.ControlPlane, ns, name string) *corev1.Pod {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		pod, err := cp.Client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			return pod
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for pod %s/%s: %v", ns, name, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Scale sets the test StatefulSet's spec.replicas, with a merge patch (the
// controller updates the set's status meanwhile: an update of what was
// read could conflict).
func Scale(t *testing.T, cp *controlplane.ControlPlane, ns string, replicas int32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	patch := fmt.Appendf(nil, `{"spec":{"replicas":%d}}`, replicas)
	if _, err := cp.Client.AppsV1().StatefulSets(ns).Patch(ctx, StatefulSet, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatalf("scaling %s to %d: %v", StatefulSet, replicas, err)
	}
}

// Credentials writes the in-cluster credentials pod would find into a
// directory of the test's and returns the client configuration aku builds
// from them: a token of the pod's ServiceAccount bound to the pod, as the
// kubelet mounts it; or, when serviceAccount is not "", a token of that
// ServiceAccount (created if need be), for a pod without the example's
// permissions.
func Credentials(t *testing.T, cp *controlplane.ControlPlane, ns, pod, serviceAccount string) kube.Config {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var token string
	if serviceAccount == "" {
		var err error
		if token, err = cp.ServiceAccountToken(ctx, Pod(t, cp, ns, pod), time.Hour); err != nil {
			t.Fatal(err)
		}
	} else {
		sas := cp.Client.CoreV1().ServiceAccounts(ns)
		if _, err := sas.Get(ctx, serviceAccount, metav1.GetOptions{}); err != nil {
			if _, err := sas.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: serviceAccount}}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		secs := int64(3600)
		tr, err := sas.CreateToken(ctx, serviceAccount, &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &secs}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		token = tr.Status.Token
	}
	dir := t.TempDir()
	if err := cp.WriteInCluster(dir, ns, token); err != nil {
		t.Fatal(err)
	}
	cfg := kube.Config{SecretDir: dir, PodName: pod}
	for _, kv := range cp.InClusterEnv() {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "KUBERNETES_SERVICE_HOST":
			cfg.Host = v
		case "KUBERNETES_SERVICE_PORT":
			cfg.Port = v
		}
	}
	return cfg
}

// Delete deletes pod name as kubectl delete pod does, and waits until the
// API server has marked it deleting: bound to Node, where no kubelet
// confirms, it then stays, terminating, as while its preStop hook runs.
// With force, it is removed at once (grace period 0), so that the
// StatefulSet creates it again.
func Delete(t *testing.T, cp *controlplane.ControlPlane, ns, name string, force bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	opts := metav1.DeleteOptions{}
	if force {
		zero := int64(0)
		opts.GracePeriodSeconds = &zero
	}
	if err := cp.Client.CoreV1().Pods(ns).Delete(ctx, name, opts); err != nil {
		t.Fatalf("deleting pod %s/%s: %v", ns, name, err)
	}
	if !force {
		Deleting(t, cp, ns, name)
	}
}

// Deleting waits until pod name has a deletionTimestamp.
func Deleting(t *testing.T, cp *controlplane.ControlPlane, ns, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		pod, err := cp.Client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err == nil && pod.DeletionTimestamp != nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for pod %s/%s to be deleting: %v", ns, name, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
