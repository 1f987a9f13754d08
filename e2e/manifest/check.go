package manifest

import (
	"errors"
	"fmt"
	"net"
	"path"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aku-project/aku/podlife"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// EndBudget is the number of seconds `aku -p end` and the server's stop may
// need at worst with the ConfigMap's aku.conf, which
// terminationGracePeriodSeconds must cover (docs/behaviour.md,
// "Requirements"): one statement that runs until AKU_QUERY_TIMEOUT (a FLUSH
// ALL towards a slow peer), the retries of the three rounds of statements end
// runs (FLUSH, STOP, RESET), each AKU_QUERY_RETRY_COUNT times
// AKU_QUERY_RETRY_DELAY_MSEC, and StopAllowanceSeconds for connecting and for
// stopping the server.
func (s *Set) EndBudget() (int, error) {
	timeout, err := s.ConfInt("AKU_QUERY_TIMEOUT", 3600)
	if err != nil {
		return 0, err
	}
	retries, err := s.ConfInt("AKU_QUERY_RETRY_COUNT", 5)
	if err != nil {
		return 0, err
	}
	delay, err := s.ConfInt("AKU_QUERY_RETRY_DELAY_MSEC", 1000)
	if err != nil {
		return 0, err
	}
	return timeout + (3*retries*delay+999)/1000 + StopAllowanceSeconds, nil
}

// The probes' commands (docs/status.md, "aku probe"); the readiness probe
// may add flags such as --max-gap.
var (
	StartupProbe   = []string{"aku", "probe", "startup"}
	LivenessProbe  = []string{"aku", "probe", "live"}
	ReadinessProbe = []string{"aku", "probe", "ready"}
)

// RunCommand starts the container command of the aku run variant
// (docs/run.md); its probes are aku run's HTTP endpoints.
var RunCommand = []string{"aku", "run"}

// The paths of aku run's endpoints the probes use (docs/run.md,
// "Endpoints").
const (
	StartupPath   = "/startupz"
	LivenessPath  = "/livez"
	ReadinessPath = "/readyz"
)

// MetricsPortName is the name of aku run's port (--listen).
const MetricsPortName = "metrics"

// DefaultListenPort is the port of aku run's default --listen, :8008.
const DefaultListenPort = 8008

// EndDeadlineEnv is the environment variable of aku -p end's deadline.
const EndDeadlineEnv = "AKU_END_DEADLINE"

// RunsAku reports whether c's entry point is aku run.
func RunsAku(c *corev1.Container) bool {
	return len(c.Command) >= len(RunCommand) && reflect.DeepEqual(c.Command[:len(RunCommand)], RunCommand)
}

// RunFlag is the value of aku run's flag name (--name VALUE or
// --name=VALUE) in c's command, before its "--".
func RunFlag(c *corev1.Container, name string) (string, bool) {
	args := append(append([]string{}, c.Command...), c.Args...)
	for i, a := range args {
		switch {
		case a == "--":
			return "", false
		case a == "--"+name && i+1 < len(args):
			return args[i+1], true
		case strings.HasPrefix(a, "--"+name+"="):
			return strings.TrimPrefix(a, "--"+name+"="), true
		}
	}
	return "", false
}

// ListenPort is the port of aku run's --listen in c (DefaultListenPort
// without the flag).
func ListenPort(c *corev1.Container) (int, error) {
	l, ok := RunFlag(c, "listen")
	if !ok {
		return DefaultListenPort, nil
	}
	_, p, err := net.SplitHostPort(l)
	if err != nil {
		return 0, fmt.Errorf("aku run's --listen %q: %w", l, err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		return 0, fmt.Errorf("aku run's --listen %q has no port number", l)
	}
	return n, nil
}

// ReadinessTimeoutSeconds is the least timeoutSeconds of the readiness
// probe: aku probe ready may wait one connect timeout of the default
// connection string (3 s) for a peer whose pair does not replicate.
const ReadinessTimeoutSeconds = 5

// StopAllowanceSeconds is what EndBudget adds for connecting to the peers
// (each connect is bounded by the driver's connect timeout, in parallel) and
// for the server's own stop.
const StopAllowanceSeconds = 15

// Check reports every invariant the manifests break, one error each (nil
// when all hold).
func (s *Set) Check() error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	svc := s.Service
	if svc.Name != s.Conf["AKU_SVC_NAME"] {
		fail("Service %q: name differs from AKU_SVC_NAME %q of aku.conf", svc.Name, s.Conf["AKU_SVC_NAME"])
	}
	if svc.Spec.ClusterIP != corev1.ClusterIPNone {
		fail("Service %q: clusterIP is %q, want None (a headless Service gives each pod its DNS name)", svc.Name, svc.Spec.ClusterIP)
	}
	if !svc.Spec.PublishNotReadyAddresses {
		fail("Service %q: publishNotReadyAddresses must be true: a starting pod must resolve before it is ready (docs/behaviour.md, \"Requirements\")", svc.Name)
	}
	port, err := s.ConfInt("AKU_PORT_NO", 20300)
	if err != nil {
		fail("%v", err)
	}
	replPort, err := s.ConfInt("AKU_REPLICATION_PORT_NO", 20301)
	if err != nil {
		fail("%v", err)
	}
	for _, p := range []int{port, replPort} {
		if !servicePort(svc, p) {
			fail("Service %q: no port %d (AKU_PORT_NO and AKU_REPLICATION_PORT_NO of aku.conf)", svc.Name, p)
		}
	}
	serverCount, err := s.ConfInt("AKU_SERVER_COUNT", 4)
	if err != nil {
		fail("%v", err)
	}
	budget, err := s.EndBudget()
	if err != nil {
		fail("%v", err)
	}
	queryTimeout, _ := s.ConfInt("AKU_QUERY_TIMEOUT", 3600)
	_, pw := s.Conf["AKU_SYS_PASSWORD"]
	_, legacy := s.Conf["AKU_SYS_PASWWORD"]
	if pw || legacy {
		fail("ConfigMap %q: aku.conf holds AKU_SYS_PASSWORD: the password belongs in the Secret", s.ConfigMap.Name)
	}

	names := make([]string, 0, len(s.StatefulSets))
	for n := range s.StatefulSets {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		for _, err := range s.checkStatefulSet(s.StatefulSets[n], serverCount, port, replPort, budget, queryTimeout) {
			fail("%s: %w", n, err)
		}
	}
	for _, err := range s.checkVariants(names) {
		fail("%w", err)
	}
	for _, err := range s.checkKubernetes() {
		fail("%w", err)
	}
	return errors.Join(errs...)
}

func servicePort(svc *corev1.Service, port int) bool {
	for _, p := range svc.Spec.Ports {
		if int(p.Port) == port && (p.TargetPort.IntValue() == 0 || p.TargetPort.IntValue() == port) {
			return true
		}
	}
	return false
}

func (s *Set) checkStatefulSet(sts *appsv1.StatefulSet, serverCount, port, replPort, budget, queryTimeout int) []error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	spec := &sts.Spec
	if sts.Name != s.Conf["AKU_STS_NAME"] {
		fail("StatefulSet %q: name differs from AKU_STS_NAME %q of aku.conf", sts.Name, s.Conf["AKU_STS_NAME"])
	}
	if spec.ServiceName != s.Service.Name {
		fail("serviceName %q is not the Service %q", spec.ServiceName, s.Service.Name)
	}
	if spec.PodManagementPolicy != appsv1.OrderedReadyPodManagement {
		fail("podManagementPolicy is %q, want OrderedReady: aku -p start runs must not overlap (docs/behaviour.md, \"Requirements\")", spec.PodManagementPolicy)
	}
	if spec.Replicas == nil || *spec.Replicas < 1 || int(*spec.Replicas) > serverCount {
		fail("replicas must be 1..AKU_SERVER_COUNT (%d)", serverCount)
	}
	tmpl := &spec.Template
	if spec.Selector == nil || !labelsMatch(spec.Selector.MatchLabels, tmpl.Labels) || !labelsMatch(s.Service.Spec.Selector, tmpl.Labels) {
		fail("the selector of the StatefulSet and of the Service must match the pod template's labels")
	}
	grace := tmpl.Spec.TerminationGracePeriodSeconds
	switch {
	case grace == nil:
		fail("terminationGracePeriodSeconds is not set (the default 30 s is too short for aku -p end, which needs up to %d s)", budget)
	case int(*grace) < budget:
		fail("terminationGracePeriodSeconds %d < %d s, what aku -p end may need with this aku.conf (docs/behaviour.md, \"Requirements\")", *grace, budget)
	case queryTimeout >= int(*grace):
		fail("AKU_QUERY_TIMEOUT %d s is not below terminationGracePeriodSeconds %d", queryTimeout, *grace)
	}
	c, err := Container(sts)
	if err != nil {
		return append(errs, err)
	}
	if v, ok := EnvValue(c, EndDeadlineEnv); ok && grace != nil {
		d, err := podlife.ParseDeadline(v)
		switch {
		case err != nil:
			fail("%s %q: %v", EndDeadlineEnv, v, err)
		case d >= time.Duration(*grace)*time.Second:
			fail("%s %s is not below terminationGracePeriodSeconds %d: the server's stop needs time after the end (docs/behaviour.md, \"The deadline\")", EndDeadlineEnv, v, *grace)
		}
	}
	if RunsAku(c) {
		errs = append(errs, s.checkRun(c, tmpl, grace)...)
	} else {
		errs = append(errs, checkExecProbes(c)...)
	}
	for _, p := range []int{port, replPort} {
		found := false
		for _, cp := range c.Ports {
			found = found || int(cp.ContainerPort) == p
		}
		if !found {
			fail("container %q: no containerPort %d", c.Name, p)
		}
	}
	podName := false
	for _, e := range c.Env {
		if e.Name == "POD_NAME" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name" {
			podName = true
		}
	}
	if !podName {
		fail("container %q: POD_NAME must come from the Downward API (fieldPath metadata.name)", c.Name)
	}
	for _, name := range []string{"ALTIBASE_ADMIN_MODE", "ALTIBASE_REMOTE_SYSDBA_ENABLE"} {
		if v, _ := EnvValue(c, name); v != "1" {
			fail("container %q: %s must be \"1\": aku -p start needs it (docs/behaviour.md, \"Requirements\")", c.Name, name)
		}
	}
	if v, _ := EnvValue(c, "ALTIBASE_PORT_NO"); v != strconv.Itoa(port) {
		fail("container %q: ALTIBASE_PORT_NO %q differs from AKU_PORT_NO %d", c.Name, v, port)
	}
	if v, _ := EnvValue(c, "ALTIBASE_REPLICATION_PORT_NO"); v != strconv.Itoa(replPort) {
		fail("container %q: ALTIBASE_REPLICATION_PORT_NO %q differs from AKU_REPLICATION_PORT_NO %d", c.Name, v, replPort)
	}

	// The password file must be a key of the Secret, mounted from it.
	pwFile, ok := EnvValue(c, "AKU_SYS_PASSWORD_FILE")
	if !ok {
		fail("container %q: AKU_SYS_PASSWORD_FILE is not set", c.Name)
	} else if m, ok := ResolveMount(sts, c, pwFile); !ok || m.Volume.Secret == nil || m.Volume.Secret.SecretName != s.Secret.Name {
		fail("container %q: AKU_SYS_PASSWORD_FILE %s is not in a mount of Secret %q", c.Name, pwFile, s.Secret.Name)
	} else if _, ok := SecretValue(s.Secret, key(m)); !ok {
		fail("container %q: AKU_SYS_PASSWORD_FILE %s: Secret %q has no key %q", c.Name, pwFile, s.Secret.Name, key(m))
	}

	// aku reads $ALTIBASE_HOME/conf/aku.conf (docs/behaviour.md, "Files and
	// environment"): it must be the ConfigMap's aku.conf.
	home, ok := EnvValue(c, "ALTIBASE_HOME")
	if !ok {
		fail("container %q: ALTIBASE_HOME is not set", c.Name)
	} else if m, ok := ResolveMount(sts, c, path.Join(home, "conf", "aku.conf")); !ok || m.Volume.ConfigMap == nil || m.Volume.ConfigMap.Name != s.ConfigMap.Name || key(m) != "aku.conf" {
		fail("container %q: $ALTIBASE_HOME/conf/aku.conf is not the aku.conf of ConfigMap %q", c.Name, s.ConfigMap.Name)
	} else if dm, ok := ResolveMount(sts, c, home); !ok || dm.Volume.PersistentVolumeClaim == nil {
		fail("container %q: ALTIBASE_HOME %s is not on a volumeClaimTemplate: the database must outlive the pod", c.Name, home)
	}

	// Every script the pod runs from the ConfigMap must be in it.
	var commands [][]string
	commands = append(commands, append(append([]string{}, c.Command...), c.Args...))
	if l := c.Lifecycle; l != nil {
		for _, h := range []*corev1.LifecycleHandler{l.PostStart, l.PreStop} {
			if h != nil && h.Exec != nil {
				commands = append(commands, h.Exec.Command)
			}
		}
	}
	for _, cmd := range commands {
		for _, arg := range cmd {
			if m, ok := ResolveMount(sts, c, arg); ok && m.Volume.ConfigMap != nil {
				if _, ok := s.ConfigMap.Data[key(m)]; !ok || m.Volume.ConfigMap.Name != s.ConfigMap.Name {
					fail("container %q: %s is not a key of ConfigMap %q", c.Name, arg, s.ConfigMap.Name)
				}
			}
		}
	}
	return errs
}

// checkExecProbes checks the exec probes of docs/status.md: the readiness
// probe needs the marker, so OrderedReady keeps starts from overlapping;
// the startup and liveness probes never kill a start that makes progress.
func checkExecProbes(c *corev1.Container) []error {
	var errs []error
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		cmd   []string
	}{
		{"startupProbe", c.StartupProbe, StartupProbe},
		{"livenessProbe", c.LivenessProbe, LivenessProbe},
		{"readinessProbe", c.ReadinessProbe, ReadinessProbe},
	} {
		if p.probe == nil || p.probe.Exec == nil || len(p.probe.Exec.Command) < len(p.cmd) || !reflect.DeepEqual(p.probe.Exec.Command[:len(p.cmd)], p.cmd) {
			errs = append(errs, fmt.Errorf("container %q: the %s must run %s (docs/status.md)", c.Name, p.name, strings.Join(p.cmd, " ")))
		}
	}
	if p := c.ReadinessProbe; p != nil && p.TimeoutSeconds < ReadinessTimeoutSeconds {
		errs = append(errs, fmt.Errorf("container %q: the readinessProbe's timeoutSeconds %d is below %d: aku probe ready may wait a connect timeout (3 s) for a peer", c.Name, p.TimeoutSeconds, ReadinessTimeoutSeconds))
	}
	return errs
}

// checkRun checks the aku run variant (docs/run.md): --grace-period is
// terminationGracePeriodSeconds, the probes are HTTP GETs of aku run's
// endpoints on the port named metrics, which is --listen's, and the scrape
// annotations name that port.
func (s *Set) checkRun(c *corev1.Container, tmpl *corev1.PodTemplateSpec, grace *int64) []error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	gp, ok := RunFlag(c, "grace-period")
	if !ok {
		gp, ok = EnvValue(c, "AKU_GRACE_PERIOD")
	}
	if d, err := time.ParseDuration(gp); !ok || err != nil || grace == nil || d != time.Duration(*grace)*time.Second {
		fail("container %q: aku run's --grace-period (or AKU_GRACE_PERIOD) %q must be terminationGracePeriodSeconds (docs/run.md, \"Command line\")", c.Name, gp)
	}
	listen, err := ListenPort(c)
	if err != nil {
		fail("container %q: %v", c.Name, err)
	}
	metrics := -1
	for _, cp := range c.Ports {
		if cp.Name == MetricsPortName {
			metrics = int(cp.ContainerPort)
		}
	}
	if metrics != listen {
		fail("container %q: want a port named %s with containerPort %d, aku run's --listen", c.Name, MetricsPortName, listen)
	}
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{
		{"startupProbe", c.StartupProbe, StartupPath},
		{"livenessProbe", c.LivenessProbe, LivenessPath},
		{"readinessProbe", c.ReadinessProbe, ReadinessPath},
	} {
		if p.probe == nil || p.probe.HTTPGet == nil || p.probe.HTTPGet.Path != p.path ||
			(p.probe.HTTPGet.Port.String() != MetricsPortName && p.probe.HTTPGet.Port.IntValue() != listen) {
			fail("container %q: the %s must GET %s on the port %s (docs/run.md, \"Endpoints\")", c.Name, p.name, p.path, MetricsPortName)
		}
	}
	a := tmpl.Annotations
	if a["prometheus.io/scrape"] != "true" || a["prometheus.io/port"] != strconv.Itoa(listen) {
		fail("the pod template's annotations prometheus.io/scrape and prometheus.io/port must be \"true\" and %d", listen)
	}
	return errs
}

// key is the ConfigMap or Secret key a resolved path names.
func key(m Mount) string {
	if m.SubPath != "" {
		return path.Join(m.SubPath, m.Rest)
	}
	return m.Rest
}

func labelsMatch(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// checkVariants requires the StatefulSet variants to differ only in how aku
// is run: the entry point's command, the lifecycle hooks and the probes
// (stripRunner). At least one variant runs aku from its entry point script
// (no hooks), at least one from postStart and preStop; an aku run variant
// has no hooks.
func (s *Set) checkVariants(names []string) []error {
	var errs []error
	var first *appsv1.StatefulSet
	hooks, entry := 0, 0
	for _, n := range names {
		sts := s.StatefulSets[n]
		c, err := Container(sts)
		if err != nil {
			continue // reported per StatefulSet
		}
		l := c.Lifecycle
		switch {
		case RunsAku(c):
			if l != nil {
				errs = append(errs, fmt.Errorf("%s: aku run runs aku itself: no lifecycle hooks", n))
			}
		case l == nil:
			entry++
		default:
			hooks++
		}
		switch {
		case l == nil:
		case l.PostStart == nil || l.PreStop == nil || l.PostStart.Exec == nil || l.PreStop.Exec == nil:
			errs = append(errs, fmt.Errorf("%s: lifecycle hooks must be exec postStart and preStop (aku -p start, aku -p end)", n))
		case !strings.Contains(strings.Join(l.PreStop.Exec.Command, " "), "aku -p end"):
			errs = append(errs, fmt.Errorf("%s: the preStop hook must run aku -p end", n))
		}
		norm := stripRunner(sts)
		if first == nil {
			first = norm
			continue
		}
		if !reflect.DeepEqual(first, norm) {
			errs = append(errs, fmt.Errorf("%s: differs from %s in more than the entry point and the lifecycle hooks", n, names[0]))
		}
	}
	if hooks == 0 || entry == 0 {
		errs = append(errs, fmt.Errorf("want both variants: one StatefulSet that runs aku from its entry point (found %d) and one with lifecycle hooks (found %d)", entry, hooks))
	}
	return errs
}

// stripRunner returns a copy of sts without the parts that say how aku is
// run: the entry point, the hooks, the probes, aku run's port and the
// scrape annotations (checked per variant).
func stripRunner(sts *appsv1.StatefulSet) *appsv1.StatefulSet {
	c := sts.DeepCopy()
	c.Spec.Template.Annotations = nil
	for i := range c.Spec.Template.Spec.Containers {
		ct := &c.Spec.Template.Spec.Containers[i]
		ct.Command, ct.Args, ct.Lifecycle = nil, nil, nil
		ct.StartupProbe, ct.LivenessProbe, ct.ReadinessProbe = nil, nil, nil
		ct.Ports = slices.DeleteFunc(ct.Ports, func(p corev1.ContainerPort) bool { return p.Name == MetricsPortName })
	}
	return c
}
