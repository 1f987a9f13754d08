package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/aku-project/aku/altisim/pgwire"
	"github.com/aku-project/aku/e2e/manifest"
	"github.com/aku-project/aku/e2e/owner"
	"github.com/aku-project/aku/podlife"
)

// Options configure a Cluster. Everything not here comes from the
// manifests.
type Options struct {
	// ManifestDir holds the example manifests; default
	// <module root>/examples/kubernetes.
	ManifestDir string
	// Variant is the StatefulSet manifest to run, by file name without
	// .yaml: "statefulset-entrypoint" (default) or "statefulset-hooks".
	Variant string
	// BinDir holds the aku and altisim binaries (see Build).
	BinDir string
	// Conf sets properties of the ConfigMap's aku.conf for this cluster (a
	// test-tuned copy): a property present in the file gets the new value,
	// another one is appended.
	Conf map[string]string
	// ConfigMap replaces or adds keys of the ConfigMap for this cluster,
	// e.g. schema.sql for other tables, or aku.conf (Conf still applies to
	// it).
	ConfigMap map[string]string
	// ProbePeriod replaces the probes' periodSeconds when not zero
	// (the manifests' 10 s would make every scale step take 10 s).
	ProbePeriod time.Duration
	// GracePeriod replaces terminationGracePeriodSeconds when not zero (to
	// see what happens when end overruns it without waiting 120 s).
	GracePeriod time.Duration
	// ReplicationLag is altisim's --replication-lag (default 100ms).
	ReplicationLag time.Duration
	// Logf receives the harness's narration (pod created, probe passed,
	// hook run ...); nil discards it.
	Logf func(format string, args ...any)
	// KeepDir keeps the work directory after Close (for debugging).
	KeepDir bool
	// KubeBinDir holds the control plane's binaries, for StartKube
	// (default: kube.BinDir of the module, the cache make kube-deps fills).
	KubeBinDir string
}

// Cluster is a simulated StatefulSet with its headless Service, the pods'
// network and DNS, and their persistent volumes. Its methods are not safe
// for concurrent use, except the read-only ones of Pod.
type Cluster struct {
	opts      Options
	manifests *manifest.Set
	sts       *appsv1.StatefulSet
	container *corev1.Container

	dir        string // work directory (outside /tmp: the pods' /tmp is their own)
	binDir     string
	resolvConf string
	password   string

	net *network
	dns *dns

	// mu guards pods, held and phantoms: in a KubeCluster the kubelet
	// creates and removes pods from goroutines of its own.
	mu       sync.Mutex
	pods     map[int]*Pod
	held     map[int]bool   // ordinals whose DNS record is held back
	phantoms map[int]string // ordinals published at a black-holed address

	probePeriod    time.Duration
	probeThreshold int
	grace          time.Duration
	startTimeout   time.Duration

	closers   []func() // run first by Close, last added first
	closeOnce sync.Once
}

// addCloser makes Close run f before it removes the pods (a KubeCluster's
// kubelet and control plane).
func (c *Cluster) addCloser(f func()) { c.closers = append(c.closers, f) }

// The template aku and the tests connect with: psqlODBC to altisim, as
// SYSDBA or as an ordinary session (altisim/pgwire).
var (
	sysdbaTemplate = pgwire.PsqlODBCTemplate
	normalTemplate = pgwire.PsqlODBCTemplateNormal
)

// Start creates the Service's network and DNS server, with no pod yet
// (replicas 0). Close undoes everything; callers register it at once (with
// t.Cleanup) so that a failing test cleans up too.
func Start(ctx context.Context, o Options) (*Cluster, error) {
	if os.Geteuid() != 0 {
		return nil, ErrNotRoot
	}
	if o.Variant == "" {
		o.Variant = "statefulset-entrypoint"
	}
	if o.ReplicationLag == 0 {
		o.ReplicationLag = 100 * time.Millisecond
	}
	if o.ManifestDir == "" {
		root, err := ModuleRoot()
		if err != nil {
			return nil, err
		}
		o.ManifestDir = filepath.Join(root, "examples", "kubernetes")
	}
	set, err := manifest.Load(o.ManifestDir)
	if err != nil {
		return nil, err
	}
	sts, ok := set.StatefulSets[o.Variant]
	if !ok {
		return nil, fmt.Errorf("starting the cluster: no StatefulSet %q in %s", o.Variant, o.ManifestDir)
	}
	sts = sts.DeepCopy()
	ct, err := manifest.Container(sts)
	if err != nil {
		return nil, err
	}
	c := &Cluster{opts: o, manifests: set, sts: sts, container: ct, pods: map[int]*Pod{}, held: map[int]bool{}, phantoms: map[int]string{}}
	if err := c.readSpec(); err != nil {
		return nil, err
	}
	registerLive(c)
	if err := c.setUp(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// ErrNotRoot is returned by Start when the process is not root: network
// namespaces, bridges and mounts need it.
var ErrNotRoot = errors.New("the e2e harness needs root (network namespaces, veth pairs, mounts)")

// readSpec takes the controller's parameters from the StatefulSet.
func (c *Cluster) readSpec() error {
	p := c.container.StartupProbe
	if p == nil || p.Exec == nil && p.HTTPGet == nil {
		return fmt.Errorf("StatefulSet %q: no exec or httpGet startupProbe", c.sts.Name)
	}
	if r := c.container.ReadinessProbe; r == nil || r.Exec == nil && r.HTTPGet == nil {
		return fmt.Errorf("StatefulSet %q: no exec or httpGet readinessProbe", c.sts.Name)
	}
	c.probePeriod = time.Duration(p.PeriodSeconds) * time.Second
	if c.probePeriod == 0 {
		c.probePeriod = 10 * time.Second // the Kubernetes default
	}
	if c.opts.ProbePeriod != 0 {
		c.probePeriod = c.opts.ProbePeriod
	}
	c.probeThreshold = int(p.FailureThreshold)
	if c.probeThreshold == 0 {
		c.probeThreshold = 3
	}
	c.startTimeout = time.Duration(c.probeThreshold) * c.probePeriod
	c.grace = c.manifestGrace()
	if c.opts.GracePeriod != 0 {
		c.grace = c.opts.GracePeriod
	}
	key := ""
	if f, ok := manifest.EnvValue(c.container, "AKU_SYS_PASSWORD_FILE"); ok {
		key = path.Base(f)
	}
	pw, ok := manifest.SecretValue(c.manifests.Secret, key)
	if !ok {
		return fmt.Errorf("reading the Secret %q: no key %q for AKU_SYS_PASSWORD_FILE", c.manifests.Secret.Name, key)
	}
	c.password = strings.TrimSpace(pw)
	return nil
}

func (c *Cluster) setUp(ctx context.Context) error {
	sweepStale(ctx, c.logf)
	var err error
	if c.dir, err = os.MkdirTemp("/var/tmp", "aku-e2e-"); err != nil {
		return fmt.Errorf("creating the work directory: %w", err)
	}
	// The owner first: whatever follows, a later run can remove it if this
	// process is killed.
	suffix := randomSuffix()
	if err := owner.Write(c.dir, suffix); err != nil {
		return fmt.Errorf("creating the work directory: %w", err)
	}
	if err := os.Chmod(c.dir, 0o755); err != nil {
		return fmt.Errorf("creating the work directory: %w", err)
	}
	c.binDir = filepath.Join(c.dir, "bin")
	for _, d := range []string{"bin", "logs", "odbc", "pvc", "configmap", "secret", "dns"} {
		if err := os.MkdirAll(filepath.Join(c.dir, d), 0o755); err != nil {
			return fmt.Errorf("creating the work directory: %w", err)
		}
	}
	for _, name := range []string{"aku", "altisim"} {
		if err := copyFile(filepath.Join(c.opts.BinDir, name), filepath.Join(c.binDir, name), 0o755); err != nil {
			return fmt.Errorf("installing %s: %w", name, err)
		}
	}
	if err := writeShims(c.binDir, c.manifests.Service.Name, c.opts.ReplicationLag.String(), sysdbaTemplate, normalTemplate); err != nil {
		return err
	}
	// The ConfigMap's and the Secret's keys as files, as the kubelet
	// projects them; aku.conf with the test's overrides.
	data := map[string]string{}
	for k, v := range c.manifests.ConfigMap.Data {
		data[k] = v
	}
	for k, v := range c.opts.ConfigMap {
		data[k] = v
	}
	for k, v := range data {
		if k == "aku.conf" {
			v = overrideConf(v, c.opts.Conf)
		}
		if err := os.WriteFile(filepath.Join(c.dir, "configmap", k), []byte(v), 0o644); err != nil {
			return fmt.Errorf("projecting the ConfigMap: %w", err)
		}
	}
	for k := range c.manifests.Secret.StringData {
		v, _ := manifest.SecretValue(c.manifests.Secret, k)
		if err := os.WriteFile(filepath.Join(c.dir, "secret", k), []byte(v), 0o400); err != nil {
			return fmt.Errorf("projecting the Secret: %w", err)
		}
	}
	for k, v := range c.manifests.Secret.Data {
		if err := os.WriteFile(filepath.Join(c.dir, "secret", k), v, 0o400); err != nil {
			return fmt.Errorf("projecting the Secret: %w", err)
		}
	}
	// unixODBC reads its ini files from here, not the host's (no pooling
	// surprises: docs/odbc.md, "unixODBC pooling"); the test process too.
	odbc := filepath.Join(c.dir, "odbc")
	for _, f := range []string{"odbcinst.ini", "odbc.ini"} {
		if err := os.WriteFile(filepath.Join(odbc, f), nil, 0o644); err != nil {
			return fmt.Errorf("writing unixODBC's ini files: %w", err)
		}
	}
	os.Setenv("ODBCSYSINI", odbc)
	os.Setenv("ODBCINI", filepath.Join(odbc, "odbc.ini"))

	if c.net, err = newNetwork(ctx, suffix); err != nil {
		return err
	}
	c.resolvConf = filepath.Join(c.dir, "dns", "resolv.conf")
	// Two tries of a second each: an absent pod is NXDOMAIN at once anyway.
	resolv := fmt.Sprintf("nameserver %s\noptions timeout:1 attempts:2\n", c.net.gatewayIP())
	if err := os.WriteFile(c.resolvConf, []byte(resolv), 0o644); err != nil {
		return fmt.Errorf("writing the pods' resolv.conf: %w", err)
	}
	dnsLog, err := os.Create(filepath.Join(c.dir, "logs", "dnsmasq.log"))
	if err != nil {
		return fmt.Errorf("starting dnsmasq: %w", err)
	}
	defer dnsLog.Close() // dnsmasq has its own copy once started
	if c.dns, err = startDNS(ctx, filepath.Join(c.dir, "dns"), c.net.gatewayIP(), c.manifests.Service.Name, dnsLog); err != nil {
		return err
	}
	c.logf("network %s0/24 on bridge %s, DNS for %s at %s", c.net.prefix, c.net.bridge, c.manifests.Service.Name, c.net.gatewayIP())
	return nil
}

// overrideConf sets properties of an aku.conf text.
func overrideConf(conf string, props map[string]string) string {
	if len(props) == 0 {
		return conf
	}
	lines := strings.Split(conf, "\n")
	done := map[string]bool{}
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) >= 2 && f[1] == "=" {
			if v, ok := props[f[0]]; ok {
				lines[i] = f[0] + " = " + v + " # set by the test"
				done[f[0]] = true
			}
		}
	}
	names := make([]string, 0, len(props))
	for k := range props {
		if !done[k] {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var extra []string
	for _, k := range names {
		extra = append(extra, k+" = "+props[k]+" # set by the test")
	}
	return strings.Join(extra, "\n") + "\n" + strings.Join(lines, "\n")
}

func copyFile(from, to string, mode os.FileMode) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, mode)
}

func (c *Cluster) logf(format string, args ...any) {
	if c.opts.Logf != nil {
		c.opts.Logf(format, args...)
	}
}

// Dir is the cluster's work directory (logs under Dir()/logs).
func (c *Cluster) Dir() string { return c.dir }

// Password is the SYS password of the Secret.
func (c *Cluster) Password() string { return c.password }

// StatefulSet is the (copied) StatefulSet the cluster runs.
func (c *Cluster) StatefulSet() *appsv1.StatefulSet { return c.sts }

// manifestGrace is the manifest's terminationGracePeriodSeconds (30 s,
// Kubernetes' default, when not set), before Options.GracePeriod.
func (c *Cluster) manifestGrace() time.Duration {
	if g := c.sts.Spec.Template.Spec.TerminationGracePeriodSeconds; g != nil {
		return time.Duration(*g) * time.Second
	}
	return 30 * time.Second
}

// Grace is the pods' terminationGracePeriodSeconds.
func (c *Cluster) Grace() time.Duration { return c.grace }

// ProbePeriod is the startup probe's period in use.
func (c *Cluster) ProbePeriod() time.Duration { return c.probePeriod }

// PodName is the name of the pod with this ordinal.
func (c *Cluster) PodName(ordinal int) string { return fmt.Sprintf("%s-%d", c.sts.Name, ordinal) }

// Host is the pod's DNS name (docs/behaviour.md, "Pods and roles").
func (c *Cluster) Host(ordinal int) string {
	return c.PodName(ordinal) + "." + c.manifests.Service.Name
}

// Pod is the pod with this ordinal, or nil.
func (c *Cluster) Pod(ordinal int) *Pod {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pods[ordinal]
}

// Replicas is the number of pods that exist.
func (c *Cluster) Replicas() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pods)
}

// Scale changes the number of pods as the StatefulSet controller does with
// OrderedReady: up, it creates the missing pods in ordinal order, each only
// after the previous one's startup probe passed; down, it deletes pods from
// the highest ordinal, each after the previous one is gone.
func (c *Cluster) Scale(ctx context.Context, replicas int) error {
	c.logf("scale to %d replicas", replicas)
	for i := c.Replicas(); i < replicas; i++ {
		if _, err := c.CreatePod(ctx, i); err != nil {
			return err
		}
		if err := c.WaitStarted(ctx, i); err != nil {
			return err
		}
	}
	for i := c.Replicas() - 1; i >= replicas; i-- {
		if _, err := c.DeletePod(ctx, i); err != nil {
			return err
		}
	}
	return nil
}

// CreatePod creates the pod with this ordinal and starts its container (and
// its postStart hook); it does not wait for the startup probe. On an error
// after the pod came to exist it returns the pod too: DeletePod removes it.
func (c *Cluster) CreatePod(ctx context.Context, ordinal int) (*Pod, error) {
	return c.createPod(ctx, ordinal, podExtras{})
}

// podExtras is what a KubeCluster's kubelet adds to a pod: environment
// variables, and the directory of the in-cluster credentials to mount at
// kube.ServiceAccountDir ("" for none).
type podExtras struct {
	env   []string
	saDir string
}

func (c *Cluster) createPod(ctx context.Context, ordinal int, x podExtras) (*Pod, error) {
	name := c.PodName(ordinal)
	p := &Pod{Ordinal: ordinal, Name: name, IP: c.net.podIP(ordinal), netns: c.net.netnsName(ordinal), saDir: x.saDir, c: c}
	c.mu.Lock()
	if c.pods[ordinal] != nil {
		c.mu.Unlock()
		return nil, fmt.Errorf("creating pod %d: it exists", ordinal)
	}
	var phantoms []string
	for _, ip := range c.phantoms {
		phantoms = append(phantoms, ip)
	}
	held := c.held[ordinal]
	c.pods[ordinal] = p
	c.mu.Unlock()
	forget := func() {
		c.mu.Lock()
		delete(c.pods, ordinal)
		c.mu.Unlock()
	}
	lf, err := os.OpenFile(filepath.Join(c.dir, "logs", name+".log"), os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o644)
	if err != nil {
		forget()
		return nil, fmt.Errorf("creating pod %d: %w", ordinal, err)
	}
	p.logFile = lf
	if err := c.net.addPod(ctx, ordinal, phantoms); err != nil {
		lf.Close()
		forget()
		return nil, err
	}
	// From here on the pod exists (DeletePod removes it), also on error.
	if p.env, err = c.podEnv(p); err != nil {
		return p, err
	}
	p.env = append(p.env, x.env...)
	if !held {
		if err := c.dns.set(ctx, c.Host(ordinal), p.IP); err != nil {
			return p, err
		}
	}
	c.logf("%s: created at %s", name, p.IP)
	if err := p.startContainer(ctx); err != nil {
		return p, err
	}
	return p, nil
}

// WaitStarted waits until the pod is ready, as the StatefulSet controller
// does before it creates the next pod (OrderedReady): it polls the startup
// probe every period until it passes, then the readiness probe until it
// passes. After failureThreshold failures of the startup probe, or when the
// container exits, it fails (where Kubernetes would restart the
// container); the readiness probe is polled within the same time budget.
// The liveness probe is not run.
func (c *Cluster) WaitStarted(ctx context.Context, ordinal int) error {
	p := c.Pod(ordinal)
	if p == nil {
		return fmt.Errorf("waiting for pod %d: it does not exist", ordinal)
	}
	start := time.Now()
	deadline := start.Add(c.startTimeout)
	if err := c.waitProbe(ctx, p, "startup", start, deadline); err != nil {
		return err
	}
	return c.waitProbe(ctx, p, "readiness", start, deadline)
}

// waitProbe polls the pod's startup or readiness probe every period until
// it passes. It fails when the container exits, when the startup probe
// failed failureThreshold times, or after deadline.
func (c *Cluster) waitProbe(ctx context.Context, p *Pod, which string, start, deadline time.Time) error {
	probe := c.container.StartupProbe
	if which == "readiness" {
		probe = c.container.ReadinessProbe
	}
	for failures := 0; ; {
		if !p.running() {
			return fmt.Errorf("%s: container exited (%v) before its %s probe passed; log:\n%s", p.Name, p.exitErr(), which, p.Logs())
		}
		r := c.runProbe(ctx, p, probe)
		if r.ExitCode == 0 {
			c.logf("%s: %s probe passed after %v", p.Name, which, time.Since(start).Round(time.Millisecond))
			return nil
		}
		failures++
		if which == "startup" && failures >= c.probeThreshold || time.Now().After(deadline) {
			return fmt.Errorf("%s: %s probe failed %d times (last: %s); log:\n%s", p.Name, which, failures, strings.TrimSpace(r.Output), p.Logs())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: waiting for the %s probe: %w; log:\n%s", p.Name, which, ctx.Err(), p.Logs())
		case <-time.After(c.probePeriod):
		}
	}
}

// runProbe runs an exec probe once in the pod's container, bounded by its
// timeoutSeconds (default 1 s).
func (c *Cluster) runProbe(ctx context.Context, p *Pod, probe *corev1.Probe) ExecResult {
	timeout := time.Duration(probe.TimeoutSeconds) * time.Second
	if timeout == 0 {
		timeout = time.Second
	}
	return p.probe(ctx, timeout, probe)
}

// Termination is how a pod's deletion went.
type Termination struct {
	PreStop *ExecResult // nil without a preStop hook
	// Graceful is true when the container exited within the grace period;
	// false when it had to be killed.
	Graceful bool
	Duration time.Duration
	// Log is the container's log as it ended (the pod is gone afterwards).
	Log string
}

// DeletePod deletes the pod as the kubelet does: the preStop hook, then
// SIGTERM to the entry point, both within terminationGracePeriodSeconds,
// then SIGKILL. Its DNS record is withdrawn and its network removed; its
// persistent volume stays.
func (c *Cluster) DeletePod(ctx context.Context, ordinal int) (Termination, error) {
	p := c.Pod(ordinal)
	if p == nil {
		return Termination{}, fmt.Errorf("deleting pod %d: it does not exist", ordinal)
	}
	c.logf("%s: deleting (grace period %v)", p.Name, c.grace)
	start := time.Now()
	deadline := start.Add(c.grace)
	var t Termination
	if h := c.preStop(); h != nil && p.running() {
		r := p.runHook(ctx, "preStop", h, c.grace)
		t.PreStop = &r
	}
	p.signalMain(syscall.SIGTERM)
	p.mu.Lock()
	done := p.mainDone
	p.mu.Unlock()
	if done != nil {
		select {
		case <-done:
			t.Graceful = true
		case <-time.After(time.Until(deadline)):
		case <-ctx.Done():
		}
	}
	p.killContainer()
	t.Duration = time.Since(start)
	t.Log = p.Logs()
	c.removePod(ordinal)
	c.logf("%s: deleted after %v (graceful: %v)", p.Name, t.Duration.Round(time.Millisecond), t.Graceful)
	return t, nil
}

func (c *Cluster) removePod(ordinal int) {
	c.mu.Lock()
	p, held := c.pods[ordinal], c.held[ordinal]
	c.mu.Unlock()
	if p == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if !held {
		_ = c.dns.set(ctx, c.Host(ordinal), "")
	}
	c.net.removePod(ordinal)
	p.logFile.Close()
	c.mu.Lock()
	delete(c.pods, ordinal)
	c.mu.Unlock()
}

// KillContainer kills every process of the pod's container with SIGKILL
// (server and aku, no preStop, no end), as a crash or an OOM kill would.
// The pod, its address and DNS record stay.
func (c *Cluster) KillContainer(ordinal int) error {
	p := c.Pod(ordinal)
	if p == nil {
		return fmt.Errorf("killing pod %d: it does not exist", ordinal)
	}
	p.killContainer()
	fmt.Fprintf(p.logFile, "harness: container killed with SIGKILL\n")
	c.logf("%s: container killed (SIGKILL)", p.Name)
	return nil
}

// RestartContainer starts the pod's container again after it ended, as the
// kubelet does (restartPolicy Always): same pod, same volume, a fresh /tmp.
func (c *Cluster) RestartContainer(ctx context.Context, ordinal int) error {
	p := c.Pod(ordinal)
	if p == nil {
		return fmt.Errorf("restarting pod %d: it does not exist", ordinal)
	}
	if p.running() {
		return fmt.Errorf("restarting %s: its container still runs", p.Name)
	}
	p.restarts++
	c.logf("%s: restarting its container (restart %d)", p.Name, p.restarts)
	return p.startContainer(ctx)
}

// Exec runs argv in the pod's container like kubectl exec.
func (c *Cluster) Exec(ctx context.Context, ordinal int, timeout time.Duration, argv ...string) (ExecResult, error) {
	p := c.Pod(ordinal)
	if p == nil {
		return ExecResult{}, fmt.Errorf("exec in pod %d: it does not exist", ordinal)
	}
	r := p.inContainerTo(ctx, timeout, nil, argv...)
	c.logf("%s: exec %s: exit code %d", p.Name, strings.Join(argv, " "), r.ExitCode)
	return r, nil
}

// HoldDNS keeps the pod's DNS record unpublished until PublishDNS, so that
// a pod starts before its name resolves (AKU_ADDRESS_CHECK_COUNT).
func (c *Cluster) HoldDNS(ordinal int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.held[ordinal] = true
}

// PublishDNS publishes the pod's DNS record (after HoldDNS).
func (c *Cluster) PublishDNS(ctx context.Context, ordinal int) error {
	c.mu.Lock()
	delete(c.held, ordinal)
	p := c.pods[ordinal]
	c.mu.Unlock()
	if p == nil {
		return fmt.Errorf("publishing pod %d: it does not exist", ordinal)
	}
	c.logf("%s: DNS record published", p.Name)
	return c.dns.set(ctx, c.Host(ordinal), p.IP)
}

// Blackhole publishes a DNS record for an ordinal that has no pod, at an
// address where every pod's connects hang until their timeout (SYNs
// dropped), as for a node that went away without a trace.
func (c *Cluster) Blackhole(ctx context.Context, ordinal int) error {
	c.mu.Lock()
	if c.pods[ordinal] != nil {
		c.mu.Unlock()
		return fmt.Errorf("black-holing ordinal %d: a pod has it", ordinal)
	}
	ip := c.net.phantomIP(ordinal)
	c.phantoms[ordinal] = ip
	pods := c.podList()
	c.mu.Unlock()
	for _, p := range pods {
		if err := c.net.blackhole(ctx, p.Ordinal, ip); err != nil {
			return err
		}
	}
	c.logf("%s: published at %s, where connects hang", c.Host(ordinal), ip)
	return c.dns.set(ctx, c.Host(ordinal), ip)
}

// Partition takes the pod's network down (up=false) or back up.
func (c *Cluster) Partition(ctx context.Context, ordinal int, partitioned bool) error {
	if c.Pod(ordinal) == nil {
		return fmt.Errorf("partitioning pod %d: it does not exist", ordinal)
	}
	c.logf("%s: network %s", c.PodName(ordinal), map[bool]string{true: "partitioned", false: "healed"}[partitioned])
	return c.net.setLink(ctx, ordinal, !partitioned)
}

// Fault runs `altisim fault ARGS...` against the pod's server through its
// control socket (in its data directory, $ALTIBASE_HOME/dbs), as an
// operator of the simulator would: see docs/altisim.md.
func (c *Cluster) Fault(ctx context.Context, ordinal int, args ...string) (string, error) {
	home, _ := manifest.EnvValue(c.container, "ALTIBASE_HOME")
	sock := filepath.Join(c.translate(home, c.PodName(ordinal)), "dbs", "control.sock")
	full := append([]string{"fault"}, args...)
	full = append(full, "--control", sock)
	c.logf("%s: altisim %s", c.PodName(ordinal), strings.Join(full, " "))
	return run(ctx, filepath.Join(c.binDir, "altisim"), full...)
}

// VolumeDir is the host directory of the pod's persistent volume claim.
func (c *Cluster) VolumeDir(ordinal int) string {
	return filepath.Join(c.dir, "pvc", c.claimName()+"-"+c.PodName(ordinal))
}

func (c *Cluster) claimName() string {
	if len(c.sts.Spec.VolumeClaimTemplates) > 0 {
		return c.sts.Spec.VolumeClaimTemplates[0].Name
	}
	return "data"
}

// DeleteVolume deletes the pod's persistent volume claim (its data): a
// pod that then starts has an empty database, as after a storage failure.
func (c *Cluster) DeleteVolume(ordinal int) error {
	if p := c.Pod(ordinal); p != nil && p.running() {
		return fmt.Errorf("deleting the volume of pod %d: its container runs", ordinal)
	}
	c.logf("%s: persistent volume deleted", c.PodName(ordinal))
	return os.RemoveAll(c.VolumeDir(ordinal))
}

// Close stops what a KubeCluster added (its kubelet, then its control
// plane), kills every pod, stops dnsmasq, removes the network and the work
// directory. It is safe to call more than once.
func (c *Cluster) Close() {
	c.closeOnce.Do(func() {
		for i := len(c.closers) - 1; i >= 0; i-- {
			c.closers[i]()
		}
		c.mu.Lock()
		pods := c.podList()
		c.mu.Unlock()
		for _, p := range pods {
			p.killContainer()
			c.removePod(p.Ordinal)
		}
		if c.dns != nil {
			c.dns.stop()
		}
		if c.net != nil {
			for i := 0; i < 10; i++ {
				c.net.removePod(i) // leftovers of a pod whose creation failed
			}
			c.net.close()
		}
		if c.dir != "" && !c.opts.KeepDir {
			os.RemoveAll(c.dir)
		}
		unregisterLive(c)
	})
}

// containerCommand is the container's command and args, paths translated.
// For aku run, the test-tuned timings apply to it too: its check runs
// every probe period, and its grace period is GracePeriod.
func (c *Cluster) containerCommand() []string {
	argv := append(append([]string{}, c.container.Command...), c.container.Args...)
	if manifest.RunsAku(c.container) {
		// After the manifest's flags (the last one wins), before "--".
		n := slices.Index(argv, "--")
		if n < 0 {
			n = len(argv)
		}
		var tuned []string
		if c.opts.ProbePeriod != 0 {
			tuned = append(tuned, "--check-interval="+c.opts.ProbePeriod.String())
		}
		if c.opts.GracePeriod != 0 {
			tuned = append(tuned, "--grace-period="+c.opts.GracePeriod.String(), "--stop-reserve="+(c.opts.GracePeriod/4).String())
		}
		argv = slices.Insert(argv, n, tuned...)
	}
	return c.translateAll(argv)
}

func (c *Cluster) postStart() []string {
	if l := c.container.Lifecycle; l != nil && l.PostStart != nil && l.PostStart.Exec != nil {
		return c.translateAll(l.PostStart.Exec.Command)
	}
	return nil
}

func (c *Cluster) preStop() []string {
	if l := c.container.Lifecycle; l != nil && l.PreStop != nil && l.PreStop.Exec != nil {
		return c.translateAll(l.PreStop.Exec.Command)
	}
	return nil
}

func (c *Cluster) translateAll(argv []string) []string {
	out := make([]string, len(argv))
	for i, a := range argv {
		out[i] = c.translate(a, "")
	}
	return out
}

// translate maps a path inside the container to the host path of the
// volume that holds it (the kubelet's mounts): the pod's persistent volume,
// the ConfigMap's or the Secret's files. Other values are unchanged; pod is
// "" for paths that cannot be on a persistent volume.
func (c *Cluster) translate(value, pod string) string {
	if !strings.HasPrefix(value, "/") {
		return value
	}
	m, ok := manifest.ResolveMount(c.sts, c.container, value)
	if !ok {
		return value
	}
	rel := m.Rest
	if m.SubPath != "" {
		rel = path.Join(m.SubPath, m.Rest)
	}
	switch {
	case m.Volume.ConfigMap != nil:
		return filepath.Join(c.dir, "configmap", rel)
	case m.Volume.Secret != nil:
		return filepath.Join(c.dir, "secret", rel)
	case m.Volume.PersistentVolumeClaim != nil && pod != "":
		return filepath.Join(c.dir, "pvc", m.Volume.PersistentVolumeClaim.ClaimName+"-"+pod, rel)
	}
	return value
}

// podEnv is the container's environment: the manifest's variables (POD_NAME
// from the Downward API, paths translated) on top of the image's: PATH with
// aku, altisim and the shims; unixODBC's ini files; aku's connection
// templates for psqlODBC (AKU_CONNECTION_STRING, and
// AKU_MONITOR_CONNECTION_STRING, since psqlODBC's SYSDBA privilege lies
// inside pqopt, where aku does not remove it: docs/configuration.md,
// "Read-only sessions").
func (c *Cluster) podEnv(p *Pod) ([]string, error) {
	env := []string{
		"PATH=" + c.binDir + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=/root",
		"LANG=C.UTF-8",
		"HOSTNAME=" + p.Name,
		"ODBCSYSINI=" + filepath.Join(c.dir, "odbc"),
		"ODBCINI=" + filepath.Join(c.dir, "odbc", "odbc.ini"),
		"AKU_CONNECTION_STRING=" + sysdbaTemplate,
		"AKU_MONITOR_CONNECTION_STRING=" + normalTemplate,
	}
	for _, e := range c.container.Env {
		switch {
		case e.Name == manifest.EndDeadlineEnv && e.ValueFrom == nil && c.opts.GracePeriod != 0:
			// The test's grace period, as for aku run's --grace-period:
			// the same share of it as in the manifest.
			d, err := podlife.ParseDeadline(e.Value)
			if err != nil {
				return nil, fmt.Errorf("env %s %q: %w", e.Name, e.Value, err)
			}
			share := c.opts.GracePeriod * d / c.manifestGrace()
			env = append(env, fmt.Sprintf("%s=%d", e.Name, max(int64(share/time.Second), 1)))
		case e.ValueFrom == nil:
			env = append(env, e.Name+"="+c.translate(e.Value, p.Name))
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name":
			env = append(env, e.Name+"="+p.Name)
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "status.podIP":
			env = append(env, e.Name+"="+p.IP)
		default:
			return nil, fmt.Errorf("env %s: only literal values, metadata.name and status.podIP are simulated", e.Name)
		}
	}
	return env, nil
}

// projectVolumes makes the pod's persistent volume directory and the
// subPath file mounts inside it (a symbolic link where the kubelet would
// bind-mount the file).
func (c *Cluster) projectVolumes(p *Pod) error {
	if err := os.MkdirAll(c.VolumeDir(p.Ordinal), 0o755); err != nil {
		return fmt.Errorf("provisioning the volume of %s: %w", p.Name, err)
	}
	for _, vm := range c.container.VolumeMounts {
		if vm.SubPath == "" {
			continue
		}
		// translate resolves the longest mount: for the subPath mount itself
		// that is the ConfigMap's or Secret's file; the link goes where the
		// enclosing mount (the volume) puts the path.
		src := c.translate(vm.MountPath, "")
		outer := c.translateOuter(vm.MountPath, p.Name)
		if outer == "" {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(outer), 0o755); err != nil {
			return fmt.Errorf("projecting %s: %w", vm.MountPath, err)
		}
		_ = os.Remove(outer)
		if err := os.Symlink(src, outer); err != nil {
			return fmt.Errorf("projecting %s: %w", vm.MountPath, err)
		}
	}
	return nil
}

// translateOuter is where a subPath mount's path lies on the volume that
// encloses it ("" when no volume encloses it).
func (c *Cluster) translateOuter(mountPath, pod string) string {
	ct := c.container.DeepCopy()
	var kept []corev1.VolumeMount
	for _, vm := range ct.VolumeMounts {
		if vm.MountPath != mountPath {
			kept = append(kept, vm)
		}
	}
	ct.VolumeMounts = kept
	m, ok := manifest.ResolveMount(c.sts, ct, mountPath)
	if !ok || m.Volume.PersistentVolumeClaim == nil {
		return ""
	}
	return filepath.Join(c.dir, "pvc", m.Volume.PersistentVolumeClaim.ClaimName+"-"+pod, m.Rest)
}

// podList is the pods that exist; the caller holds c.mu.
func (c *Cluster) podList() []*Pod {
	pods := make([]*Pod, 0, len(c.pods))
	for _, p := range c.pods {
		pods = append(pods, p)
	}
	return pods
}

// live are the clusters not closed yet, closed on SIGINT/SIGTERM.
var (
	liveMu   sync.Mutex
	live     = map[*Cluster]struct{}{}
	liveOnce sync.Once
)

func registerLive(c *Cluster) {
	liveMu.Lock()
	defer liveMu.Unlock()
	live[c] = struct{}{}
	liveOnce.Do(watchSignals)
}

func unregisterLive(c *Cluster) {
	liveMu.Lock()
	defer liveMu.Unlock()
	delete(live, c)
}

// CloseAll closes every cluster not closed yet (for signal handlers).
func CloseAll() {
	liveMu.Lock()
	cs := make([]*Cluster, 0, len(live))
	for c := range live {
		cs = append(cs, c)
	}
	liveMu.Unlock()
	for _, c := range cs {
		c.Close()
	}
}
