package manager

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aku-project/aku/altisim"
	"github.com/aku-project/aku/altisim/driver"
	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/podlife"
	"github.com/aku-project/aku/podlife/health"
	"github.com/aku-project/aku/replication"
)

// The tests run aku run's manager against in-process altisim servers, one
// per pod, through database/sql and the simulator's driver: the lifecycle
// is podlife.Run, the checks health's, as in production.

var clusterSeq atomic.Int64

// mesh is a StatefulSet of simulated pods: a server per pod and its marker
// directory (its /tmp). A pod is absent (NXDOMAIN) while it has no server.
type mesh struct {
	cfg *conf.Config
	c   *altisim.Cluster
	tmp []string
}

func newMesh(t testing.TB, n int) *mesh {
	t.Helper()
	m := &mesh{cfg: &conf.Config{
		File: "aku.conf", StsName: "altibase-sts", SvcName: "altibase-svc", ServerCount: n,
		SysUser: "SYS", SysPassword: "manager", PortNo: 20300, ReplicationPortNo: 20301,
		QueryTimeout: 10 * time.Second, QueryRetryCount: 2, QueryRetryDelay: 10 * time.Millisecond,
		AddressCheckCount: 1, FlushAtStart: true, FlushTimeoutAtStart: 5 * time.Second,
		FlushAtEnd: true, ReplicationResetAtEnd: true, ObserveTimeout: 2 * time.Second,
		Groups: []conf.Group{{Prefix: "AKU_REP", SyncParallelCount: 1, Items: []conf.Item{{User: "SYS", Table: "T1"}}}},
	}}
	m.c = altisim.NewCluster(fmt.Sprintf("manager-%d", clusterSeq.Add(1)), altisim.ClusterOptions{})
	t.Cleanup(func() { m.c.Close() })
	for range n {
		m.tmp = append(m.tmp, t.TempDir())
	}
	return m
}

func (m *mesh) host(q int) string       { return podlife.PeerHost(m.cfg, q) }
func (m *mesh) markerPath(q int) string { return filepath.Join(m.tmp[q], "aku_start_completed") }

// boot starts pod q's server in ADMIN_MODE = 1 with table T1, as a
// container's server command would.
func (m *mesh) boot(t testing.TB, q int) {
	t.Helper()
	if _, err := m.c.AddServer(m.host(q), altisim.Options{
		DataDir: t.TempDir(), ReplicationPort: m.cfg.ReplicationPortNo, ReplicationLag: 2 * time.Millisecond,
		Properties: map[string]int64{"ADMIN_MODE": 1},
	}); err != nil {
		t.Fatal(err)
	}
	m.mustSQL(t, q, "CREATE TABLE SYS.T1 (I1 INTEGER PRIMARY KEY, V VARCHAR(20))")
}

// mustSQL runs stmt on pod q's server as SYSDBA.
func (m *mesh) mustSQL(t testing.TB, q int, stmt string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := m.dialer(true).Connect(ctx, m.host(q))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Exec(ctx, stmt); err != nil {
		t.Fatalf("pod %d: %s: %v", q, stmt, err)
	}
}

// dialer opens sessions of the cluster, as SYSDBA or ordinary ones.
func (m *mesh) dialer(sysdba bool) *replication.Dialer {
	tmpl := driver.Template(m.c.Name(), 300*time.Millisecond)
	if !sysdba {
		tmpl, _ = replication.OrdinaryTemplate(tmpl)
	}
	return &replication.Dialer{
		Driver: "altisim", Template: tmpl, Port: m.cfg.PortNo, User: "SYS", Password: "manager",
		Policy: replication.Policy{QueryTimeout: m.cfg.QueryTimeout, RetryCount: m.cfg.QueryRetryCount, RetryDelay: m.cfg.QueryRetryDelay},
	}
}

// LookupHost is the pods' DNS: a name resolves while its pod has a server.
func (m *mesh) LookupHost(_ context.Context, host string) ([]string, error) {
	if !slices.Contains(m.c.Hosts(), host) {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return []string{"10.0.0.1"}, nil
}

// healthInput is pod q's input of the checks and probes.
func (m *mesh) healthInput(t testing.TB, q int) health.Input {
	t.Helper()
	id, err := podlife.Identify(fmt.Sprintf("altibase-sts-%d", q), m.cfg)
	if err != nil {
		t.Fatal(err)
	}
	return health.Input{Config: m.cfg, Identity: id, Dialer: m.dialer(false), Resolver: m, MarkerPath: m.markerPath(q)}
}

// lifecycle runs lifecycle commands on pod q as aku -p does.
func (m *mesh) lifecycle(t testing.TB, q int) Lifecycle {
	in := m.healthInput(t, q)
	return func(ctx context.Context, action podlife.Action, deadline time.Time, release []int) error {
		_, err := podlife.Run(ctx, podlife.Input{
			Action: action, Config: m.cfg, Identity: in.Identity, Connector: podlife.DialerConnector{Dialer: m.dialer(true)},
			MarkerPath: m.markerPath(q), Deadline: deadline, Release: release,
		})
		return err
	}
}

// classify is the tests' stand-in for cmd/aku's exit codes: success and
// the marker are done, everything else is retried.
func classify(err error) Outcome {
	switch {
	case err == nil:
		return Outcome{Name: "ok", Retry: RetryDone}
	case errors.Is(err, podlife.ErrDuplicateStart):
		return Outcome{Code: 6, Name: "already-started", Retry: RetryDone}
	}
	return Outcome{Code: 99, Name: "failed", Retry: RetryBackoff}
}

// syncBuffer is a Buffer safe for the manager's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// running is a Manager that runs in the test: its base URL, its log, and
// how Run ended.
type running struct {
	m      *Manager
	url    string
	log    *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

// config is the Config of pod q with a fast check, serving on a port of
// the loopback; tune changes it before the manager starts.
func (m *mesh) config(t testing.TB, q int) Config {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return Config{
		Health: m.healthInput(t, q), Lifecycle: m.lifecycle(t, q), Classify: classify,
		Listener: l, CheckInterval: 50 * time.Millisecond, GracePeriod: 20 * time.Second, StopReserve: 2 * time.Second,
		ServerWait: 5 * time.Second, Stdout: io.Discard, Stderr: io.Discard, Version: "test",
	}
}

var testCodes = Codes{ServerFailed: 21, ServerNotStopped: 22, Unreachable: 7, Interrupted: 14}

// run starts the manager of cfg; the test's cleanup stops it.
func run(t testing.TB, cfg Config) *running {
	t.Helper()
	r := &running{log: &syncBuffer{}, done: make(chan error, 1)}
	cfg.Log = slog.New(slog.NewTextHandler(r.log, nil))
	var err error
	if r.m, err = New(cfg, testCodes); err != nil {
		t.Fatal(err)
	}
	r.m.firstPause = 20 * time.Millisecond
	r.url = "http://" + cfg.Listener.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- r.m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(30 * time.Second):
			t.Error("the manager did not end within 30 s of its cancel")
		}
	})
	return r
}

// stop cancels the manager's context (SIGTERM) and returns Run's error.
func (r *running) stop(t testing.TB) error {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err // for the cleanup
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("the manager did not end within 30 s of SIGTERM")
		return nil
	}
}

// get does method on path and returns the status code and body.
func (r *running) get(t testing.TB, method, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, r.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// waitFor polls cond every 20 ms for up to 20 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitStatus waits until path answers code.
func (r *running) waitStatus(t testing.TB, path string, code int) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, body := r.get(t, http.MethodGet, path)
		if got == code {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s answers %d %q, want %d\nlog:\n%s", path, got, strings.TrimSpace(body), code, r.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
