package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/retry"

	"github.com/aku-project/aku/e2e/kube"
	akuretry "github.com/aku-project/aku/internal/retry"
)

// kubelet plays the kubelet of one node for a KubeCluster: it watches the
// namespace's pods, binds them to its node, runs each as the Cluster runs
// its pods (network namespace, container, hooks, probes, DNS record,
// volume), reports their status, and on deletion runs the preStop hook and
// the grace period and then deletes the pod object (docs/e2e.md, "The kube
// tier").
type kubelet struct {
	c      *Cluster
	cp     *kube.ControlPlane
	client kubernetes.Interface
	ns     string
	node   string

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	workers map[types.UID]*podWorker
	trouble map[string]string // pod name -> its last problem, for errors
	history []string          // "created|ready|deleting|gone <pod>", in order
	ended   map[string][]Termination
}

// podWorker runs one pod object (one UID) from binding to deletion.
type podWorker struct {
	uid      types.UID
	name     string
	deleting chan struct{} // closed when the object has a deletionTimestamp or is gone
	gone     bool          // the object was deleted by someone else
	once     sync.Once
}

// readinessRecheck is how often the kubelet runs the readiness probe of a
// pod once it is ready: the manifests' periodSeconds, not a tuned one
// (Options.ProbePeriod tunes the wait for a start, where time matters).
func (c *Cluster) readinessRecheck() time.Duration {
	if s := c.container.ReadinessProbe.PeriodSeconds; s > 0 {
		return time.Duration(s) * time.Second
	}
	return 10 * time.Second // the Kubernetes default
}

// restartDelay is the kubelet's wait before it restarts an exited
// container (a fixed second, where Kubernetes backs off from 10 s).
const restartDelay = time.Second

func startKubelet(c *Cluster, cp *kube.ControlPlane, ns, node string) *kubelet {
	ctx, cancel := context.WithCancel(context.Background())
	k := &kubelet{c: c, cp: cp, client: cp.Client, ns: ns, node: node, ctx: ctx, cancel: cancel,
		workers: map[types.UID]*podWorker{}, trouble: map[string]string{}, ended: map[string][]Termination{}}
	factory := informers.NewSharedInformerFactoryWithOptions(k.client, 0, informers.WithNamespace(ns))
	inf := factory.Core().V1().Pods().Informer()
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { k.observe(obj, false) },
		UpdateFunc: func(_, obj any) { k.observe(obj, false) },
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			k.observe(obj, true)
		},
	})
	factory.Start(ctx.Done())
	k.wg.Add(1)
	go func() {
		defer k.wg.Done()
		<-ctx.Done()
		factory.Shutdown()
	}()
	return k
}

// stop ends the kubelet's watch and workers (a worker in a grace period
// kills its container at once) and waits for them.
func (k *kubelet) stop() {
	k.cancel()
	k.wg.Wait()
}

// observe starts a worker for a new pod object and tells a pod's worker
// that its object is being deleted or is gone.
func (k *kubelet) observe(obj any, gone bool) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	w := k.workers[pod.UID]
	if w == nil {
		if gone || pod.DeletionTimestamp != nil || k.ctx.Err() != nil {
			return
		}
		w = &podWorker{uid: pod.UID, name: pod.Name, deleting: make(chan struct{})}
		k.workers[pod.UID] = w
		k.wg.Add(1)
		go func() {
			defer k.wg.Done()
			k.runPod(w, pod.DeepCopy())
			k.mu.Lock()
			delete(k.workers, w.uid)
			k.mu.Unlock()
		}()
		return
	}
	if gone {
		w.gone = true
	}
	if gone || pod.DeletionTimestamp != nil {
		w.once.Do(func() { close(w.deleting) })
	}
}

// note records a pod's problem (the kubelet would report it in an event)
// and narrates it.
func (k *kubelet) note(pod, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	k.mu.Lock()
	k.trouble[pod] = msg
	k.mu.Unlock()
	k.c.logf("%s: kubelet: %s", pod, msg)
}

// record appends a step of a pod's life to the history.
func (k *kubelet) record(step, pod string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.history = append(k.history, step+" "+pod)
}

// troubles lists the pods' last problems, for a caller's error.
func (k *kubelet) troubles() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []string
	for pod, msg := range k.trouble {
		out = append(out, pod+": "+msg)
	}
	return strings.Join(out, "\n")
}

// runPod is a pod's life on this node: bind, start, probe, report, and
// terminate on deletion.
func (k *kubelet) runPod(w *podWorker, pod *corev1.Pod) {
	ordinal, err := k.ordinal(pod)
	if err != nil {
		k.note(pod.Name, "not run: %v", err)
		return
	}
	if pod.Spec.NodeName == "" {
		b := &corev1.Binding{
			ObjectMeta: metav1.ObjectMeta{Name: pod.Name, UID: pod.UID},
			Target:     corev1.ObjectReference{Kind: "Node", Name: k.node},
		}
		if err := k.client.CoreV1().Pods(k.ns).Bind(k.ctx, b, metav1.CreateOptions{}); err != nil {
			k.note(pod.Name, "binding to node %s: %v", k.node, err)
			return
		}
	}
	// A pod of the same name that is still terminating here (its object was
	// removed by force) goes first.
	for k.c.Pod(ordinal) != nil {
		if akuretry.Sleep(k.ctx, 100*time.Millisecond) != nil {
			return
		}
	}
	x, err := k.extras(pod)
	if err != nil {
		k.note(pod.Name, "%v", err)
		return
	}
	p, err := k.c.createPod(k.ctx, ordinal, x)
	if err != nil {
		k.note(pod.Name, "starting: %v", err)
		if p != nil {
			k.terminate(w, pod, ordinal)
		}
		return
	}
	k.record("created", pod.Name)
	now := time.Now()
	st := &podState{pod: pod, p: p, started: now, containerSince: now}
	k.report(st)
	for {
		k.runContainer(w, st)
		if !p.running() {
			st.ready, st.containerStarted = false, false
			k.report(st)
		}
		select {
		case <-w.deleting:
			k.terminate(w, pod, ordinal)
			return
		case <-k.ctx.Done():
			return
		case <-time.After(restartDelay):
		}
		// The container exited, or was killed when its startup probe gave
		// up: restartPolicy Always.
		st.restarts++
		if err := k.c.RestartContainer(k.ctx, ordinal); err != nil {
			k.note(pod.Name, "restarting its container: %v", err)
		}
		st.containerSince = time.Now()
		k.report(st)
	}
}

// runContainer probes the running container and reports its status until
// the container exits, its startup probe gives up (then it is killed), or
// the pod is being deleted.
func (k *kubelet) runContainer(w *podWorker, st *podState) {
	c, p := k.c, st.p
	ctx, cancel := context.WithCancel(k.ctx)
	defer cancel()
	go func() {
		select {
		case <-w.deleting:
			cancel()
		case <-ctx.Done():
		}
	}()
	begin := time.Now()
	deadline := begin.Add(c.startTimeout)
	if err := c.waitProbe(ctx, p, "startup", begin, deadline); err != nil {
		if ctx.Err() == nil && p.running() {
			k.note(p.Name, "%v: killing the container", err)
			p.killContainer()
		} else if ctx.Err() == nil {
			k.note(p.Name, "%v", err)
		}
		return
	}
	st.containerStarted = true
	k.report(st)
	if err := c.waitProbe(ctx, p, "readiness", begin, deadline); err != nil {
		if ctx.Err() == nil {
			k.note(p.Name, "%v", err)
		}
		if !p.running() || ctx.Err() != nil {
			return
		}
	} else {
		st.ready = true
		k.report(st)
		k.record("ready", p.Name)
	}
	// Ready or not, keep probing readiness while the container runs.
	for {
		p.mu.Lock()
		done := p.mainDone
		p.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-done:
			k.note(p.Name, "container exited (%v)", p.exitErr())
			return
		case <-time.After(c.readinessRecheck()):
		}
		ready := c.runProbe(ctx, p, c.container.ReadinessProbe).ExitCode == 0
		if ctx.Err() != nil {
			return
		}
		if ready != st.ready {
			st.ready = ready
			c.logf("%s: readiness probe now %v", p.Name, ready)
			k.report(st)
		}
	}
}

// terminate deletes the pod as the kubelet does (Cluster.DeletePod: preStop
// hook, SIGTERM, grace period, SIGKILL; DNS record withdrawn, volume kept),
// then removes the pod object (grace period 0, this UID only).
func (k *kubelet) terminate(w *podWorker, pod *corev1.Pod, ordinal int) {
	k.record("deleting", pod.Name)
	term, err := k.c.DeletePod(k.ctx, ordinal)
	if err != nil {
		k.note(pod.Name, "terminating: %v", err)
	}
	k.mu.Lock()
	k.ended[pod.Name] = append(k.ended[pod.Name], term)
	gone := w.gone
	k.mu.Unlock()
	defer k.record("gone", pod.Name)
	if gone || k.ctx.Err() != nil {
		return
	}
	zero := int64(0)
	err = k.client.CoreV1().Pods(k.ns).Delete(k.ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: &zero,
		Preconditions:      &metav1.Preconditions{UID: &pod.UID},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		k.note(pod.Name, "removing the pod object: %v", err)
	}
}

// ordinal is the pod's ordinal in the cluster's StatefulSet, from its name.
func (k *kubelet) ordinal(pod *corev1.Pod) (int, error) {
	prefix := k.c.sts.Name + "-"
	n, err := strconv.Atoi(strings.TrimPrefix(pod.Name, prefix))
	if !strings.HasPrefix(pod.Name, prefix) || err != nil || n < 0 {
		return 0, fmt.Errorf("pod %s is not a pod of StatefulSet %s", pod.Name, k.c.sts.Name)
	}
	if len(pod.Spec.Containers) != 1 || !reflect.DeepEqual(pod.Spec.Containers[0].Command, k.c.container.Command) ||
		!reflect.DeepEqual(pod.Spec.Containers[0].Args, k.c.container.Args) {
		return 0, fmt.Errorf("pod %s does not run the container of the manifest the harness loaded", pod.Name)
	}
	return n, nil
}

// extras are the pod's in-cluster credentials, when its container mounts
// them (the ServiceAccount admission plugin adds that mount unless
// automountServiceAccountToken is false), and the environment every pod
// gets for the API server.
func (k *kubelet) extras(pod *corev1.Pod) (podExtras, error) {
	x := podExtras{env: k.cp.InClusterEnv()}
	for _, m := range pod.Spec.Containers[0].VolumeMounts {
		if m.MountPath != kube.ServiceAccountDir {
			continue
		}
		token, err := k.cp.ServiceAccountToken(k.ctx, pod, time.Hour)
		if err != nil {
			return x, err
		}
		x.saDir = filepath.Join(k.c.dir, "serviceaccount", pod.Name)
		if err := os.RemoveAll(x.saDir); err != nil {
			return x, fmt.Errorf("writing the in-cluster credentials of %s: %w", pod.Name, err)
		}
		if err := k.cp.WriteInCluster(x.saDir, k.ns, token); err != nil {
			return x, err
		}
	}
	return x, nil
}

// podState is what the kubelet reports of a pod.
type podState struct {
	pod              *corev1.Pod
	p                *Pod
	started          time.Time // the pod's start
	containerSince   time.Time // the current container's start
	containerStarted bool      // its startup probe passed
	ready            bool      // its readiness probe passed last time
	restarts         int32
}

// report writes the pod's status: phase Running, its IP, the container's
// state, started and ready, and the conditions that follow.
func (k *kubelet) report(st *podState) {
	running := st.p.running()
	ready := st.ready && running
	cond := func(t corev1.PodConditionType, ok bool) corev1.PodCondition {
		s := corev1.ConditionFalse
		if ok {
			s = corev1.ConditionTrue
		}
		return corev1.PodCondition{Type: t, Status: s, LastTransitionTime: metav1.Now()}
	}
	hostIP := k.c.net.gatewayIP()
	started := st.containerStarted && running
	cs := corev1.ContainerStatus{
		Name:         k.c.container.Name,
		Image:        k.c.container.Image,
		ImageID:      k.c.container.Image,
		ContainerID:  fmt.Sprintf("aku-e2e://%s-%d", st.p.Name, st.restarts),
		Ready:        ready,
		Started:      &started,
		RestartCount: st.restarts,
	}
	if running {
		cs.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(st.containerSince)}
	} else {
		cs.State.Terminated = &corev1.ContainerStateTerminated{ExitCode: exitCode(st.p.exitErr()), Reason: "Error", FinishedAt: metav1.Now()}
	}
	status := corev1.PodStatus{
		Phase:   corev1.PodRunning,
		HostIP:  hostIP,
		HostIPs: []corev1.HostIP{{IP: hostIP}},
		PodIP:   st.p.IP,
		PodIPs:  []corev1.PodIP{{IP: st.p.IP}},
		StartTime: func() *metav1.Time {
			t := metav1.NewTime(st.started)
			return &t
		}(),
		Conditions: []corev1.PodCondition{
			cond(corev1.PodReadyToStartContainers, true),
			cond(corev1.PodInitialized, true),
			cond(corev1.ContainersReady, ready),
			cond(corev1.PodReady, ready),
			cond(corev1.PodScheduled, true),
		},
		ContainerStatuses: []corev1.ContainerStatus{cs},
	}
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		cur, err := k.client.CoreV1().Pods(k.ns).Get(k.ctx, st.pod.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if cur.UID != st.pod.UID {
			return apierrors.NewNotFound(corev1.Resource("pods"), st.pod.Name)
		}
		// Keep the transition times of conditions that did not change.
		for i, nc := range status.Conditions {
			for _, oc := range cur.Status.Conditions {
				if oc.Type == nc.Type && oc.Status == nc.Status {
					status.Conditions[i].LastTransitionTime = oc.LastTransitionTime
				}
			}
		}
		cur.Status = status
		_, err = k.client.CoreV1().Pods(k.ns).UpdateStatus(k.ctx, cur, metav1.UpdateOptions{})
		return err
	})
	if err != nil && !apierrors.IsNotFound(err) && k.ctx.Err() == nil {
		k.note(st.pod.Name, "reporting its status: %v", err)
	}
}

// exitCode is a container's exit code from its wait error (137 for
// SIGKILL, as a container runtime reports it).
func exitCode(err error) int32 {
	if err == nil {
		return 0
	}
	var ee interface {
		ExitCode() int
	}
	if errors.As(err, &ee) && ee.ExitCode() >= 0 {
		return int32(ee.ExitCode())
	}
	return 137
}
