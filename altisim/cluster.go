package altisim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aku-project/aku/internal/retry"
)

// HostFault is a network-level fault on one host name of a Cluster, seen by
// every connect to that host: the driver's and the replication senders'.
type HostFault int

const (
	// HostOK clears a fault: the host resolves and accepts connections when
	// a server runs there.
	HostOK HostFault = iota
	// HostAbsent makes the name fail to resolve at once, like NXDOMAIN for a
	// pod that does not exist.
	HostAbsent
	// HostRefused makes connects fail at once with "connection refused", like
	// a pod whose server process is not listening.
	HostRefused
	// HostBlackhole makes connects hang until their timeout (the driver's
	// CONNECT_TIMEOUT or the context), like a host whose SYNs are dropped;
	// established links hang too, like a network partition.
	HostBlackhole
)

// String names the fault as the constants do, without the prefix.
func (f HostFault) String() string {
	switch f {
	case HostOK:
		return "ok"
	case HostAbsent:
		return "absent"
	case HostRefused:
		return "refused"
	case HostBlackhole:
		return "blackhole"
	}
	return fmt.Sprintf("HostFault(%d)", int(f))
}

// Connection failures of a Cluster. Dial and Connect errors wrap exactly one
// of them, so tests can tell the three apart with errors.Is.
var (
	// ErrNoSuchHost: the host name does not resolve in the cluster.
	ErrNoSuchHost = errors.New("no such host")
	// ErrConnectionRefused: the host exists but nothing listens there.
	ErrConnectionRefused = errors.New("connection refused")
	// ErrConnectTimeout: the connect did not complete within its timeout.
	ErrConnectTimeout = errors.New("connect timed out")
	// ErrConnectionReset: an established link lost its peer (the server
	// crashed, restarted or was removed since the link was dialled).
	ErrConnectionReset = errors.New("connection reset by peer")
)

// ClusterOptions configure a Cluster.
type ClusterOptions struct {
	// ConnectLatency is added to every connect, the driver's and the
	// senders', to model network round trips in benchmarks.
	ConnectLatency time.Duration
	// Port, when not 0, is the only SQL port the driver may connect to
	// (like Altibase's PORT_NO, default 20300); other ports are refused.
	Port int
}

// Cluster is a set of in-process servers addressed by host name, as the
// pods of a StatefulSet are by their DNS names. Its Transport carries
// replication between its servers, and the database/sql driver in
// altisim/driver reaches its servers through the DSN key CLUSTER=<name>.
// Its methods are safe for concurrent use.
type Cluster struct {
	name string
	opts ClusterOptions

	mu     sync.Mutex
	hosts  map[string]*clusterHost
	faults map[string]HostFault
	closed bool
}

// clusterHost is one host name of a cluster: the options its server was
// added with (kept so it can be restarted on the same data directory) and
// the running server, nil while crashed or stopped.
type clusterHost struct {
	opts     Options
	srv      *Server
	starting bool
}

var (
	registryMu sync.Mutex
	registry   = map[string]*Cluster{}
)

// NewCluster creates an empty cluster and registers it under name for the
// driver's CLUSTER= key. It panics if a cluster of that name is registered
// (as sql.Register does): tests use unique names, e.g. t.Name(). Close
// unregisters it.
func NewCluster(name string, o ClusterOptions) *Cluster {
	c := &Cluster{name: name, opts: o, hosts: map[string]*clusterHost{}, faults: map[string]HostFault{}}
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[name]; dup {
		panic(fmt.Sprintf("altisim: cluster %q registered twice", name))
	}
	registry[name] = c
	return c
}

// LookupCluster returns the registered cluster of that name, or nil.
func LookupCluster(name string) *Cluster {
	registryMu.Lock()
	defer registryMu.Unlock()
	return registry[name]
}

// Name is the name the cluster is registered under.
func (c *Cluster) Name() string { return c.name }

// Transport is the cluster's in-process replication transport: it resolves
// host names to the cluster's servers and delivers messages by calling
// (*Server).Receive, honouring host faults.
func (c *Cluster) Transport() Transport { return clusterTransport{c} }

// AddServer starts a server for host, with o.Name = host and o.Transport =
// the cluster's transport. A host that was added before (and removed, or
// crashed) may be added again: with the same DataDir it is a restarted pod.
func (c *Cluster) AddServer(host string, o Options) (*Server, error) {
	o.Name = host
	o.Transport = c.Transport()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, fmt.Errorf("adding server %s to cluster %s: cluster closed", host, c.name)
	}
	prev := c.hosts[host]
	if prev != nil && (prev.srv != nil || prev.starting) {
		c.mu.Unlock()
		return nil, fmt.Errorf("adding server %s to cluster %s: a server is already running there", host, c.name)
	}
	h := &clusterHost{opts: o, starting: true}
	c.hosts[host] = h
	c.mu.Unlock()
	srv, err := c.startHost(h)
	if err != nil {
		c.mu.Lock()
		if c.hosts[host] == h {
			if prev != nil {
				c.hosts[host] = prev
			} else {
				delete(c.hosts, host)
			}
		}
		c.mu.Unlock()
		return nil, fmt.Errorf("adding server %s to cluster %s: %w", host, c.name, err)
	}
	return srv, nil
}

// startHost starts h's server without holding the cluster's lock: a
// restarted server auto-starts its replications (Altibase General Reference,
// "REPLICATION_SENDER_AUTO_START"), which dial peers through the cluster.
// Connects to h are refused while it starts.
func (c *Cluster) startHost(h *clusterHost) (*Server, error) {
	srv, err := NewServer(h.opts)
	c.mu.Lock()
	defer c.mu.Unlock()
	h.starting = false
	if err != nil {
		return nil, err
	}
	if c.closed || c.hosts[h.opts.Name] != h {
		srv.Close()
		return nil, fmt.Errorf("cluster %s closed or host removed while the server started", c.name)
	}
	h.srv = srv
	return srv, nil
}

// Server returns the server running on host, or nil when none runs there.
func (c *Cluster) Server(host string) *Server {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h := c.hosts[host]; h != nil {
		return h.srv
	}
	return nil
}

// Hosts lists the cluster's host names in order, running or not.
func (c *Cluster) Hosts() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	hosts := make([]string, 0, len(c.hosts))
	for h := range c.hosts {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	return hosts
}

// RemoveServer closes host's server and forgets the host, like a deleted
// pod whose DNS record is gone: connects then fail with ErrNoSuchHost. The
// data directory is left alone (a PVC outlives its pod).
func (c *Cluster) RemoveServer(host string) error {
	// A server still starting is closed by startHost when it finds its
	// host gone.
	c.mu.Lock()
	h := c.hosts[host]
	delete(c.hosts, host)
	var srv *Server
	if h != nil {
		srv, h.srv = h.srv, nil
	}
	c.mu.Unlock()
	if h == nil {
		return fmt.Errorf("removing server %s from cluster %s: %w", host, c.name, ErrNoSuchHost)
	}
	if srv != nil {
		if err := srv.Close(); err != nil {
			return fmt.Errorf("removing server %s from cluster %s: %w", host, c.name, err)
		}
	}
	return nil
}

// Stop closes host's server gracefully (SIGTERM) but keeps the host name:
// connects are refused until Start.
func (c *Cluster) Stop(host string) error {
	srv, err := c.takeServer(host)
	if err != nil {
		return fmt.Errorf("stopping server %s of cluster %s: %w", host, c.name, err)
	}
	if srv == nil {
		return nil
	}
	if err := srv.Close(); err != nil {
		return fmt.Errorf("stopping server %s of cluster %s: %w", host, c.name, err)
	}
	return nil
}

// Crash kills host's server without a shutdown (kill -9): what it
// acknowledged survives in its data directory, the rest is lost. The host
// name stays: connects are refused until Start.
func (c *Cluster) Crash(host string) error {
	srv, err := c.takeServer(host)
	if err != nil {
		return fmt.Errorf("crashing server %s of cluster %s: %w", host, c.name, err)
	}
	if srv != nil {
		srv.Crash()
	}
	return nil
}

// takeServer detaches host's running server (nil when none runs) so that
// connects are refused from now on; the caller stops it. A server still
// starting cannot be taken: it would come up after the Stop or Crash.
func (c *Cluster) takeServer(host string) (*Server, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.hosts[host]
	switch {
	case h == nil:
		return nil, ErrNoSuchHost
	case h.starting:
		return nil, errors.New("the server is still starting")
	}
	srv := h.srv
	h.srv = nil
	return srv, nil
}

// Start starts a stopped or crashed host's server again with the options
// it was added with (same data directory), like a restarted pod.
func (c *Cluster) Start(host string) (*Server, error) {
	c.mu.Lock()
	h := c.hosts[host]
	switch {
	case h == nil:
		c.mu.Unlock()
		return nil, fmt.Errorf("starting server %s of cluster %s: %w", host, c.name, ErrNoSuchHost)
	case h.srv != nil || h.starting:
		c.mu.Unlock()
		return nil, fmt.Errorf("starting server %s of cluster %s: already running", host, c.name)
	}
	h.starting = true
	c.mu.Unlock()
	srv, err := c.startHost(h)
	if err != nil {
		return nil, fmt.Errorf("starting server %s of cluster %s: %w", host, c.name, err)
	}
	return srv, nil
}

// Restart stops host's server gracefully and starts it again on the same
// data directory.
func (c *Cluster) Restart(host string) (*Server, error) {
	if err := c.Stop(host); err != nil {
		return nil, err
	}
	return c.Start(host)
}

// SetHostFault sets the network fault every later connect to host sees;
// HostOK clears it. The host need not exist in the cluster.
func (c *Cluster) SetHostFault(host string, f HostFault) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f == HostOK {
		delete(c.faults, host)
		return
	}
	c.faults[host] = f
}

// Close closes every running server and unregisters the cluster. It
// returns the first error of the servers' Close.
func (c *Cluster) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	var srvs []*Server
	for _, h := range c.hosts {
		if h.srv != nil {
			srvs = append(srvs, h.srv)
			h.srv = nil
		}
	}
	c.mu.Unlock()

	registryMu.Lock()
	if registry[c.name] == c {
		delete(registry, c.name)
	}
	registryMu.Unlock()

	var first error
	for _, s := range srvs {
		if err := s.Close(); err != nil && first == nil {
			first = fmt.Errorf("closing server %s of cluster %s: %w", s.Name(), c.name, err)
		}
	}
	return first
}

// resolve is what a TCP connect to host does in the cluster's network: it
// waits the connect latency, applies the host's fault and returns the
// running server. timeout bounds a blackholed connect (0 = only ctx).
func (c *Cluster) resolve(ctx context.Context, host string, timeout time.Duration) (*clusterHost, *Server, error) {
	if err := retry.Sleep(ctx, c.opts.ConnectLatency); err != nil {
		return nil, nil, err
	}
	c.mu.Lock()
	fault := c.faults[host]
	h := c.hosts[host]
	var srv *Server
	if h != nil {
		srv = h.srv
	}
	closed := c.closed
	c.mu.Unlock()
	switch {
	case closed:
		return nil, nil, fmt.Errorf("cluster %s closed: %w", c.name, ErrConnectionRefused)
	case fault == HostAbsent || (fault == HostOK && h == nil):
		return nil, nil, fmt.Errorf("lookup %s: %w", host, ErrNoSuchHost)
	case fault == HostRefused:
		return nil, nil, fmt.Errorf("connect to %s: %w", host, ErrConnectionRefused)
	case fault == HostBlackhole:
		if timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, timeout)
			defer cancel()
		}
		<-ctx.Done()
		return nil, nil, fmt.Errorf("connect to %s: %w", host, ErrConnectTimeout)
	case h == nil:
		// A faulted name that is not a cluster host: resolution fails.
		return nil, nil, fmt.Errorf("lookup %s: %w", host, ErrNoSuchHost)
	case srv == nil:
		return nil, nil, fmt.Errorf("connect to %s: %w", host, ErrConnectionRefused)
	}
	return h, srv, nil
}

// Connect opens a client session on host's server as a client at
// host:port would: with the cluster's latency and host faults, and with
// timeout (the driver's CONNECT_TIMEOUT, 0 = none) bounding a hanging
// connect. Network failures wrap ErrNoSuchHost, ErrConnectionRefused or
// ErrConnectTimeout; the server's refusals are its *Error.
func (c *Cluster) Connect(ctx context.Context, host string, port int, timeout time.Duration, o ConnectOptions) (*Session, error) {
	_, srv, err := c.resolve(ctx, host, timeout)
	if err != nil {
		return nil, err
	}
	if c.opts.Port != 0 && port != c.opts.Port {
		return nil, fmt.Errorf("connect to %s:%d: %w", host, port, ErrConnectionRefused)
	}
	return srv.Connect(ctx, o)
}

// clusterTransport is the Transport of a Cluster.
type clusterTransport struct{ c *Cluster }

// Dial connects to host's replication listener: the host must run a server
// whose ReplicationPort is port.
func (t clusterTransport) Dial(ctx context.Context, host string, port int) (Link, error) {
	h, srv, err := t.c.resolve(ctx, host, 0)
	if err != nil {
		return nil, fmt.Errorf("dialling replication %s:%d: %w", host, port, err)
	}
	if h.opts.ReplicationPort == 0 || h.opts.ReplicationPort != port {
		return nil, fmt.Errorf("dialling replication %s:%d: %w", host, port, ErrConnectionRefused)
	}
	return &clusterLink{c: t.c, host: host, srv: srv}, nil
}

// clusterLink is an established in-process replication connection to one
// server instance; it breaks when that instance goes away.
type clusterLink struct {
	c    *Cluster
	host string
	srv  *Server

	mu     sync.Mutex
	closed bool
}

// Send delivers m to the peer server's Receive. The message and the reply
// go through JSON, as over TCP, so the two servers share no memory.
func (l *clusterLink) Send(ctx context.Context, m *ReplMessage) (*ReplMessage, error) {
	l.mu.Lock()
	closed := l.closed
	l.mu.Unlock()
	if closed {
		return nil, fmt.Errorf("sending to %s: link closed", l.host)
	}
	l.c.mu.Lock()
	fault := l.c.faults[l.host]
	h := l.c.hosts[l.host]
	alive := h != nil && h.srv == l.srv && !l.c.closed
	l.c.mu.Unlock()
	switch {
	case fault == HostBlackhole:
		<-ctx.Done()
		return nil, fmt.Errorf("sending to %s: %w", l.host, ctx.Err())
	case fault != HostOK || !alive:
		return nil, fmt.Errorf("sending to %s: %w", l.host, ErrConnectionReset)
	}
	in, err := replJSONCopy(m)
	if err != nil {
		return nil, fmt.Errorf("sending to %s: %w", l.host, err)
	}
	reply, err := l.srv.Receive(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("sending to %s: %w", l.host, err)
	}
	out, err := replJSONCopy(reply)
	if err != nil {
		return nil, fmt.Errorf("reply from %s: %w", l.host, err)
	}
	return out, nil
}

// Close closes the link; later Sends fail.
func (l *clusterLink) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	return nil
}

// replJSONCopy returns a deep copy of m made through its JSON encoding.
func replJSONCopy(m *ReplMessage) (*ReplMessage, error) {
	if m == nil {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encoding replication message: %w", err)
	}
	var out ReplMessage
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("decoding replication message: %w", err)
	}
	return &out, nil
}

// IsLoopback reports whether host names this machine's loopback, the test
// for a local (not remote) client of REMOTE_SYSDBA_ENABLE (Altibase CLI
// User's Manual; docs/altisim.md, "Sessions and users").
func IsLoopback(host string) bool {
	h := strings.Trim(strings.ToLower(host), "[]")
	return h == "localhost" || h == "::1" || strings.HasPrefix(h, "127.")
}
