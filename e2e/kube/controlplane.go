package kube

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/aku-project/aku/e2e/owner"
)

// Options configure a control plane.
type Options struct {
	// BinDir holds etcd, kube-apiserver and kube-controllers
	// (BinDir finds it).
	BinDir string
	// Address is the IP the API server listens on and advertises: one the
	// pods reach (the e2e bridge's address). Default 127.0.0.1.
	Address string
	// Logf receives the narration (component started, ready, stopped);
	// nil discards it.
	Logf func(format string, args ...any)
	// KeepDir keeps the state directory (logs, certificates, etcd's data)
	// after Close, for debugging.
	KeepDir bool
}

// ControlPlane is a running etcd, kube-apiserver and StatefulSet
// controller. Its fields do not change once Start returns.
type ControlPlane struct {
	// Host is the API server's URL, https://<Address>:<port>.
	Host string
	// CA is the PEM certificate of the CA that signed the API server's
	// serving certificate (a pod's ca.crt).
	CA []byte
	// Token is the admin's bearer token (group system:masters).
	Token string
	// Config is a client configuration for the admin.
	Config *rest.Config
	// Client is a client of the admin.
	Client kubernetes.Interface

	address string
	port    int
	dir     string
	opts    Options
	procs   []*process

	closeOnce sync.Once
}

// stateGlob matches the state directories of every control plane of this
// machine (the sweep looks at them all).
const stateGlob = "/var/tmp/aku-kube-*"

// Start sweeps what killed runs left behind, then starts etcd, the API
// server and the controllers (StatefulSet and EndpointSlice) and waits
// until the API server is ready. Close undoes everything; callers register it at once (with
// t.Cleanup) so that a failing test cleans up too. On error nothing is left
// running.
func Start(ctx context.Context, o Options) (*ControlPlane, error) {
	if o.BinDir == "" {
		return nil, errors.New("starting the control plane: no BinDir (see BinDir)")
	}
	if o.Address == "" {
		o.Address = "127.0.0.1"
	}
	Sweep(o.Logf)
	cp := &ControlPlane{opts: o, address: o.Address}
	if err := cp.start(ctx); err != nil {
		if logs := cp.Logs(); logs != "" {
			err = fmt.Errorf("%w\n%s", err, logs)
		}
		cp.Close()
		return nil, err
	}
	return cp, nil
}

func (cp *ControlPlane) start(ctx context.Context) error {
	var err error
	if cp.dir, err = os.MkdirTemp("/var/tmp", "aku-kube-"); err != nil {
		return fmt.Errorf("creating the control plane's state directory: %w", err)
	}
	// The owner first: whatever follows, a later run can sweep it.
	if err := owner.Write(cp.dir, "-"); err != nil {
		return err
	}
	for _, d := range []string{"logs", "etcd", "pki"} {
		if err := os.MkdirAll(filepath.Join(cp.dir, d), 0o700); err != nil {
			return fmt.Errorf("creating the control plane's state directory: %w", err)
		}
	}
	creds, err := newCredentials(filepath.Join(cp.dir, "pki"), cp.address)
	if err != nil {
		return err
	}
	cp.CA = creds.caPEM
	cp.Token = randomToken()
	tokens := filepath.Join(cp.dir, "pki", "tokens.csv")
	if err := os.WriteFile(tokens, []byte(cp.Token+`,admin,admin,"system:masters"`+"\n"), 0o600); err != nil {
		return fmt.Errorf("writing the token file: %w", err)
	}

	ports, err := freePorts("127.0.0.1", 2)
	if err != nil {
		return err
	}
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	peerURL := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	if err := cp.run("etcd",
		"--name=default",
		"--data-dir="+filepath.Join(cp.dir, "etcd"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=default="+peerURL,
		// Test data: a crash loses nothing that matters.
		"--unsafe-no-fsync",
		"--log-level=warn",
	); err != nil {
		return err
	}

	apiPorts, err := freePorts(cp.address, 1)
	if err != nil {
		return err
	}
	cp.port = apiPorts[0]
	cp.Host = "https://" + net.JoinHostPort(cp.address, strconv.Itoa(cp.port))
	if err := cp.run("kube-apiserver",
		"--etcd-servers="+etcdURL,
		"--bind-address="+cp.address,
		"--advertise-address="+cp.address,
		"--secure-port="+strconv.Itoa(cp.port),
		"--tls-cert-file="+creds.certFile,
		"--tls-private-key-file="+creds.keyFile,
		"--cert-dir="+filepath.Join(cp.dir, "pki"),
		"--token-auth-file="+tokens,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+creds.saPubFile,
		"--service-account-signing-key-file="+creds.saKeyFile,
		"--service-cluster-ip-range=10.0.0.0/24",
		// It refuses a loopback advertise address otherwise, and nothing
		// here routes the kubernetes Service: pods get the API server's
		// own address (InClusterEnv).
		"--endpoint-reconciler-type=none",
		"--enable-priority-and-fairness=false",
		"--profiling=false",
		"--v=1",
	); err != nil {
		return err
	}

	cp.Config = &rest.Config{
		Host:            cp.Host,
		BearerToken:     cp.Token,
		TLSClientConfig: rest.TLSClientConfig{CAData: cp.CA},
		QPS:             100,
		Burst:           200,
	}
	if cp.Client, err = kubernetes.NewForConfig(cp.Config); err != nil {
		return fmt.Errorf("making a client of %s: %w", cp.Host, err)
	}
	if err := cp.waitReady(ctx, 90*time.Second); err != nil {
		return err
	}
	cp.logf("kube-apiserver ready at %s (etcd %s)", cp.Host, etcdURL)

	kubeconfig := filepath.Join(cp.dir, "pki", "admin.kubeconfig")
	if err := cp.WriteKubeconfig(kubeconfig); err != nil {
		return err
	}
	return cp.run("kube-controllers", "--kubeconfig="+kubeconfig, "--v=1")
}

// waitReady polls the API server's /readyz until it answers ok.
func (cp *ControlPlane) waitReady(ctx context.Context, limit time.Duration) error {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(cp.CA)
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer hc.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	last := "no answer"
	for {
		for _, p := range cp.procs {
			if !p.running() {
				return fmt.Errorf("waiting for kube-apiserver at %s: %s exited (%v)", cp.Host, p.name, p.err())
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, cp.Host+"/readyz", nil)
		if err != nil {
			return fmt.Errorf("waiting for kube-apiserver at %s: %w", cp.Host, err)
		}
		req.Header.Set("Authorization", "Bearer "+cp.Token)
		if resp, err := hc.Do(req); err != nil {
			last = err.Error()
		} else {
			body := make([]byte, 4096)
			n, _ := resp.Body.Read(body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%s: %s", resp.Status, strings.TrimSpace(string(body[:n])))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for kube-apiserver at %s to be ready: %w (last: %s)", cp.Host, ctx.Err(), last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// WriteKubeconfig writes a kubeconfig of the admin to file (for kubectl,
// or a command under test).
func (cp *ControlPlane) WriteKubeconfig(file string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["aku-e2e"] = &clientcmdapi.Cluster{Server: cp.Host, CertificateAuthorityData: cp.CA}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: cp.Token}
	cfg.Contexts["aku-e2e"] = &clientcmdapi.Context{Cluster: "aku-e2e", AuthInfo: "admin"}
	cfg.CurrentContext = "aku-e2e"
	if err := clientcmd.WriteToFile(*cfg, file); err != nil {
		return fmt.Errorf("writing the kubeconfig %s: %w", file, err)
	}
	return nil
}

// Dir is the control plane's state directory (logs under Dir()/logs).
func (cp *ControlPlane) Dir() string { return cp.dir }

// Logs is the end of every component's log, for test failure messages.
func (cp *ControlPlane) Logs() string {
	var b strings.Builder
	for _, p := range cp.procs {
		data, _ := os.ReadFile(p.log)
		if len(data) > 4000 {
			data = data[len(data)-4000:]
		}
		fmt.Fprintf(&b, "--- %s (%s), last lines:\n%s\n", p.name, p.log, data)
	}
	return b.String()
}

// Close stops the controllers, the API server and etcd, in that
// order (SIGTERM to each process group, SIGKILL after 10 s), and removes
// the state directory unless Options.KeepDir. It is safe to call more than
// once.
func (cp *ControlPlane) Close() {
	cp.closeOnce.Do(func() {
		for i := len(cp.procs) - 1; i >= 0; i-- {
			cp.procs[i].stop(10 * time.Second)
			cp.logf("%s stopped", cp.procs[i].name)
		}
		if cp.dir != "" && !cp.opts.KeepDir {
			os.RemoveAll(cp.dir)
		}
	})
}

func (cp *ControlPlane) logf(format string, args ...any) {
	if cp.opts.Logf != nil {
		cp.opts.Logf(format, args...)
	}
}

// process is a component the control plane started, in a process group of
// its own.
type process struct {
	name string
	log  string
	cmd  *exec.Cmd
	done chan struct{}

	mu      sync.Mutex
	waitErr error
}

// procsFile lists the components a state directory's owner started, one
// "name pid start-time" a line, for the sweep.
const procsFile = "procs"

// run starts the binary name with args, its output in logs/<name>.log, and
// records it for the sweep.
func (cp *ControlPlane) run(name string, args ...string) error {
	p := &process{name: name, log: filepath.Join(cp.dir, "logs", name+".log"), done: make(chan struct{})}
	lf, err := os.Create(p.log)
	if err != nil {
		return fmt.Errorf("starting %s: %w", name, err)
	}
	defer lf.Close() // the child has its own copy
	p.cmd = exec.Command(filepath.Join(cp.opts.BinDir, name), args...)
	p.cmd.Dir = cp.dir
	p.cmd.Stdout, p.cmd.Stderr = lf, lf
	// Its own process group (Close stops it whole); it dies with the test
	// process even when that is killed outright.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", name, err)
	}
	cp.procs = append(cp.procs, p)
	go func() {
		err := p.cmd.Wait()
		p.mu.Lock()
		p.waitErr = err
		p.mu.Unlock()
		close(p.done)
	}()
	start, err := owner.ProcessStart(p.cmd.Process.Pid)
	if err != nil {
		return fmt.Errorf("recording %s for the sweep: %w", name, err)
	}
	f, err := os.OpenFile(filepath.Join(cp.dir, procsFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err == nil {
		_, err = fmt.Fprintf(f, "%s %d %s\n", name, p.cmd.Process.Pid, start)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("recording %s for the sweep: %w", name, err)
	}
	cp.logf("%s started (pid %d, log %s)", name, p.cmd.Process.Pid, p.log)
	return nil
}

func (p *process) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

func (p *process) err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.waitErr
}

// stop sends SIGTERM to the process group, and SIGKILL after grace.
func (p *process) stop(grace time.Duration) {
	pgid := p.cmd.Process.Pid
	if p.running() {
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
		}
	}
	// What the group still holds, the leader gone or not.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-p.done
}

// Sweep removes what control planes of killed runs left behind: for every
// state directory whose owner is gone, it kills the process group of each
// component it recorded that still runs (the same process: PID and start
// time), then removes the directory. Start calls it; logf (nil: silent)
// hears what it removed.
func Sweep(logf func(format string, args ...any)) {
	dirs, _ := filepath.Glob(stateGlob)
	for _, dir := range dirs {
		pid, _, stale := owner.Stale(dir)
		if !stale {
			continue
		}
		data, _ := os.ReadFile(filepath.Join(dir, procsFile))
		var killed []string
		for _, line := range strings.Split(string(data), "\n") {
			var name, start string
			var cpid int
			if _, err := fmt.Sscan(line, &name, &cpid, &start); err != nil {
				continue
			}
			if owner.Alive(cpid, start) {
				_ = syscall.Kill(-cpid, syscall.SIGKILL)
				killed = append(killed, fmt.Sprintf("%s (pid %d)", name, cpid))
			}
		}
		os.RemoveAll(dir)
		if logf != nil {
			logf("removed the control plane of a killed run (owner pid %d, %s); killed: %v", pid, dir, killed)
		}
	}
}

// freePorts returns n ports free on address now (the kernel's choice).
func freePorts(address string, n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", net.JoinHostPort(address, "0"))
		if err != nil {
			return nil, fmt.Errorf("finding a free port on %s: %w", address, err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
