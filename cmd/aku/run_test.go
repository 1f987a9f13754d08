package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aku-project/aku/altisim/driver"
	"github.com/aku-project/aku/e2e/manifest"
	"github.com/aku-project/aku/podlife/manager"
)

// TestStartRetryTable keeps the example entry point's start_aku in step
// with startRetry, the one table of what follows a start's exit code: the
// codes it treats as done and those it retries are startRetry's.
func TestStartRetryTable(t *testing.T) {
	set, err := manifest.Load(filepath.Join("..", "..", "examples", "kubernetes"))
	if err != nil {
		t.Fatal(err)
	}
	script, ok := set.ConfigMap.Data["entrypoint.sh"]
	if !ok {
		t.Fatal("no entrypoint.sh in the example ConfigMap")
	}
	// The arms of `case "$rc" in`: "0 | 6) return 0 ;;" and "5 | 7 ...) ;;".
	arm := regexp.MustCompile(`(?m)^\s*((?:\d+\s*\|\s*)*\d+)\)\s*(return 0 ;;|;;)`)
	got := map[manager.Retry][]int{}
	for _, m := range arm.FindAllStringSubmatch(script, -1) {
		r := manager.RetryBackoff
		if strings.HasPrefix(m[2], "return") {
			r = manager.RetryDone
		}
		for _, f := range strings.Split(m[1], "|") {
			n, _ := strconv.Atoi(strings.TrimSpace(f))
			got[r] = append(got[r], n)
		}
	}
	want := map[manager.Retry][]int{}
	for code, r := range startRetry {
		want[r] = append(want[r], code)
	}
	for _, r := range []manager.Retry{manager.RetryDone, manager.RetryBackoff} {
		slices.Sort(got[r])
		slices.Sort(want[r])
		if !slices.Equal(got[r], want[r]) {
			t.Errorf("entrypoint.sh's start_aku: %v for retry class %d; startRetry (exitcode.go) says %v", got[r], r, want[r])
		}
	}
	for code := range startRetry {
		if _, ok := exitNames[code]; !ok {
			t.Errorf("exit code %d has no name", code)
		}
	}
}

// TestRunUsage: a command line aku run cannot use exits 2 with what is
// wrong, before anything starts.
func TestRunUsage(t *testing.T) {
	home := writeConf(t, podTestConf)
	for _, tt := range []struct {
		args []string
		env  func(*environment)
		want string
	}{
		{[]string{"run", "server"}, nil, `unexpected argument "server" (the server command follows --)`},
		{[]string{"run", "--grace-period", "0s"}, nil, "--grace-period 0s: want a duration above 0"},
		{[]string{"run", "--grace-period", "10s", "--stop-reserve", "20s"}, nil, "--stop-reserve 20s must be shorter than --grace-period 10s"},
		{[]string{"run"}, func(e *environment) { e.GracePeriod, e.GracePeriodSet = "2 minutes", true }, `AKU_GRACE_PERIOD "2 minutes": want a duration`},
		{[]string{"run", "--log-format", "xml"}, nil, `--log-format "xml": want text or json`},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			env := environment{AltibaseHome: home, PodName: "altibase-sts-0", MarkerPath: filepath.Join(t.TempDir(), "marker")}
			if tt.env != nil {
				tt.env(&env)
			}
			code, stdout, stderr := runCLI(t, env, tt.args...)
			if code != exitUsage || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q, stdout %q; want %d and %q", code, stderr, stdout, exitUsage, tt.want)
			}
		})
	}
}

// TestRunSignal runs aku run in this process next to pod 0's server and
// sends the process a real SIGTERM once the start completed: aku run runs
// the end (its banners on stdout, as JSON records with --log-format json)
// and exits 0.
func TestRunSignal(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			m := newCLIMesh(t)
			marker := filepath.Join(m.tmp[0], "aku_start_completed")
			var out, errb bytes.Buffer
			o := &options{stdout: &out, stderr: &errb, sqlDriver: "altisim", resolver: m, env: environment{
				AltibaseHome: m.home, PodName: "altibase-sts-0", MarkerPath: marker,
				ConnectionString:   driver.Template(m.c.Name(), 300*time.Millisecond),
				ConnectionStringOK: true,
			}}
			done := make(chan int, 1)
			go func() {
				done <- runWith(o, []string{"run", "--listen", "127.0.0.1:0", "--check-interval", "50ms", "--log-format", format})
			}()
			deadline := time.Now().Add(20 * time.Second)
			for {
				if _, err := os.Stat(marker); err == nil {
					break
				}
				select {
				case code := <-done:
					t.Fatalf("aku run exited with %d before its start completed", code)
				default:
				}
				if time.Now().After(deadline) {
					t.Fatal("no marker after 20 s")
				}
				time.Sleep(20 * time.Millisecond)
			}
			// aku run still runs, so its handler takes the signal (without
			// one, SIGTERM would end the test binary).
			select {
			case code := <-done:
				t.Fatalf("aku run exited with %d on its own\n%s%s", code, &out, &errb)
			default:
			}
			if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			var code int
			select {
			case code = <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("aku run still runs 20 s after SIGTERM")
			}
			if code != exitOK {
				t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, &out, &errb)
			}
			if _, err := os.Stat(marker); !os.IsNotExist(err) {
				t.Errorf("the marker after the end: %v", err)
			}
			for _, want := range []string{"AKU started with START option.", "AKU started with END option.", "aku run: done"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("stdout does not say %q:\n%s", want, &out)
				}
			}
			if format == "json" {
				for i, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
					var rec map[string]any
					if err := json.Unmarshal([]byte(line), &rec); err != nil {
						t.Errorf("stdout line %d is not a JSON object: %v\n%s", i+1, err, line)
					}
				}
			}
		})
	}
}
