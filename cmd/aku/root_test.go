package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/podlife"
	"github.com/aku-project/aku/replication"
)

func runCLI(t *testing.T, env environment, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb, env)
	return code, out.String(), errb.String()
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantHelp   bool   // the help screen on stderr
		wantStderr string // a line stderr must contain
	}{
		{name: "no option", args: nil, wantCode: exitUsage, wantHelp: true, wantStderr: "aku: usage: no option given"},
		{name: "unknown long option", args: []string{"--frobnicate"}, wantCode: exitUsage, wantHelp: true, wantStderr: "unknown flag: --frobnicate"},
		{name: "unknown short option", args: []string{"-x"}, wantCode: exitUsage, wantHelp: true, wantStderr: "unknown shorthand flag: 'x' in -x"},
		{name: "pod without action", args: []string{"-p"}, wantCode: exitUsage, wantHelp: true, wantStderr: "flag needs an argument"},
		{name: "pod stop is the vendor's spelling of end", args: []string{"-p", "stop"}, wantCode: exitUsage, wantStderr: "aku: usage: -p: unknown action \"stop\": did you mean end?\n"},
		{name: "pod action typo", args: []string{"--pod", "strat"}, wantCode: exitUsage, wantStderr: "aku: usage: -p: unknown action \"strat\": did you mean start?\n"},
		{name: "pod unknown action", args: []string{"-p", "restart"}, wantCode: exitUsage, wantStderr: "aku: usage: -p: unknown action \"restart\": want start, end, clean or release\n"},
		{name: "pod empty action", args: []string{"--pod="}, wantCode: exitUsage, wantStderr: "aku: usage: -p: unknown action \"\": want start, end, clean or release\n"},
		{name: "release without peer", args: []string{"-p", "release"}, wantCode: exitUsage, wantStderr: "aku: usage: -p release needs --peer N[,M]"},
		{name: "peer with another action", args: []string{"-p", "end", "--peer", "2"}, wantCode: exitUsage, wantStderr: "aku: usage: --peer goes with -p release, not -p end\n"},
		{name: "peer without pod", args: []string{"--peer", "2"}, wantCode: exitUsage, wantStderr: "aku: usage: --peer goes with -p release\n"},
		{name: "peer not a number", args: []string{"-p", "release", "--peer", "2,x"}, wantCode: exitUsage, wantStderr: `aku: usage: --peer "2,x": "x" is not a pod ordinal (a number such as 3)`},
		{name: "peer negative", args: []string{"-p", "release", "--peer", "-1"}, wantCode: exitUsage, wantStderr: `aku: usage: --peer "-1": "-1" is not a pod ordinal`},
		{name: "peer empty", args: []string{"-p", "release", "--peer="}, wantCode: exitUsage, wantStderr: `aku: usage: --peer "": "" is not a pod ordinal`},
		{name: "release typo", args: []string{"-p", "relaese"}, wantCode: exitUsage, wantStderr: "aku: usage: -p: unknown action \"relaese\": did you mean release?\n"},
		{name: "positional argument", args: []string{"start"}, wantCode: exitUsage, wantStderr: `aku: usage: unexpected argument "start" (actions are given with -p, e.g. aku -p start)`},
		{name: "info and pod together", args: []string{"-i", "-p", "start"}, wantCode: exitUsage, wantStderr: "aku: usage: -i and -p cannot be used together"},
		{name: "bad output format", args: []string{"-i", "--output", "yaml"}, wantCode: exitUsage, wantStderr: `aku: usage: --output "yaml": want text or json`},
		{name: "bad log format", args: []string{"-p", "end", "--log-format", "xml"}, wantCode: exitUsage, wantStderr: `aku: usage: --log-format "xml": want text or json`},
		{name: "bad output format with -p", args: []string{"-p", "end", "--dry-run", "--output", "yaml"}, wantCode: exitUsage, wantStderr: `aku: usage: --output "yaml": want text or json`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, environment{}, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tt.wantCode, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			if got := strings.Contains(stderr, "Altibase Kubernetes Utility Help Screen"); got != tt.wantHelp {
				t.Errorf("help screen shown = %v, want %v:\n%s", got, tt.wantHelp, stderr)
			}
			if !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("stderr does not contain %q:\n%s", tt.wantStderr, stderr)
			}
		})
	}
}

// TestHelp compares the help screen with testdata/help.golden (go test
// ./cmd/aku -run Help -update rewrites it): the original's box, unchanged
// but for the action end, then aku's additions.
func TestHelp(t *testing.T) {
	golden := filepath.Join("testdata", "help.golden")
	var b bytes.Buffer
	printHelp(&b)
	if *updateGolden {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	for _, arg := range []string{"-h", "--help"} {
		t.Run(arg, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, environment{}, arg)
			if code != exitOK || stderr != "" {
				t.Fatalf("exit code %d, stderr %q", code, stderr)
			}
			if stdout != string(want) {
				t.Errorf("help differs from %s:\n%s\nwant:\n%s", golden, stdout, want)
			}
		})
	}
	// The vendor's box is drop-in: the first 17 lines, from rule to rule.
	lines := strings.Split(string(want), "\n")
	rule := strings.Repeat("=", 79)
	if lines[0] != rule || lines[2] != rule || lines[16] != rule ||
		lines[1] != "                    Altibase Kubernetes Utility Help Screen" ||
		lines[15] != "            -p, --pod     : [start | end | clean] specify pod_action" {
		t.Errorf("the original's box is not the first 17 lines:\n%s", strings.Join(lines[:17], "\n"))
	}
}

// TestHelpListsEnvironment checks that the help screen names every
// environment variable aku reads, by recording what lookupEnvironment looks
// up.
func TestHelpListsEnvironment(t *testing.T) {
	var read []string
	lookupEnvironment(func(k string) (string, bool) {
		read = append(read, k)
		return "", false
	}, func() (string, error) { return "altibase-sts-0", nil })
	if len(read) == 0 {
		t.Fatal("lookupEnvironment read no variable")
	}
	var b bytes.Buffer
	printHelp(&b)
	for _, k := range read {
		if !strings.Contains(b.String(), "\n    "+k+" ") {
			t.Errorf("the help screen does not list %s", k)
		}
	}
	if !strings.Contains(b.String(), `the table "Exit codes" of aku's README`) {
		t.Error("the help screen does not point at the exit-code table")
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "\n### Exit codes\n") {
		t.Error(`README.md has no section "Exit codes" for the help screen to point at`)
	}
}

func TestVersion(t *testing.T) {
	code, stdout, stderr := runCLI(t, environment{}, "-v")
	if code != exitOK || stderr != "" {
		t.Fatalf("exit code %d, stderr %q", code, stderr)
	}
	odbc := "no (built without cgo or with -tags noodbc)"
	if odbcCompiled {
		odbc = `yes (unixODBC, driver name "odbc")`
	}
	want := fmt.Sprintf("aku dev\ngo: %s %s/%s\nodbc: %s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, odbc)
	if stdout != want {
		t.Errorf("version output %q, want %q", stdout, want)
	}
}

func TestCompletion(t *testing.T) {
	code, stdout, stderr := runCLI(t, environment{}, "completion", "bash")
	if code != exitOK {
		t.Fatalf("exit code %d, stderr %q", code, stderr)
	}
	if !strings.Contains(stdout, "__start_aku") {
		t.Errorf("bash completion script lacks __start_aku")
	}
	// The -p flag completes to the three actions.
	code, stdout, _ = runCLI(t, environment{}, "__complete", "-p", "")
	if code != exitOK {
		t.Fatalf("__complete exit code %d", code)
	}
	for _, a := range podlife.Actions {
		if !strings.Contains(stdout, string(a)+"\n") {
			t.Errorf("completion of -p lacks %q:\n%s", a, stdout)
		}
	}
}

func TestConfigPathNeedsAltibaseHome(t *testing.T) {
	o := &options{}
	_, err := o.resolveConfigPath()
	if !errors.Is(err, errEnvironment) || exitCode(err) != exitEnvironment {
		t.Fatalf("err = %v (exit %d), want an environment error", err, exitCode(err))
	}
	o.env.AltibaseHome = "/opt/altibase"
	if p, err := o.resolveConfigPath(); err != nil || p != "/opt/altibase/conf/aku.conf" {
		t.Fatalf("path %q, err %v", p, err)
	}
	o.configPath = "x.conf"
	if p, _ := o.resolveConfigPath(); p != "x.conf" {
		t.Fatalf("--config ignored: %q", p)
	}
}

func TestExitCodes(t *testing.T) {
	wrap := func(e error) error { return fmt.Errorf("while doing something: %w", e) }
	tests := []struct {
		err  error
		want int
	}{
		{nil, exitOK},
		{errors.New("unclassified"), exitInternal},
		{wrap(errUsage), exitUsage},
		{wrap(conf.ErrInvalid), exitConfig},
		{wrap(errEnvironment), exitEnvironment},
		{wrap(podlife.ErrIdentity), exitEnvironment},
		{wrap(podlife.ErrLocked), exitLocked},
		{wrap(podlife.ErrDuplicateStart), exitDuplicateStart},
		{wrap(podlife.ErrNeededServerUnreachable), exitUnreachable},
		{wrap(replication.ErrUnreachable), exitUnreachable},
		{wrap(replication.ErrSysdbaBusy), exitSysdbaBusy},
		{fmt.Errorf("%w: %w", replication.ErrSysdbaBusy, replication.ErrUnreachable), exitSysdbaBusy},
		{wrap(replication.ErrStatement), exitStatement},
		{wrap(replication.ErrTimeout), exitTimeout},
		{wrap(podlife.ErrMasterFailure), exitMasterFailure},
		{fmt.Errorf("%w: %w", podlife.ErrMasterFailure, replication.ErrStatement), exitMasterFailure},
		{wrap(podlife.ErrSlaveFailure), exitSlaveFailure},
		{wrap(podlife.ErrUnsafe), exitUnsafe},
		{wrap(context.Canceled), exitInterrupted},
		{wrap(replication.ErrRefused), exitRefused},
		{wrap(podlife.ErrMarkerDir), exitEnvironment},
		{wrap(podlife.ErrUntrustedFile), exitUntrustedFile},
		{wrap(replication.ErrDriver), exitEnvironment},
		{wrap(podlife.ErrRestartPointsKept), exitRestartKept},
		{fmt.Errorf("%w: %w", podlife.ErrRestartPointsKept, replication.ErrSysdbaBusy), exitRestartKept},
		{wrap(podlife.ErrIncomplete), exitIncomplete},
		{fmt.Errorf("%w: %w", replication.ErrStatement, context.Canceled), exitInterrupted},
	}
	seen := map[int]bool{}
	for _, tt := range tests {
		if got := exitCode(tt.err); got != tt.want {
			t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
		seen[tt.want] = true
	}
	for code := exitOK; code <= exitUntrustedFile; code++ {
		if !seen[code] {
			t.Errorf("exit code %d is not covered by this table", code)
		}
	}
}

func TestLookupEnvironment(t *testing.T) {
	vars := map[string]string{"ALTIBASE_HOME": "/h", "AKU_SYS_PASSWORD": "", "AKU_CONNECTION_STRING": "DSN={host}"}
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	env := lookupEnvironment(lookup, func() (string, error) { return "altibase-sts-2", nil })
	if env.PodName != "altibase-sts-2" || env.AltibaseHome != "/h" || !env.SysPasswordSet || env.SysPassword != "" ||
		!env.ConnectionStringOK || env.MarkerPath != defaultMarkerPath {
		t.Errorf("environment from host name: %+v", env)
	}
	vars["POD_NAME"] = "altibase-sts-3"
	vars["AKU_MARKER_PATH"] = "/run/aku/marker"
	env = lookupEnvironment(lookup, func() (string, error) { t.Fatal("host name read although POD_NAME is set"); return "", nil })
	if env.PodName != "altibase-sts-3" || env.MarkerPath != "/run/aku/marker" {
		t.Errorf("POD_NAME not preferred: %+v", env)
	}
}

// TestConfigFilesBounded: aku.conf and the password file must be regular
// files within their size limits; anything else fails at once, for -i and
// -p alike, with exit 3 and a message naming the file and what is wrong.
func TestConfigFilesBounded(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge.conf")
	if err := os.WriteFile(huge, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(huge, conf.MaxConfigBytes+1); err != nil { // sparse
		t.Fatal(err)
	}
	config := filepath.Join(writeConf(t, podTestConf), "conf", "aku.conf")
	tests := []struct {
		name, config, passwordFile, want string
	}{
		{"config /dev/zero", "/dev/zero", "", "/dev/zero: reading the configuration: it is a character device, not a regular file\n"},
		{"config fifo", fifo, "", fifo + ": reading the configuration: it is a named pipe, not a regular file\n"},
		{"config directory", dir, "", dir + ": reading the configuration: it is a directory, not a regular file\n"},
		{"config too large", huge, "", huge + ": reading the configuration: the file is larger than the 16 MiB an aku.conf may be\n"},
		{"password file /dev/zero", config, "/dev/zero", "/dev/zero: reading the password named by AKU_SYS_PASSWORD_FILE: it is a character device, not a regular file\n"},
		{"password file fifo", config, fifo, fifo + ": reading the password named by AKU_SYS_PASSWORD_FILE: it is a named pipe, not a regular file\n"},
	}
	for _, tt := range tests {
		for _, args := range [][]string{{"-i"}, {"-p", "start"}} {
			t.Run(tt.name+" "+strings.Join(args, " "), func(t *testing.T) {
				env := environment{PodName: "altibase-sts-0", SysPasswordFile: tt.passwordFile, MarkerPath: filepath.Join(t.TempDir(), "marker")}
				done := make(chan struct{})
				var code int
				var stdout, stderr string
				go func() {
					defer close(done)
					code, stdout, stderr = runCLI(t, env, append(args, "--config", tt.config)...)
				}()
				select {
				case <-done:
				case <-time.After(10 * time.Second):
					t.Fatal("aku is still reading after 10s")
				}
				if code != exitConfig || stderr != tt.want || stdout != "" {
					t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, stderr %q", code, stdout, stderr, exitConfig, tt.want)
				}
			})
		}
	}
}
