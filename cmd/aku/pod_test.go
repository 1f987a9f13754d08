package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aku-project/aku/altisim"
	"github.com/aku-project/aku/altisim/driver"
	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/podlife"
	"github.com/aku-project/aku/replication"
)

const podTestConf = `AKU_STS_NAME = altibase-sts
AKU_SVC_NAME = altibase-svc
AKU_SERVER_COUNT = 2
AKU_SYS_PASSWORD = manager
REPLICATIONS = (
    REPLICATION_NAME_PREFIX = AKU_REP
    ( SYS.T1 )
)
`

// writeConf writes aku.conf under a new ALTIBASE_HOME and returns the home.
func writeConf(t *testing.T, text string) string {
	t.Helper()
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, "conf"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "conf", "aku.conf"), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return home
}

func TestPodEnvironmentErrors(t *testing.T) {
	home := writeConf(t, podTestConf)
	tests := []struct {
		name     string
		env      environment
		wantCode int
		wantErr  string
	}{
		{"no ALTIBASE_HOME", environment{PodName: "altibase-sts-0"}, exitEnvironment, "ALTIBASE_HOME is not set"},
		{"pod name without ordinal", environment{AltibaseHome: home, PodName: "altibase"}, exitEnvironment, `pod name "altibase" has no ordinal`},
		{"ordinal past the server count", environment{AltibaseHome: home, PodName: "altibase-sts-2"}, exitEnvironment, "AKU_SERVER_COUNT is 2"},
		{"other StatefulSet", environment{AltibaseHome: home, PodName: "other-0"}, exitEnvironment, `does not belong to StatefulSet "altibase-sts"`},
		{"bad configuration", environment{AltibaseHome: writeConf(t, "AKU_STS_NAME = x\n"), PodName: "x-0"}, exitConfig, "should be specified by configuration."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.env.MarkerPath = filepath.Join(t.TempDir(), "marker")
			code, stdout, stderr := runCLI(t, tt.env, "-p", "start")
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tt.wantCode, stderr)
			}
			if !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("stderr %q does not contain %q", stderr, tt.wantErr)
			}
			if stdout != "" {
				t.Errorf("stdout = %q: nothing may run before the configuration and identity are valid", stdout)
			}
		})
	}
}

func TestConnectionTemplate(t *testing.T) {
	tests := []struct {
		name string
		env  environment
		cfg  string
		want string
	}{
		{"default", environment{AltibaseHome: "/opt/altibase"}, "", replication.DefaultTemplate("/opt/altibase")},
		{"aku.conf", environment{AltibaseHome: "/h"}, "DRIVER=x;SERVER={host}", "DRIVER=x;SERVER={host}"},
		{"environment wins", environment{AltibaseHome: "/h", ConnectionString: "DRIVER=env;SERVER={host}", ConnectionStringOK: true}, "DRIVER=x;SERVER={host}", "DRIVER=env;SERVER={host}"},
		{"empty environment value falls back", environment{AltibaseHome: "/h", ConnectionStringOK: true}, "DRIVER=x;SERVER={host}", "DRIVER=x;SERVER={host}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := connectionTemplate(tt.env, &conf.Config{ConnectionString: tt.cfg}); got != tt.want {
				t.Errorf("template = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestPodBannersAndLogLines runs start twice on a one-server cluster of the
// in-process simulator: the original's banners around log lines in its
// layout, then the duplicate start's failure and exit code.
func TestPodBannersAndLogLines(t *testing.T) {
	cfg, _, err := conf.Parse("aku.conf", []byte(strings.Replace(podTestConf, "AKU_SERVER_COUNT = 2", "AKU_SERVER_COUNT = 1", 1)), conf.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	c := altisim.NewCluster("cmd-aku-"+t.Name(), altisim.ClusterOptions{})
	t.Cleanup(func() { c.Close() })
	if _, err := c.AddServer("altibase-sts-0.altibase-svc", altisim.Options{Properties: map[string]int64{"ADMIN_MODE": 1}}); err != nil {
		t.Fatal(err)
	}
	id, err := podlife.Identify("altibase-sts-0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cons := newConsole(&out, false)
	in := podlife.Input{
		Action:   podlife.ActionStart,
		Config:   cfg,
		Identity: id,
		Connector: podlife.DialerConnector{Dialer: &replication.Dialer{
			Driver:   "altisim",
			Template: driver.Template(c.Name(), time.Second),
			Port:     cfg.PortNo, User: cfg.SysUser, Password: cfg.SysPassword,
			Policy: replication.Policy{QueryTimeout: 5 * time.Second},
		}},
		MarkerPath: filepath.Join(t.TempDir(), "aku_start_completed"),
		Logger:     cons.log,
	}
	ctx := context.Background()
	if err := podRun(ctx, cons, in, false, nil); err != nil {
		t.Fatalf("start: %v\n%s", err, out.String())
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if lines[0] != "AKU started with START option." || lines[len(lines)-1] != "AKU run successfully." {
		t.Errorf("banners missing:\n%s", out.String())
	}
	logLine := regexp.MustCompile(`^\[AKU\]\[\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d{6}\]\[\d+\] \[(INFO|WARNING|ERROR)\]\[[A-Za-z0-9_.]+:\d+\]\[[^\]]+\]\[[^\]]+\] \S.*$`)
	for _, l := range lines[1 : len(lines)-1] {
		if !logLine.MatchString(l) {
			t.Errorf("not in the original's layout: %q", l)
		}
	}
	if !strings.Contains(out.String(), "[altibase-sts-0][-] Start as MASTER Pod.") {
		t.Errorf("no start line:\n%s", out.String())
	}

	out.Reset()
	err = podRun(ctx, cons, in, false, nil)
	if exitCode(err) != exitDuplicateStart {
		t.Errorf("second start: exit code %d (%v), want %d", exitCode(err), err, exitDuplicateStart)
	}
	if out.String() != "AKU started with START option.\nAKU failed to run.\n" {
		t.Errorf("second start printed %q", out.String())
	}

	// A dry run of end prints the plan and no banner, and changes nothing.
	out.Reset()
	in.Action = podlife.ActionEnd
	in.DryRun = true
	if err := podRun(ctx, cons, in, true, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "aku -p end on altibase-sts-0 (ordinal 0): nothing to do\n") || !strings.Contains(out.String(), "1. [this pod] remove marker\n") {
		t.Errorf("dry run printed:\n%s", out.String())
	}
	if _, err := os.Stat(in.MarkerPath); err != nil {
		t.Errorf("the dry run of end removed the marker: %v", err)
	}
}

// With --config, aku.conf is found without ALTIBASE_HOME; but the default
// connection string names the Altibase ODBC driver under $ALTIBASE_HOME/lib,
// so -p without AKU_CONNECTION_STRING still needs it (docs/behaviour.md,
// "Files and environment"), and says so
// instead of loading a driver at a relative path.
func TestPodDefaultDriverNeedsAltibaseHome(t *testing.T) {
	home := writeConf(t, podTestConf)
	env := environment{PodName: "altibase-sts-0", MarkerPath: filepath.Join(t.TempDir(), "marker")}
	code, stdout, stderr := runCLI(t, env, "--config", filepath.Join(home, "conf", "aku.conf"), "-p", "start")
	if code != exitEnvironment {
		t.Errorf("exit code = %d, want %d (stderr %q)", code, exitEnvironment, stderr)
	}
	if want := "aku: environment: ALTIBASE_HOME is not set: the default connection string uses the Altibase ODBC driver in $ALTIBASE_HOME/lib (set ALTIBASE_HOME, or AKU_CONNECTION_STRING)\n"; stderr != want {
		t.Errorf("stderr = %q, want %q", stderr, want)
	}
	if stdout != "" {
		t.Errorf("stdout = %q", stdout)
	}
}

// TestPodFilesRefused: what aku finds at the paths of its own files, or a
// missing marker directory, ends -p with the documented exit code and a
// message that says what to fix and shows no file's contents. No server
// is needed: the files are checked before aku connects.
func TestPodFilesRefused(t *testing.T) {
	if !odbcCompiled {
		t.Skip("this test binary has no ODBC (cgo off or -tags noodbc)")
	}
	home := writeConf(t, podTestConf)
	const secret = "TOPSECRET-contents"
	tests := []struct {
		name     string
		action   string
		plant    func(t *testing.T, marker string) // marker: the marker's path
		wantCode int
		wantErr  string // %M is the marker's path
	}{
		{"missing marker directory", "start", func(t *testing.T, m string) { os.RemoveAll(filepath.Dir(m)) },
			exitEnvironment, "aku: marker directory unusable: opening the run lock %M.lock: the directory %D does not exist: create it"},
		{"directory at the marker path", "start", func(t *testing.T, m string) { mkdir(t, m) },
			exitUntrustedFile, "aku: untrusted file: %M is a directory: it is aku's completion marker: rm -r -- '%M' and run aku again"},
		{"symbolic link at the saved REPLICATION_DDL_ENABLE", "end", func(t *testing.T, m string) {
			target := filepath.Join(t.TempDir(), "secret")
			write(t, target, "1\n"+secret, 0o600)
			link(t, target, m+".ddl_enable")
		}, exitUntrustedFile, "aku: untrusted file: %M.ddl_enable is a symbolic link: it is where aku saves the REPLICATION_DDL_ENABLE value"},
		{"planted value", "end", func(t *testing.T, m string) { write(t, m+".ddl_enable", "1\n", 0o644) },
			exitUntrustedFile, "aku: untrusted file: %M.ddl_enable has mode 0644, not the 0600 aku gives it"},
		{"dangling symbolic link at the lock", "clean", func(t *testing.T, m string) { link(t, m+".created", m+".lock") },
			exitUntrustedFile, "aku: untrusted file: %M.lock is a symbolic link: it is aku's run lock: rm -f -- '%M.lock' and run aku again"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			marker := filepath.Join(t.TempDir(), "run", "aku_start_completed")
			mkdir(t, filepath.Dir(marker))
			tt.plant(t, marker)
			env := environment{AltibaseHome: home, PodName: "altibase-sts-1", MarkerPath: marker, ConnectionString: "DSN={host}", ConnectionStringOK: true}
			code, stdout, stderr := runCLI(t, env, "-p", tt.action)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tt.wantCode, stderr)
			}
			want := strings.NewReplacer("%M", marker, "%D", filepath.Dir(marker)).Replace(tt.wantErr)
			if !strings.HasPrefix(stderr, want) {
				t.Errorf("stderr = %q, want it to start with %q", stderr, want)
			}
			if strings.Contains(stderr+stdout, secret) {
				t.Errorf("a file's contents are shown:\n%s%s", stdout, stderr)
			}
			if want := "AKU started with " + strings.ToUpper(tt.action) + " option.\nAKU failed to run.\n"; stdout != want {
				t.Errorf("stdout = %q, want %q", stdout, want)
			}
			if _, err := os.Lstat(marker + ".created"); err == nil {
				t.Error("the lock's dangling link made aku create its target")
			}
		})
	}
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func link(t *testing.T, target, path string) {
	t.Helper()
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
}

// TestPodRelease runs aku -p release through the command line: a peer
// that answers is refused (exit 13) and nothing changes; an ordinal past
// AKU_SERVER_COUNT is a command-line error (exit 2); a gone peer's pair
// is stopped and reset on this pod, between the original's banners, with
// a WARNING line in the original's layout naming the pod and the pair.
func TestPodRelease(t *testing.T) {
	cc := newCLICluster(t, 2)
	for q := 0; q < 2; q++ {
		if code, stdout, stderr := cc.aku(t, q, "-p", "start"); code != exitOK {
			t.Fatalf("start of pod %d: exit %d\n%s%s", q, code, stdout, stderr)
		}
	}
	code, stdout, stderr := cc.aku(t, 0, "-p", "release", "--peer", "1")
	if code != exitUnsafe || !strings.Contains(stderr, "release refused, nothing was changed: altibase-sts-1.altibase-svc is up") {
		t.Errorf("release of a running peer: exit %d, want %d\n%s%s", code, exitUnsafe, stdout, stderr)
	}
	if code, _, stderr := cc.aku(t, 0, "-p", "release", "--peer", "1,3"); code != exitUsage || !strings.Contains(stderr, "peer 3 is not an ordinal below AKU_SERVER_COUNT 3") {
		t.Errorf("release of ordinal 3: exit %d, want %d\n%s", code, exitUsage, stderr)
	}

	if err := cc.c.RemoveServer(cc.host(1)); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = cc.aku(t, 0, "-p", "release", "--peer", "1")
	if code != exitOK {
		t.Fatalf("release of a gone peer: exit %d\n%s%s", code, stdout, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if lines[0] != "AKU started with RELEASE option." || lines[len(lines)-1] != "AKU run successfully." {
		t.Errorf("banners missing:\n%s", stdout)
	}
	warning := regexp.MustCompile(`(?m)^\[AKU\]\[[^\]]+\]\[\d+\] \[WARNING\]\[[A-Za-z0-9_.]+:\d+\]\[altibase-sts-0\]\[AKU_REP_01\] Replication released: altibase-sts-1 is gone`)
	if n := len(warning.FindAllString(stdout, -1)); n != 1 {
		t.Errorf("%d WARNING lines for the released pair, want 1:\n%s", n, stdout)
	}
	for _, want := range []string{"ALTER REPLICATION AKU_REP_01 STOP", "ALTER REPLICATION AKU_REP_01 RESET"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("no line for %q:\n%s", want, stdout)
		}
	}
	if _, err := os.Stat(cc.markers[0]); err != nil {
		t.Errorf("the release touched the marker: %v", err)
	}
}
