package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aku-project/aku/e2e/kube"
)

// Pod is one pod of the simulated StatefulSet: a network namespace and the
// container's processes. Its fields are fixed while it exists.
type Pod struct {
	Ordinal int
	Name    string // <sts>-<ordinal>
	IP      string
	netns   string
	saDir   string // in-cluster credentials mounted at kube.ServiceAccountDir ("" for none)

	c   *Cluster
	env []string // the container's environment, paths translated

	mu        sync.Mutex
	main      *exec.Cmd // unshare, the parent of the container's PID 1
	initPid   int       // the container's PID 1 (the entry point), as the host sees it
	mainDone  chan struct{}
	mainErr   error
	hookProcs map[*exec.Cmd]struct{}
	logFile   *os.File
	logStart  int64 // offset of this container's first log byte
	restarts  int
}

// ExecResult is the outcome of a command run in a pod's container.
type ExecResult struct {
	Argv     []string
	ExitCode int // -1 when it did not exit by itself (killed, timed out)
	Output   string
	Duration time.Duration
}

// String is the command, its exit code, duration and output, for test
// failure messages.
func (r ExecResult) String() string {
	return fmt.Sprintf("%s: exit code %d after %v\n%s", strings.Join(r.Argv, " "), r.ExitCode, r.Duration.Round(time.Millisecond), r.Output)
}

// podInit is the start of every container: it runs in the pod's network
// namespace and in new mount, UTS and PID namespaces, gives the container an
// empty /tmp (the marker lives there: docs/behaviour.md, "The marker"), the
// pod's resolv.conf and host name, in a KubeCluster its in-cluster
// credentials (docs/e2e.md, "The kube tier"), and then executes the
// container's command as PID 1. When PID 1 dies the kernel kills every process of the container,
// as for a real one.
const podInit = `mount -t tmpfs -o mode=1777,size=64m tmpfs /tmp &&
mount --bind "$1" /etc/resolv.conf &&
hostname "$2" &&
if [ -n "$3" ]; then
	mkdir -p "$4" && mount --bind -o ro "$3" "$4"
fi &&
shift 4 &&
exec "$@"`

// startContainer runs the container's command (and its postStart hook) in
// a fresh mount namespace: a restarted container has an empty /tmp, as in
// Kubernetes.
func (p *Pod) startContainer(ctx context.Context) error {
	// The kubelet mounts the volumes for every container it starts (the
	// persistent volume may have been emptied meanwhile).
	if err := p.c.projectVolumes(p); err != nil {
		return err
	}
	// --kill-child and the parent-death signal chain the container's life to
	// this process: if the tests die (a go test timeout runs no cleanup),
	// unshare is killed, and with it the container's PID 1 and namespace.
	argv := append([]string{"nsenter", "--net=/run/netns/" + p.netns,
		"unshare", "--mount", "--uts", "--pid", "--fork", "--kill-child", "--propagation", "private",
		"/bin/sh", "-c", podInit, "pod-init", p.c.resolvConf, p.Name, p.saDir, kube.ServiceAccountDir}, p.c.containerCommand()...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = p.env
	cmd.Dir = "/"
	p.mu.Lock()
	off, _ := p.logFile.Seek(0, io.SeekEnd)
	p.logStart = off
	cmd.Stdout, cmd.Stderr = p.logFile, p.logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		p.mu.Unlock()
		return fmt.Errorf("starting the container of %s: %w", p.Name, err)
	}
	p.main, p.initPid, p.mainDone, p.mainErr = cmd, 0, make(chan struct{}), nil
	done := p.mainDone
	p.mu.Unlock()
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.mainErr = err
		p.mu.Unlock()
		close(done)
	}()
	// The namespaces are set up when the process runs the container's
	// command: wait for that before anything enters them.
	want := strings.Join(p.c.containerCommand(), "\x00") + "\x00"
	err := waitFor(ctx, 10*time.Second, func() (bool, error) {
		select {
		case <-done:
			return false, fmt.Errorf("the container of %s exited at once: %v\n%s", p.Name, p.exitErr(), p.Logs())
		default:
		}
		// pod-init has set up the namespaces once unshare's child (PID 1)
		// has executed the container's command.
		children, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid))
		if err != nil || len(strings.Fields(string(children))) == 0 {
			return false, nil
		}
		pid, err := strconv.Atoi(strings.Fields(string(children))[0])
		if err != nil {
			return false, nil
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || !strings.HasPrefix(string(cmdline), want) {
			return false, nil
		}
		p.mu.Lock()
		p.initPid = pid
		p.mu.Unlock()
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("starting the container of %s: %w", p.Name, err)
	}
	p.c.logf("%s: container started (%s)", p.Name, strings.Join(p.c.containerCommand(), " "))
	if h := p.c.postStart(); h != nil {
		r := p.runHook(ctx, "postStart", h, p.c.startTimeout)
		if r.ExitCode != 0 {
			// Kubernetes kills a container whose postStart hook failed.
			p.killContainer()
			return fmt.Errorf("postStart hook of %s failed: %s", p.Name, r)
		}
	}
	return nil
}

func (p *Pod) exitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mainErr
}

// running reports whether the container's entry point still runs.
func (p *Pod) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.runningLocked()
}

func (p *Pod) runningLocked() bool {
	if p.mainDone == nil {
		return false
	}
	select {
	case <-p.mainDone:
		return false
	default:
		return true
	}
}

// inContainer runs argv in the container's namespaces (network, mount, UTS)
// with its environment, like kubectl exec, bounded by timeout. out, when
// not nil, also receives the output as it comes.
func (p *Pod) inContainerTo(ctx context.Context, timeout time.Duration, out io.Writer, argv ...string) ExecResult {
	p.mu.Lock()
	initPid := p.initPid
	p.mu.Unlock()
	r := ExecResult{Argv: argv, ExitCode: -1}
	if initPid == 0 {
		r.Output = "no container"
		return r
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// nsenter forks into the container's PID namespace: what the command
	// starts dies with the container.
	full := append([]string{"nsenter", "-t", strconv.Itoa(initPid), "--net", "--mount", "--uts", "--pid", "--"}, argv...)
	cmd := exec.Command(full[0], full[1:]...)
	cmd.Env = p.env
	cmd.Dir = "/"
	var buf strings.Builder
	var w io.Writer = &lockedWriter{w: &buf}
	if out != nil {
		w = io.MultiWriter(w, out)
	}
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		r.Output = err.Error()
		return r
	}
	p.mu.Lock()
	if p.hookProcs == nil {
		p.hookProcs = map[*exec.Cmd]struct{}{}
	}
	p.hookProcs[cmd] = struct{}{}
	p.mu.Unlock()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		err = <-done
	}
	p.mu.Lock()
	delete(p.hookProcs, cmd)
	p.mu.Unlock()
	r.Duration = time.Since(start)
	r.Output = buf.String()
	var ee *exec.ExitError
	switch {
	case err == nil:
		r.ExitCode = 0
	case errors.As(err, &ee) && ee.Exited():
		r.ExitCode = ee.ExitCode()
	}
	return r
}

func (p *Pod) inContainer(ctx context.Context, timeout time.Duration, argv ...string) ExecResult {
	return p.inContainerTo(ctx, timeout, nil, argv...)
}

// runHook runs a lifecycle hook; its output goes to the pod's log too (the
// kubelet would only report it in an event), followed by its exit code.
func (p *Pod) runHook(ctx context.Context, name string, argv []string, timeout time.Duration) ExecResult {
	p.c.logf("%s: %s hook: %s", p.Name, name, strings.Join(argv, " "))
	r := p.inContainerTo(ctx, timeout, p.logFile, argv...)
	fmt.Fprintf(p.logFile, "harness: %s hook exited with %d\n", name, r.ExitCode)
	return r
}

// lockedWriter serialises writes from a command's stdout and stderr.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// Write writes b under the lock.
func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// signalMain sends sig to the container's entry point only (its PID 1), as
// the kubelet does.
func (p *Pod) signalMain(sig syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.initPid != 0 && p.runningLocked() {
		_ = syscall.Kill(p.initPid, sig)
	}
}

// killContainer kills every process of the container with SIGKILL: its
// PID 1, which takes the whole PID namespace with it (the server and aku
// started from the entry point), then every hook or exec still running, and
// waits for the entry point.
//
// PID 1 goes first and alone: unshare, its parent, exits only once PID 1
// and with it every process of the container have exited, so their sockets
// are closed, and their FINs sent, before the caller deletes the pod's
// network, as when a real pod dies. Killing unshare's process group at once
// let DeletePod remove the veth before aku's connections were closed: a
// peer then held aku's SYSDBA session until TCP keepalive noticed (15 s).
func (p *Pod) killContainer() {
	p.mu.Lock()
	initPid, running, done := p.initPid, p.runningLocked(), p.mainDone
	var pids []int
	if p.main != nil && p.main.Process != nil {
		pids = append(pids, p.main.Process.Pid)
	}
	for h := range p.hookProcs {
		pids = append(pids, h.Process.Pid)
	}
	p.mu.Unlock()
	if initPid != 0 && running {
		_ = syscall.Kill(initPid, syscall.SIGKILL)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
		}
	}
	// What is left: a container whose PID 1 never ran, and the hooks'
	// nsenter processes outside the PID namespace.
	for _, pid := range pids {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
	if done != nil {
		select {
		case <-done:
		case <-time.After(10 * time.Second):
		}
	}
}

// Logs is the log of the pod's current container: the entry point's output
// and, unlike kubectl logs, the output of its lifecycle hooks.
func (p *Pod) Logs() string {
	p.mu.Lock()
	start := p.logStart
	name := p.logFile.Name()
	p.mu.Unlock()
	data, err := os.ReadFile(name)
	if err != nil || int64(len(data)) < start {
		return ""
	}
	return string(data[start:])
}

// AllLogs is the log of every container this pod name has had, oldest
// first (kubectl logs --previous, and more).
func (p *Pod) AllLogs() string {
	data, _ := os.ReadFile(p.logFile.Name())
	return string(data)
}
