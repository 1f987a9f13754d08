package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aku-project/aku/altisim"
	"github.com/aku-project/aku/altisim/driver"
	"github.com/aku-project/aku/altisim/pgwire"
	"github.com/aku-project/aku/altisim/pgwire/pgwiretest"
	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/podlife"
	"github.com/aku-project/aku/replication"
)

// knownPassword is the SYS password of the tests below: no output of aku
// may contain it, but that of -i --show-password.
const knownPassword = "Kn0wn-S3cret!@"

// secretsConf is an aku.conf for one pod served by the simulator on port;
// pw and conn are its password and connection-string lines, if any.
func secretsConf(port int, pw, conn string) string {
	return fmt.Sprintf(`AKU_STS_NAME = db
AKU_SVC_NAME = svc
AKU_SERVER_COUNT = 1
AKU_PORT_NO = %d
AKU_QUERY_RETRY_COUNT = 0
AKU_ADDRESS_CHECK_COUNT = 1
%s
%s
REPLICATIONS = ( REPLICATION_NAME_PREFIX = AKU_REP ( SYS.T1 ) )
`, port, pw, conn)
}

// TestNoSecretInOutput runs every command of aku in-process, through the
// real ODBC path to the simulator, with the SYS password given each way
// aku takes it (aku.conf, environment, secret file, written into the
// connection-string template in the environment or in aku.conf), and
// searches everything printed, on both streams, for the password.
func TestNoSecretInOutput(t *testing.T) {
	pgwiretest.PinODBC(t)
	// The simulator is reached at 127.0.0.1 whatever the pod's host name
	// ({host} goes into DATABASE, which the simulator ignores).
	template := "DRIVER=" + pgwire.PsqlODBCDriver + ";SERVER=127.0.0.1;PORT={port};DATABASE={host};UID={user};PWD={password};UseServerSidePrepare=0;pqopt={connect_timeout=3 options='-c privilege=sysdba'}"
	literal := strings.Replace(template, "PWD={password}", "PWD="+knownPassword, 1)
	literalInConf := strings.Replace(template, "PWD={password}", "Password="+knownPassword, 1)
	literalInConf = strings.Replace(literalInConf, "connect_timeout=3", "connect_timeout=3 password="+knownPassword, 1)
	passwordFile := filepath.Join(t.TempDir(), "sys-password")
	if err := os.WriteFile(passwordFile, []byte(knownPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pwLine := `AKU_SYS_PASSWORD = "` + knownPassword + `"`

	type command struct {
		args     []string
		wantCode int
	}
	lifecycle := []command{
		{[]string{"-i"}, exitOK},
		{[]string{"-i", "--output", "json"}, exitOK},
		{[]string{"-p", "start", "--dry-run"}, exitOK},
		{[]string{"-p", "start"}, exitOK},
		{[]string{"-p", "start", "--log-format", "json"}, exitDuplicateStart},
		{[]string{"-p", "end", "--dry-run", "--log-format", "json"}, exitOK},
		{[]string{"-p", "end", "--log-format", "json"}, exitOK},
		{[]string{"-p", "start", "--log-format", "json"}, exitOK},
		{[]string{"-p", "clean", "--dry-run"}, exitOK},
		{[]string{"-p", "clean"}, exitOK},
		{[]string{"-p", "end"}, exitOK},
		{[]string{"-v"}, exitOK},
		{[]string{"-h"}, exitOK},
		{nil, exitUsage},
		{[]string{"-p", "stop"}, exitUsage},
		{[]string{"-i", "-p", "start"}, exitUsage},
	}
	if !odbcCompiled {
		t.Skip("this test binary has no ODBC (cgo off or -tags noodbc)")
	}

	type setup struct {
		name     string
		serverPW string // the server's SYS password (default knownPassword)
		port     int    // AKU_PORT_NO (default: the simulator's)
		pw, conn string // aku.conf lines
		env      environment
		commands []command
	}
	closedPort := func() int {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		return p
	}()
	startOnly := func(code int) []command {
		return []command{{[]string{"-p", "start"}, code}, {[]string{"-p", "end", "--log-format", "json"}, code}}
	}
	setups := []setup{
		{name: "aku.conf", pw: pwLine, env: environment{ConnectionString: template, ConnectionStringOK: true}, commands: lifecycle},
		{name: "environment", env: environment{SysPassword: knownPassword, SysPasswordSet: true, ConnectionString: template, ConnectionStringOK: true}, commands: lifecycle},
		{name: "secret file", env: environment{SysPasswordFile: passwordFile, ConnectionString: template, ConnectionStringOK: true}, commands: lifecycle},
		{name: "template in the environment", pw: pwLine, env: environment{ConnectionString: literal, ConnectionStringOK: true}, commands: lifecycle},
		{name: "template in aku.conf", pw: pwLine, conn: `AKU_CONNECTION_STRING = "` + literalInConf + `"`, commands: lifecycle},
		{name: "server refuses the password", serverPW: "other", pw: pwLine, conn: `AKU_CONNECTION_STRING = "` + literalInConf + `"`, commands: startOnly(exitRefused)},
		{name: "server unreachable", port: closedPort, pw: pwLine, env: environment{ConnectionString: literal, ConnectionStringOK: true}, commands: startOnly(exitUnreachable)},
		{name: "template without {host}", pw: pwLine, env: environment{ConnectionString: "DRIVER=x;PWD=" + knownPassword, ConnectionStringOK: true},
			commands: []command{{[]string{"-i", "--output", "json"}, exitConfig}, {[]string{"-p", "start"}, exitConfig}}},
		{name: "invalid aku.conf", pw: pwLine + "\nAKU_PORT_NO = 1", env: environment{ConnectionString: literal, ConnectionStringOK: true},
			commands: []command{{[]string{"-i"}, exitConfig}, {[]string{"-p", "end"}, exitConfig}}},
	}
	for _, s := range setups {
		t.Run(s.name, func(t *testing.T) {
			serverPW := s.serverPW
			if serverPW == "" {
				serverPW = knownPassword
			}
			_, port := pgwiretest.Serve(t, altisim.Options{SysPassword: serverPW, Properties: map[string]int64{"ADMIN_MODE": 1}})
			if s.port != 0 {
				port = s.port
			}
			env := s.env
			env.AltibaseHome = writeConf(t, secretsConf(port, s.pw, s.conn))
			env.PodName = "db-0"
			env.MarkerPath = filepath.Join(t.TempDir(), "aku_start_completed")
			for _, c := range s.commands {
				code, stdout, stderr := runCLI(t, env, c.args...)
				if code != c.wantCode {
					t.Errorf("aku %s: exit code %d, want %d\n%s%s", strings.Join(c.args, " "), code, c.wantCode, stdout, stderr)
				}
				if strings.Contains(stdout+stderr, knownPassword) {
					t.Errorf("aku %s shows the password:\n%s%s", strings.Join(c.args, " "), stdout, stderr)
				}
			}
			// The search finds the password where aku is asked to show it.
			if s.commands[0].args[0] == "-i" && s.commands[0].wantCode == exitOK {
				_, stdout, _ := runCLI(t, env, "-i", "--show-password", "--output", "json")
				if !strings.Contains(stdout, knownPassword) {
					t.Errorf("-i --show-password does not show the password:\n%s", stdout)
				}
			}
		})
	}
}

// TestNoSecretInLogLines runs start, end and clean of a slave pod (TRUNCATE,
// SYNC, FLUSH, STOP, RESET, DROP: the most log lines) on the in-process
// simulator, in both log formats and as dry runs, and searches the output
// for the SYS password.
func TestNoSecretInLogLines(t *testing.T) {
	cfg, _, err := conf.Parse("aku.conf", []byte(`AKU_STS_NAME = altibase-sts
AKU_SVC_NAME = altibase-svc
AKU_SERVER_COUNT = 2
AKU_SYS_PASSWORD = "`+knownPassword+`"
REPLICATIONS = ( REPLICATION_NAME_PREFIX = AKU_REP ( SYS.T1 ) )
`), conf.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	c := altisim.NewCluster("cmd-aku-"+t.Name(), altisim.ClusterOptions{})
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for q := 0; q < 2; q++ {
		srv, err := c.AddServer(podlife.PeerHost(cfg, q), altisim.Options{SysPassword: knownPassword, ReplicationPort: cfg.ReplicationPortNo, Properties: map[string]int64{"ADMIN_MODE": 1}})
		if err != nil {
			t.Fatal(err)
		}
		s, err := srv.Connect(ctx, altisim.ConnectOptions{User: "SYS", Password: knownPassword, SysDBA: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Exec(ctx, "CREATE TABLE SYS.T1 (I1 INTEGER PRIMARY KEY)"); err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	markers := []string{filepath.Join(t.TempDir(), "m"), filepath.Join(t.TempDir(), "m")}
	run := func(q int, action podlife.Action, format string, dryRun bool) {
		t.Helper()
		id, err := podlife.Identify(fmt.Sprintf("altibase-sts-%d", q), cfg)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		console := newConsole(&out, format == "json")
		in := podlife.Input{
			Action: action, Config: cfg, Identity: id, DryRun: dryRun,
			Connector: podlife.DialerConnector{Dialer: &replication.Dialer{
				Driver:   "altisim",
				Template: driver.Template(c.Name(), time.Second),
				Port:     cfg.PortNo, User: cfg.SysUser, Password: cfg.SysPassword,
				Policy: replication.Policy{QueryTimeout: 5 * time.Second},
			}},
			MarkerPath: markers[q],
			Logger:     console.log,
		}
		if err := podRun(ctx, console, in, dryRun, nil); err != nil {
			t.Fatalf("%s on pod %d: %v\n%s", action, q, err, out.String())
		}
		if out.Len() == 0 {
			t.Fatalf("%s on pod %d printed nothing", action, q)
		}
		if strings.Contains(out.String(), knownPassword) {
			t.Errorf("%s on pod %d (%s, dry run %v) shows the password:\n%s", action, q, format, dryRun, out.String())
		}
	}
	for _, format := range []string{"text", "json"} {
		run(0, podlife.ActionStart, format, false)
		run(1, podlife.ActionStart, format, true)
		run(1, podlife.ActionStart, format, false)
		run(1, podlife.ActionEnd, format, true)
		run(1, podlife.ActionEnd, format, false)
		run(1, podlife.ActionStart, format, false)
		run(1, podlife.ActionClean, format, false)
		run(0, podlife.ActionClean, format, false)
		// Back to the servers' first state for the other format.
		for q := 0; q < 2; q++ {
			s, err := c.Server(podlife.PeerHost(cfg, q)).Connect(ctx, altisim.ConnectOptions{User: "SYS", Password: knownPassword, SysDBA: true})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Exec(ctx, "ALTER SYSTEM SET ADMIN_MODE = 1"); err != nil {
				t.Fatal(err)
			}
			s.Close()
		}
	}
}
