package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// network is the bridge the pods' veth pairs attach to, in a /24 of 10/8
// that no interface of the host uses.
type network struct {
	suffix string // per-run name suffix: a crashed earlier run cannot collide
	bridge string
	prefix string // "10.b.c."
}

// gatewayIP is the bridge's address: the pods' default route and DNS server.
func (n *network) gatewayIP() string { return n.prefix + "1" }

// podIP is the address of the pod with this ordinal.
func (n *network) podIP(ordinal int) string { return fmt.Sprintf("%s%d", n.prefix, 10+ordinal) }

// phantomIP is an address on the bridge that no pod has: connects to it are
// dropped (see Cluster.Blackhole).
func (n *network) phantomIP(ordinal int) string { return fmt.Sprintf("%s%d", n.prefix, 200+ordinal) }

func (n *network) netnsName(ordinal int) string { return fmt.Sprintf("aku-%s-%d", n.suffix, ordinal) }

// vethName is the host side of a pod's veth pair (at most 15 bytes).
func (n *network) vethName(ordinal int) string { return fmt.Sprintf("akv%s%d", n.suffix, ordinal) }

func randomSuffix() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newNetwork creates the bridge on a /24 that is free on this host; suffix
// (randomSuffix) names the bridge, the namespaces and the veths.
func newNetwork(ctx context.Context, suffix string) (*network, error) {
	used, err := run(ctx, "ip", "-4", "-o", "addr")
	if err != nil {
		return nil, err
	}
	routes, err := run(ctx, "ip", "-4", "route")
	if err != nil {
		return nil, err
	}
	for try := 0; try < 20; try++ {
		b := make([]byte, 2)
		_, _ = rand.Read(b)
		prefix := fmt.Sprintf("10.%d.%d.", 16+int(b[0])%224, b[1])
		if strings.Contains(used, " "+prefix) || strings.Contains(routes, prefix) {
			continue
		}
		n := &network{suffix: suffix, prefix: prefix}
		n.bridge = "akb" + n.suffix
		if _, err := run(ctx, "ip", "link", "add", n.bridge, "type", "bridge"); err != nil {
			return nil, err
		}
		// A fixed address: a bridge otherwise takes the lowest MAC of its
		// ports, which changes when a pod's veth joins, and the pods' ARP
		// entries for the gateway (their DNS server) go stale for seconds.
		mac := fmt.Sprintf("02:ac:%s:%s:%s:01", n.suffix[0:2], n.suffix[2:4], n.suffix[4:6])
		if _, err := run(ctx, "ip", "link", "set", n.bridge, "address", mac); err != nil {
			n.close()
			return nil, err
		}
		if _, err := run(ctx, "ip", "addr", "add", n.gatewayIP()+"/24", "dev", n.bridge); err != nil {
			n.close()
			return nil, err
		}
		if _, err := run(ctx, "ip", "link", "set", n.bridge, "up"); err != nil {
			n.close()
			return nil, err
		}
		return n, nil
	}
	return nil, errors.New("creating the pod network: no free 10.x.y.0/24 found")
}

// addPod creates the pod's network namespace with eth0 = podIP on the
// bridge, lo up, and a default route through the bridge.
func (n *network) addPod(ctx context.Context, ordinal int, phantoms []string) error {
	ns, veth := n.netnsName(ordinal), n.vethName(ordinal)
	steps := [][]string{
		{"ip", "netns", "add", ns},
		{"ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns},
		{"ip", "link", "set", veth, "master", n.bridge, "up"},
		{"ip", "-n", ns, "addr", "add", n.podIP(ordinal) + "/24", "dev", "eth0"},
		{"ip", "-n", ns, "link", "set", "eth0", "up"},
		{"ip", "-n", ns, "link", "set", "lo", "up"},
		{"ip", "-n", ns, "route", "add", "default", "via", n.gatewayIP()},
	}
	for _, s := range steps {
		if _, err := run(ctx, s[0], s[1:]...); err != nil {
			n.removePod(ordinal)
			return fmt.Errorf("creating the network of pod %d: %w", ordinal, err)
		}
	}
	for _, ip := range phantoms {
		if err := n.blackhole(ctx, ordinal, ip); err != nil {
			n.removePod(ordinal)
			return err
		}
	}
	return nil
}

// blackhole makes the pod's connects to ip hang: a permanent neighbour
// entry to a MAC that does not exist swallows every SYN (docs/e2e.md, "The
// controller").
func (n *network) blackhole(ctx context.Context, ordinal int, ip string) error {
	_, err := run(ctx, "ip", "-n", n.netnsName(ordinal), "neigh", "replace", ip, "lladdr", "02:00:00:00:00:02", "dev", "eth0", "nud", "permanent")
	return err
}

// setLink takes the pod's eth0 down (a network partition) or up again.
func (n *network) setLink(ctx context.Context, ordinal int, up bool) error {
	ns := n.netnsName(ordinal)
	state := "down"
	if up {
		state = "up"
	}
	if _, err := run(ctx, "ip", "-n", ns, "link", "set", "eth0", state); err != nil {
		return err
	}
	if up {
		_, err := run(ctx, "ip", "-n", ns, "route", "replace", "default", "via", n.gatewayIP())
		return err
	}
	return nil
}

// removePod deletes the pod's namespace, which destroys its veth pair.
func (n *network) removePod(ordinal int) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _ = run(ctx, "ip", "link", "del", n.vethName(ordinal))
	_, _ = run(ctx, "ip", "netns", "del", n.netnsName(ordinal))
}

func (n *network) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _ = run(ctx, "ip", "link", "del", n.bridge)
}

// dns is a dnsmasq that answers for the Service's domain only: names it
// holds in its hosts file resolve, every other name under the domain is
// NXDOMAIN at once (--local), as for a headless Service in Kubernetes.
type dns struct {
	domain    string
	server    string // IP dnsmasq listens on
	hostsFile string
	cmd       *exec.Cmd
	done      chan struct{}

	mu      sync.Mutex
	records map[string]string // name -> IP
}

func startDNS(ctx context.Context, dir, listenIP, domain string, logTo *os.File) (*dns, error) {
	d := &dns{domain: domain, server: listenIP, hostsFile: filepath.Join(dir, "hosts"), records: map[string]string{}, done: make(chan struct{})}
	if err := os.WriteFile(d.hostsFile, nil, 0o644); err != nil {
		return nil, fmt.Errorf("starting dnsmasq: %w", err)
	}
	d.cmd = exec.Command("dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
		"--no-resolv", "--no-hosts", "--local=/"+domain+"/", "--addn-hosts="+d.hostsFile,
		"--listen-address="+listenIP, "--bind-interfaces", "--pid-file="+filepath.Join(dir, "dnsmasq.pid"),
		"--user=root", "--local-ttl=0", "--log-facility=-", "--log-queries")
	d.cmd.Stdout, d.cmd.Stderr = logTo, logTo
	// It dies with the tests even when they are killed (a go test timeout
	// runs no cleanup).
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := d.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting dnsmasq: %w", err)
	}
	go func() { _ = d.cmd.Wait(); close(d.done) }()
	// Up when it answers NXDOMAIN for a name of the domain.
	err := waitFor(ctx, 5*time.Second, func() (bool, error) {
		select {
		case <-d.done:
			return false, errors.New("dnsmasq exited; see its log")
		default:
		}
		_, err := d.lookup(ctx, "probe."+domain)
		var de *net.DNSError
		return errors.As(err, &de) && de.IsNotFound, nil
	})
	if err != nil {
		d.stop()
		return nil, fmt.Errorf("starting dnsmasq on %s: %w", listenIP, err)
	}
	return d, nil
}

// lookup asks this dnsmasq, not the host's resolver.
func (d *dns) lookup(ctx context.Context, name string) ([]string, error) {
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var dl net.Dialer
		return dl.DialContext(ctx, "udp", net.JoinHostPort(d.server, "53"))
	}}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	return r.LookupHost(ctx, name)
}

// set publishes name -> ip (ip "" withdraws it) and waits until dnsmasq
// answers accordingly: it re-reads its hosts file on SIGHUP.
func (d *dns) set(ctx context.Context, name, ip string) error {
	d.mu.Lock()
	if ip == "" {
		delete(d.records, name)
	} else {
		d.records[name] = ip
	}
	var lines []string
	for n, a := range d.records {
		lines = append(lines, a+" "+n+"\n")
	}
	sort.Strings(lines)
	err := os.WriteFile(d.hostsFile, []byte(strings.Join(lines, "")), 0o644)
	d.mu.Unlock()
	if err != nil {
		return fmt.Errorf("writing the DNS records: %w", err)
	}
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		return fmt.Errorf("reloading dnsmasq: %w", err)
	}
	return waitFor(ctx, 5*time.Second, func() (bool, error) {
		addrs, err := d.lookup(ctx, name)
		if ip == "" {
			var de *net.DNSError
			return errors.As(err, &de) && de.IsNotFound, nil
		}
		return err == nil && len(addrs) == 1 && addrs[0] == ip, nil
	})
}

func (d *dns) stop() {
	if d.cmd.Process == nil {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(3 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
	}
}

// run runs a host command and returns its output; the error carries the
// command line and its output.
func run(ctx context.Context, name string, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("running %s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// waitFor polls cond every 50 ms until it is true, it fails, ctx ends or
// limit passes.
func waitFor(ctx context.Context, limit time.Duration, cond func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("still waiting after %v: %w", limit, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
