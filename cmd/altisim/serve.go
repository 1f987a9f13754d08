package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/aku-project/aku/altisim"
	"github.com/aku-project/aku/altisim/pgwire"
)

// envProperties are the properties read from ALTIBASE_<NAME> environment
// variables, which override the flags as they override altibase.properties
// (Altibase General Reference, "Altibase Properties"): every property the
// engine models but PORT_NO and REPLICATION_PORT_NO, which come from the
// listen flags instead.
func envProperties() []string {
	var names []string
	for _, n := range altisim.PropertyNames() {
		if n != "PORT_NO" && n != "REPLICATION_PORT_NO" {
			names = append(names, n)
		}
	}
	return names
}

// serveFlags are the flags of `altisim serve`.
type serveFlags struct {
	listen, replListen, data, sysPassword, name, control string
	adminMode                                            int
	properties                                           []string
	replLag, statementLatency                            time.Duration
}

func newServeCommand(stdout io.Writer, env lookupEnv) *cobra.Command {
	return (&serveFlags{}).command(stdout, env)
}

// command is `altisim serve` with its flags bound to f.
func (f *serveFlags) command(stdout io.Writer, env lookupEnv) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a server: SQL over the PostgreSQL protocol on --listen, replication on --replication-listen",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o, err := f.options(cmd, env)
			if err != nil {
				return usageError{err}
			}
			return serve(cmd.Context(), stdout, *f, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", "127.0.0.1:20300", "`HOST:PORT` of the SQL listener (PostgreSQL protocol); port 0 picks a free port")
	fl.StringVar(&f.replListen, "replication-listen", "", "`HOST:PORT` of the replication listener (REPLICATION_PORT_NO is its port); empty disables replication")
	fl.StringVar(&f.data, "data", "", "data `DIR`ectory holding the server's state (required)")
	fl.StringVar(&f.sysPassword, "sys-password", "manager", "password of the SYS user")
	fl.IntVar(&f.adminMode, "admin-mode", 0, "initial ADMIN_MODE (0 or 1); ALTIBASE_ADMIN_MODE overrides it")
	fl.StringArrayVar(&f.properties, "property", nil, "initial property `NAME=VALUE` (repeatable); ALTIBASE_<NAME> overrides it")
	fl.DurationVar(&f.replLag, "replication-lag", 0, "how long a committed change waits before its sender ships it")
	fl.DurationVar(&f.statementLatency, "statement-latency", 0, "latency added to every statement (benchmarks)")
	fl.StringVar(&f.name, "name", "", "this server's host name in replication (default: the machine's host name)")
	fl.StringVar(&f.control, "control", "", "control path: `HOST:PORT` or a unix socket path (default DIR/control.sock)")
	return cmd
}

// options builds the engine's options from the flags and the environment;
// the replication port is filled in once the listener is bound.
func (f *serveFlags) options(cmd *cobra.Command, env lookupEnv) (altisim.Options, error) {
	if f.data == "" {
		return altisim.Options{}, errors.New("--data is required")
	}
	props := map[string]int64{}
	if cmd.Flags().Changed("admin-mode") {
		props["ADMIN_MODE"] = int64(f.adminMode)
	}
	for _, p := range f.properties {
		name, val, ok := strings.Cut(p, "=")
		n, err := strconv.ParseInt(strings.TrimSpace(val), 10, 64)
		if !ok || err != nil {
			return altisim.Options{}, fmt.Errorf("--property %q: want NAME=INTEGER", p)
		}
		props[strings.ToUpper(strings.TrimSpace(name))] = n
	}
	for _, name := range envProperties() {
		v, ok := env("ALTIBASE_" + name)
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return altisim.Options{}, fmt.Errorf("environment ALTIBASE_%s=%q: not an integer", name, v)
		}
		props[name] = n
	}
	name := f.name
	if name == "" {
		h, err := os.Hostname()
		if err != nil {
			return altisim.Options{}, fmt.Errorf("reading the host name (set --name): %w", err)
		}
		name = h
	}
	return altisim.Options{
		Name:             name,
		DataDir:          f.data,
		SysPassword:      f.sysPassword,
		ReplicationLag:   f.replLag,
		Properties:       props,
		StatementLatency: f.statementLatency,
	}, nil
}

// serve runs the server until ctx ends, then closes it gracefully.
func serve(ctx context.Context, stdout io.Writer, f serveFlags, o altisim.Options) error {
	if err := os.MkdirAll(f.data, 0o755); err != nil {
		return fmt.Errorf("creating data directory: %w", err)
	}
	var lc net.ListenConfig
	sqlLn, err := lc.Listen(ctx, "tcp", f.listen)
	if err != nil {
		return fmt.Errorf("listening for clients: %w", err)
	}
	defer sqlLn.Close()
	var replLn net.Listener
	if f.replListen != "" {
		if replLn, err = lc.Listen(ctx, "tcp", f.replListen); err != nil {
			return fmt.Errorf("listening for replication: %w", err)
		}
		defer replLn.Close()
		o.ReplicationPort = replLn.Addr().(*net.TCPAddr).Port
	}
	// REPLICATION_CONNECT_TIMEOUT's default (Altibase General Reference,
	// "REPLICATION_CONNECT_TIMEOUT").
	timeout := 10 * time.Second
	if v, ok := o.Properties["REPLICATION_CONNECT_TIMEOUT"]; ok && v > 0 {
		timeout = time.Duration(v) * time.Second
	}
	o.Transport = altisim.TCPTransport{DialTimeout: timeout}
	// The engine locks the data directory first: a second server started
	// on a directory in use must fail before it replaces the first one's
	// control socket.
	engine, err := altisim.NewServer(o)
	if err != nil {
		return fmt.Errorf("starting server %s: %w", o.Name, err)
	}
	ctlLn, err := listenControl(ctx, f.control, f.data)
	if err != nil {
		engine.Close()
		return err
	}
	defer ctlLn.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 3)
	go func() { errc <- pgwire.Serve(ctx, sqlLn, engine) }()
	go func() { errc <- serveControl(ctx, ctlLn, engine, cancel) }()
	running := 2
	replAddr := "disabled"
	if replLn != nil {
		running++
		replAddr = replLn.Addr().String()
		go func() { errc <- altisim.ServeReplication(ctx, replLn, engine) }()
	}
	fmt.Fprintf(stdout, "altisim ready name=%s listen=%s replication=%s control=%s data=%s\n",
		o.Name, sqlLn.Addr(), replAddr, ctlLn.Addr(), f.data)

	var first error
	for ; running > 0; running-- {
		if err := <-errc; err != nil && first == nil {
			first = err
			cancel()
		}
	}
	if err := engine.Close(); err != nil && first == nil {
		first = fmt.Errorf("closing server %s: %w", o.Name, err)
	}
	return first
}

// listenControl binds the control path: a TCP HOST:PORT, else a unix
// socket path (a stale socket file from a killed server is replaced).
func listenControl(ctx context.Context, addr, dataDir string) (net.Listener, error) {
	if addr == "" {
		addr = filepath.Join(dataDir, "control.sock")
	}
	var lc net.ListenConfig
	network := "unix"
	if isTCPAddr(addr) {
		network = "tcp"
	} else {
		_ = os.Remove(addr)
	}
	ln, err := lc.Listen(ctx, network, addr)
	if err != nil {
		return nil, fmt.Errorf("listening on control path %s: %w", addr, err)
	}
	return ln, nil
}

// isTCPAddr tells a HOST:PORT from a socket path.
func isTCPAddr(addr string) bool {
	if strings.ContainsRune(addr, '/') {
		return false
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	_, err = strconv.Atoi(port)
	return err == nil
}
