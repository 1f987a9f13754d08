package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildAku compiles this command into a directory of the test.
func buildAku(t *testing.T) string {
	t.Helper()
	// The go on PATH, or that of the GOROOT go test exports.
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "aku")
	if out, err := exec.Command(gobin, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("building aku: %v\n%s", err, out)
	}
	return bin
}

// largeConfig writes an aku.conf of about 14 MB, one group of a million
// items: within the size limit, and slow to parse and check.
func largeConfig(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("AKU_STS_NAME = db\nAKU_SVC_NAME = svc\nAKU_SYS_PASSWORD = pw\nAKU_SERVER_COUNT = 1\nREPLICATIONS = ( REPLICATION_NAME_PREFIX = P (\n")
	for i := 0; b.Len() < 14<<20; i++ {
		fmt.Fprintf(&b, "SYS.T%d,\n", i)
	}
	b.WriteString("SYS.LAST ) )\n")
	path := filepath.Join(t.TempDir(), "aku.conf")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSignalWhileReadingTheConfiguration sends SIGTERM or SIGINT to the
// built aku while it parses a large aku.conf: it must exit at once with
// exit code 14, saying it changed nothing (and, for -p, without starting
// the run: no banner).
func TestSignalWhileReadingTheConfiguration(t *testing.T) {
	if testing.Short() {
		t.Skip("builds aku and parses a 14 MB configuration")
	}
	bin, config := buildAku(t), largeConfig(t)
	const (
		signalAfter = 100 * time.Millisecond // the handler is installed, parsing goes on
		exitWithin  = 2 * time.Second
	)
	tests := []struct {
		sig  syscall.Signal
		args []string
	}{
		{syscall.SIGTERM, []string{"-i"}},
		{syscall.SIGINT, []string{"-i", "--output", "json"}},
		{syscall.SIGTERM, []string{"-p", "start"}},
	}
	for _, tt := range tests {
		t.Run(tt.sig.String()+" "+strings.Join(tt.args, " "), func(t *testing.T) {
			cmd := exec.Command(bin, append(tt.args, "--config", config)...)
			cmd.Env = []string{"POD_NAME=db-0", "AKU_MARKER_PATH=" + filepath.Join(t.TempDir(), "marker"), "AKU_CONNECTION_STRING=DSN={host}"}
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			ended := false
			defer func() {
				if !ended {
					cmd.Process.Kill() // the one process this test started
					<-exited
				}
			}()
			select {
			case err := <-exited:
				ended = true
				t.Fatalf("aku finished in under %s (%v), before the signal: make the configuration larger", signalAfter, err)
			case <-time.After(signalAfter):
			}
			sent := time.Now()
			if err := cmd.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			var err error
			select {
			case err = <-exited:
				ended = true
			case <-time.After(exitWithin):
				t.Fatalf("aku still running %s after %v", exitWithin, tt.sig)
			}
			took := time.Since(sent)
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
				t.Fatalf("aku ended with %v, want exit code %d\nstderr: %s", err, exitInterrupted, stderr.String())
			}
			want := fmt.Sprintf("aku: %s signal received: aku stopped before it changed anything\n", tt.sig)
			if stderr.String() != want {
				t.Errorf("stderr = %q, want %q", stderr.String(), want)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", stdout.String())
			}
			t.Logf("exit %d %s after %v", exitInterrupted, took.Round(time.Millisecond), tt.sig)
		})
	}
}

// TestInterruptible: before commit a signal ends the run at once; after
// it, the run is cancelled and interruptible waits for it to finish its
// clean-up. The signals go to this test process, which interruptible
// handles while it runs.
func TestInterruptible(t *testing.T) {
	const cleanup = 200 * time.Millisecond
	tests := []struct {
		name   string
		commit bool
	}{{"before commit", false}, {"after commit", true}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			release := make(chan struct{})
			defer close(release)
			start := time.Now()
			err := interruptible(func(ctx context.Context, commit func() bool) error {
				if tt.commit && !commit() {
					t.Error("commit refused without a signal")
				}
				if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
					t.Error(err)
				}
				if !tt.commit {
					<-release // a slow step that ignores ctx, such as parsing
					return nil
				}
				<-ctx.Done()
				time.Sleep(cleanup) // restoring what the run changed
				return fmt.Errorf("run: %w", ctx.Err())
			})
			took := time.Since(start)
			if exitCode(err) != exitInterrupted {
				t.Fatalf("err = %v (exit %d), want exit %d", err, exitCode(err), exitInterrupted)
			}
			if tt.commit && took < cleanup {
				t.Errorf("returned after %s, before the run's clean-up", took)
			}
			if !tt.commit && (took >= cleanup || !strings.Contains(err.Error(), "aku stopped before it changed anything")) {
				t.Errorf("returned %v after %s", err, took)
			}
		})
	}
}
