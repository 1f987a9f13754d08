package health_test

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"slices"
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

// The tests of this package run aku's start (podlife.Run) and the health
// view against in-process altisim servers, one per pod, through
// database/sql and the "altisim" driver: everything above database/sql is
// the production code.

var meshSeq atomic.Int64

// mesh is a StatefulSet of simulated pods: a server per pod, its data
// directory (its PVC) and its marker directory (its /tmp).
type mesh struct {
	cfg  *conf.Config
	c    *altisim.Cluster
	data []string
	tmp  []string
	// absent are names the resolver answers NXDOMAIN for although a
	// server is registered under them (a pod deleted with its record).
	mu     sync.Mutex
	absent map[string]bool
}

// meshConfig is n servers replicating SYS.T1, with fast retries.
func meshConfig(n int) *conf.Config {
	return &conf.Config{
		File: "aku.conf", StsName: "altibase-sts", SvcName: "altibase-svc", ServerCount: n,
		SysUser: "SYS", SysPassword: "manager", PortNo: 20300, ReplicationPortNo: 20301,
		QueryTimeout: 10 * time.Second, QueryRetryCount: 3, QueryRetryDelay: 10 * time.Millisecond,
		AddressCheckCount: 2, FlushAtStart: true, FlushTimeoutAtStart: 5 * time.Second,
		FlushAtEnd: true, ReplicationResetAtEnd: true, ObserveTimeout: 3 * time.Second,
		Groups: []conf.Group{{Prefix: "AKU_REP", SyncParallelCount: 1, Items: []conf.Item{{User: "SYS", Table: "T1"}}}},
	}
}

func newMesh(t testing.TB, n int) *mesh {
	m := &mesh{cfg: meshConfig(n), absent: map[string]bool{}}
	m.c = altisim.NewCluster(fmt.Sprintf("health-%d", meshSeq.Add(1)), altisim.ClusterOptions{})
	t.Cleanup(func() { m.c.Close() })
	for q := 0; q < n; q++ {
		m.data = append(m.data, t.TempDir())
		m.tmp = append(m.tmp, t.TempDir())
	}
	return m
}

func (m *mesh) host(q int) string { return podlife.PeerHost(m.cfg, q) }
func (m *mesh) pod(q int) string  { return fmt.Sprintf("altibase-sts-%d", q) }

func (m *mesh) markerPath(q int) string { return filepath.Join(m.tmp[q], "aku_start_completed") }

// boot starts pod q's server in ADMIN_MODE = 1, as the container's entry
// point does, with table T1.
func (m *mesh) boot(t testing.TB, q int) *altisim.Server {
	t.Helper()
	srv, err := m.c.AddServer(m.host(q), altisim.Options{
		DataDir: m.data[q], ReplicationPort: m.cfg.ReplicationPortNo, ReplicationLag: 2 * time.Millisecond,
		Properties: map[string]int64{"ADMIN_MODE": 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.sql(q, "SELECT COUNT(*) FROM SYS.T1"); err != nil {
		m.mustSQL(t, q, "CREATE TABLE SYS.T1 (I1 INTEGER PRIMARY KEY, V VARCHAR(20))")
	}
	return srv
}

// sql runs one statement on pod q's server in a SYSDBA session of its own,
// as an operator would.
func (m *mesh) sql(q int, stmt string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := m.dialer(true).Connect(ctx, m.host(q))
	if err != nil {
		return err
	}
	defer s.Close()
	return s.Exec(ctx, stmt)
}

func (m *mesh) mustSQL(t testing.TB, q int, stmts ...string) {
	t.Helper()
	for _, stmt := range stmts {
		if err := m.sql(q, stmt); err != nil {
			t.Fatalf("pod %d: %v", q, err)
		}
	}
}

// slowSync boots pod 2 beside running pods 0 and 1 and makes the master's
// next SYNC toward it take time: rows on the master, sent in batches of 5,
// each row taking rowDelay; V$REPSYNC counts up batch by batch.
func (m *mesh) slowSync(t testing.TB, rows int, rowDelay time.Duration) {
	t.Helper()
	for i := 0; i < rows; i++ {
		m.mustSQL(t, 0, fmt.Sprintf("INSERT INTO SYS.T1 VALUES (%d, 'r')", i))
	}
	m.boot(t, 2)
	m.mustSQL(t, 0, "ALTER SYSTEM SET REPLICATION_SYNC_TUPLE_COUNT = 5")
	m.c.Server(m.host(0)).Faults().SetSyncRowDelay(rowDelay)
}

// dialer is a Dialer of the cluster, as SYSDBA or ordinary.
func (m *mesh) dialer(sysdba bool) *replication.Dialer {
	tmpl := driver.Template(m.c.Name(), 300*time.Millisecond)
	if !sysdba {
		ordinary, err := replication.OrdinaryTemplate(tmpl)
		if err != nil {
			panic(err)
		}
		tmpl = ordinary
	}
	return &replication.Dialer{
		Driver: "altisim", Template: tmpl, Port: m.cfg.PortNo, User: "SYS", Password: "manager",
		Policy: replication.Policy{QueryTimeout: m.cfg.QueryTimeout, RetryCount: m.cfg.QueryRetryCount, RetryDelay: m.cfg.QueryRetryDelay},
	}
}

func (m *mesh) identity(t testing.TB, q int) podlife.Identity {
	t.Helper()
	id, err := podlife.Identify(m.pod(q), m.cfg)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// start runs aku -p start on pod q, with progress if not nil.
func (m *mesh) start(t testing.TB, ctx context.Context, q int, progress podlife.Progress) error {
	t.Helper()
	_, err := podlife.Run(ctx, podlife.Input{
		Action: podlife.ActionStart, Config: m.cfg, Identity: m.identity(t, q),
		Connector: podlife.DialerConnector{Dialer: m.dialer(true)}, MarkerPath: m.markerPath(q), Progress: progress,
	})
	return err
}

func (m *mesh) mustStart(t testing.TB, q int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := m.start(t, ctx, q, nil); err != nil {
		t.Fatalf("aku -p start on pod %d: %v", q, err)
	}
}

// startAll boots and starts pods 0..n-1 one after another.
func (m *mesh) startAll(t testing.TB, n int) {
	t.Helper()
	for q := 0; q < n; q++ {
		m.boot(t, q)
		m.mustStart(t, q)
	}
}

// input is the health.Input of pod q.
func (m *mesh) input(t testing.TB, q int, sysdba bool) health.Input {
	t.Helper()
	in := health.Input{Config: m.cfg, Identity: m.identity(t, q), Dialer: m.dialer(false), Resolver: m, MarkerPath: m.markerPath(q)}
	if sysdba {
		in.Sysdba = m.dialer(true)
	}
	return in
}

// status observes the mesh from pod q, as aku status does.
func (m *mesh) status(t testing.TB, q int, sysdba bool) *health.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	in := m.input(t, q, sysdba)
	return health.Assess(m.cfg, in.Identity, health.Observe(ctx, in))
}

// setAbsent makes pod q's name resolve (false) or not (true).
func (m *mesh) setAbsent(q int, absent bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.absent[m.host(q)] = absent
}

// LookupHost is the pods' DNS: a name resolves while the cluster knows the
// host (running or not) and the test has not made it absent.
func (m *mesh) LookupHost(_ context.Context, host string) ([]string, error) {
	m.mu.Lock()
	absent := m.absent[host]
	m.mu.Unlock()
	if absent || !slices.Contains(m.c.Hosts(), host) {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return []string{"10.0.0.1"}, nil
}

// kinds lists the findings as "kind server replication".
func kinds(r *health.Report) []string {
	out := []string{}
	for _, f := range r.Findings {
		out = append(out, fmt.Sprintf("%s %d %s", f.Kind, f.Server, f.Replication))
	}
	return out
}

// side returns the side of pair name on server q.
func side(t testing.TB, r *health.Report, name string, q int) health.Side {
	t.Helper()
	for _, p := range r.Pairs {
		if p.Name != name {
			continue
		}
		for _, s := range p.Sides {
			if s.Ordinal == q {
				return s
			}
		}
	}
	t.Fatalf("no side of %s on server %d in the report", name, q)
	return health.Side{}
}
