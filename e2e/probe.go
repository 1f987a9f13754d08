package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// probe runs one of the container's probes as the kubelet does: an exec
// probe in the container's namespaces, an httpGet probe as an HTTP GET of
// the pod's address from the pod's network namespace. A pass is exit code 0
// (for HTTP a status of 200 to 399); the output is the command's, or the
// status and body.
func (p *Pod) probe(ctx context.Context, timeout time.Duration, pr *corev1.Probe) ExecResult {
	if pr.Exec != nil {
		return p.inContainer(ctx, timeout, pr.Exec.Command...)
	}
	g := pr.HTTPGet
	port, err := p.c.portOf(g.Port)
	r := ExecResult{Argv: []string{"GET", g.Path}, ExitCode: 1}
	if err != nil {
		r.Output = err.Error()
		return r
	}
	start := time.Now()
	code, body, err := p.HTTPGet(ctx, timeout, port, g.Path)
	r.Duration = time.Since(start)
	switch {
	case err != nil:
		r.Output = err.Error()
	case code >= 200 && code < 400:
		r.ExitCode, r.Output = 0, body
	default:
		r.Output = fmt.Sprintf("HTTP %d: %s", code, strings.TrimSpace(body))
	}
	return r
}

// portOf resolves a probe's port: a number, or the name of a containerPort.
func (c *Cluster) portOf(port intstr.IntOrString) (int, error) {
	if port.Type == intstr.Int {
		return port.IntValue(), nil
	}
	for _, cp := range c.container.Ports {
		if cp.Name == port.StrVal {
			return int(cp.ContainerPort), nil
		}
	}
	return 0, fmt.Errorf("no containerPort named %q", port.StrVal)
}

// HTTPGet does GET path on the pod's address and port from inside the
// pod's network namespace, within timeout, and returns the status code and
// body.
func (p *Pod) HTTPGet(ctx context.Context, timeout time.Duration, port int, path string) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialInNetns("/run/netns/"+p.netns, network, addr, timeout)
		},
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(p.IP, strconv.Itoa(port))+path, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("GET %s of %s: %w", path, p.Name, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, "", fmt.Errorf("GET %s of %s: reading the body: %w", path, p.Name, err)
	}
	return resp.StatusCode, string(b), nil
}

// dialInNetns opens a connection from the network namespace at nsPath: the
// socket is created by a thread that entered it, and stays in it. The
// thread then goes back to its own namespace before it is unlocked. It must
// not end instead: a thread that ends fires the parent-death signal of the
// processes it started (the containers' Pdeathsig).
func dialInNetns(nsPath, network, addr string, timeout time.Duration) (net.Conn, error) {
	runtime.LockOSThread()
	own, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("opening this thread's network namespace: %w", err)
	}
	defer own.Close()
	f, err := os.Open(nsPath)
	if err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("opening the network namespace %s: %w", nsPath, err)
	}
	defer f.Close()
	if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("entering the network namespace %s: %w", nsPath, err)
	}
	c, dialErr := net.DialTimeout(network, addr, timeout)
	if err := unix.Setns(int(own.Fd()), unix.CLONE_NEWNET); err != nil {
		// The thread stays locked, in the pod's namespace, for the rest of
		// the process: never reused by another goroutine.
		if c != nil {
			c.Close()
		}
		return nil, fmt.Errorf("leaving the network namespace %s: %w", nsPath, err)
	}
	runtime.UnlockOSThread()
	return c, dialErr
}
