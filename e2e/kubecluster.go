package e2e

import (
	"context"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/aku-project/aku/e2e/kube"
	akuretry "github.com/aku-project/aku/internal/retry"
)

// KubeCluster is a Cluster whose StatefulSet lives on a real Kubernetes
// control plane (package kube): the manifests are applied to the API
// server, the real StatefulSet controller creates and deletes the Pod
// objects, and the harness only plays the kubelet of one node (see
// docs/e2e.md, "The kube tier"). The embedded Cluster gives the pods, SQL
// and faults as in the emulation; its CreatePod, DeletePod and Scale are
// the kubelet's and the controller's here: scale through Scale (the API).
type KubeCluster struct {
	*Cluster
	// ControlPlane is the API server and its client (admin).
	ControlPlane *kube.ControlPlane
	// Namespace holds the manifests' objects and the pods.
	Namespace string
	// Node is the name of the node the kubelet registered.
	Node string

	kubelet *kubelet
}

// StartKube starts a Cluster with no pod, a control plane whose API server
// listens on the pods' bridge, the namespace (with its default
// ServiceAccount, which kube-controller-manager would create), a Node, the
// kubelet, and then applies the manifests: the ConfigMap as the pods see
// it (Options.Conf and ConfigMap applied), the Secret, the Service and the
// chosen StatefulSet variant with replicas 0. o.KubeBinDir names the
// control plane's binaries (default: kube.BinDir of the module). Close
// (of the Cluster) stops the kubelet, the control plane and the rest.
func StartKube(ctx context.Context, o Options) (*KubeCluster, error) {
	bin := o.KubeBinDir
	if bin == "" {
		root, err := ModuleRoot()
		if err != nil {
			return nil, err
		}
		if bin, err = kube.BinDir(root); err != nil {
			return nil, err
		}
	}
	c, err := Start(ctx, o)
	if err != nil {
		return nil, err
	}
	kc := &KubeCluster{Cluster: c, Namespace: "aku-" + c.net.suffix, Node: "aku-node-" + c.net.suffix}
	if err := kc.setUp(ctx, bin); err != nil {
		c.Close()
		return nil, err
	}
	return kc, nil
}

func (kc *KubeCluster) setUp(ctx context.Context, bin string) error {
	c := kc.Cluster
	cp, err := kube.Start(ctx, kube.Options{BinDir: bin, Address: c.net.gatewayIP(), Logf: c.opts.Logf, KeepDir: c.opts.KeepDir})
	if err != nil {
		return err
	}
	kc.ControlPlane = cp
	c.addCloser(cp.Close)
	api := cp.Client
	if _, err := api.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: kc.Namespace}}, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating namespace %s: %w", kc.Namespace, err)
	}
	if _, err := api.CoreV1().ServiceAccounts(kc.Namespace).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating the default ServiceAccount of %s: %w", kc.Namespace, err)
	}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: kc.Node, Labels: map[string]string{"kubernetes.io/hostname": kc.Node}}}
	if node, err = api.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("registering node %s: %w", kc.Node, err)
	}
	node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: c.net.gatewayIP()}, {Type: corev1.NodeHostName, Address: kc.Node}}
	node.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
		LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now()}}
	if _, err := api.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("reporting node %s ready: %w", kc.Node, err)
	}
	kc.kubelet = startKubelet(c, cp, kc.Namespace, kc.Node)
	// Closers run in reverse: the kubelet stops before the control plane.
	c.addCloser(kc.kubelet.stop)
	return kc.apply(ctx)
}

// Scale sets the StatefulSet's replicas through its scale subresource (as
// kubectl scale does) and waits until the controller and the kubelet are
// done: the StatefulSet reports replicas ready replicas, exactly those
// pods exist and run here, and no other pod is left.
func (kc *KubeCluster) Scale(ctx context.Context, replicas int) error {
	api, ns, name := kc.ControlPlane.Client, kc.Namespace, kc.sts.Name
	kc.logf("scale StatefulSet %s to %d replicas (API)", name, replicas)
	scale, err := api.AppsV1().StatefulSets(ns).GetScale(ctx, name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("scaling StatefulSet %s: %w", name, err)
	}
	scale.Spec.Replicas = int32(replicas)
	if _, err := api.AppsV1().StatefulSets(ns).UpdateScale(ctx, name, scale, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("scaling StatefulSet %s: %w", name, err)
	}
	done := func() (bool, string) {
		sts, err := api.AppsV1().StatefulSets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		pods, err := api.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err.Error()
		}
		seen := describe(sts, pods.Items)
		if sts.Status.ObservedGeneration < sts.Generation || sts.Status.Replicas != int32(replicas) ||
			sts.Status.ReadyReplicas != int32(replicas) || len(pods.Items) != replicas || kc.Replicas() != replicas {
			return false, seen
		}
		for i := 0; i < replicas; i++ {
			if kc.Pod(i) == nil {
				return false, seen
			}
		}
		return true, seen
	}
	for {
		ok, seen := done()
		if ok {
			break
		}
		if err := akuretry.Sleep(ctx, 200*time.Millisecond); err != nil {
			return fmt.Errorf("scaling StatefulSet %s to %d: %w; last seen: %s; kubelet:\n%s", name, replicas, err, seen, kc.kubelet.troubles())
		}
	}
	kc.logf("StatefulSet %s: %d replicas ready", name, replicas)
	return nil
}

// RolloutRestart changes the StatefulSet's pod template as kubectl
// rollout restart does (the annotation kubectl.kubernetes.io/restartedAt,
// by a merge patch) and returns: the controller then replaces the pods by
// the update strategy, RollingUpdate by default, from the highest ordinal
// down. The caller waits for the rollout.
func (kc *KubeCluster) RolloutRestart(ctx context.Context) error {
	name := kc.sts.Name
	kc.logf("rollout restart of StatefulSet %s (API)", name)
	patch := fmt.Sprintf(`{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":%q}}}}}`, time.Now().Format(time.RFC3339))
	if _, err := kc.ControlPlane.Client.AppsV1().StatefulSets(kc.Namespace).Patch(ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("restarting the pods of StatefulSet %s: %w", name, err)
	}
	return nil
}

// Terminations are how the deletions of the pod of this name went, oldest
// first (the kubelet ran them: see Cluster.DeletePod).
func (kc *KubeCluster) Terminations(pod string) []Termination {
	k := kc.kubelet
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]Termination(nil), k.ended[pod]...)
}

// history is the kubelet's record of the pods' lives so far: "created",
// "ready", "deleting" and "gone", each with the pod's name, in order.
func (kc *KubeCluster) history() []string {
	k := kc.kubelet
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.history...)
}

// describe is a StatefulSet's status and its pods', for error messages.
func describe(sts *appsv1.StatefulSet, pods []corev1.Pod) string {
	var b strings.Builder
	fmt.Fprintf(&b, "StatefulSet generation %d observed %d, replicas %d ready %d;", sts.Generation, sts.Status.ObservedGeneration, sts.Status.Replicas, sts.Status.ReadyReplicas)
	for _, p := range pods {
		ready := false
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady {
				ready = c.Status == corev1.ConditionTrue
			}
		}
		fmt.Fprintf(&b, " %s(%s ready=%v deleting=%v)", p.Name, p.Status.Phase, ready, p.DeletionTimestamp != nil)
	}
	return b.String()
}
