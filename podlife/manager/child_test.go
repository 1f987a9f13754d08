package manager

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aku-project/aku/podlife"
	"github.com/aku-project/aku/replication"
)

// exitCode is the code of Run's error; 0 for nil.
func exitCode(t testing.TB, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	var e *ExitError
	if !errors.As(err, &e) {
		t.Fatalf("Run returned %T %v, want an *ExitError", err, err)
	}
	return e.Code
}

// sh is a server command: a shell running script.
func sh(script string) []string { return []string{"/bin/sh", "-c", script} }

// TestServerChild runs a real child process as the server command. At
// SIGTERM the end runs first, then the child gets SIGTERM and aku run
// exits 0; a child that ignores SIGTERM is killed at the end of the grace
// period (22); a child that dies on its own while aku run serves ends aku
// run without an end (21); one that fails before the server answers, too.
func TestServerChild(t *testing.T) {
	t.Run("SIGTERM: end, then the server stops", func(t *testing.T) {
		ms := newMesh(t, 2)
		ms.boot(t, 0)
		cfg := ms.config(t, 0)
		out := &syncBuffer{}
		cfg.Stdout = out
		cfg.Command = sh(`trap 'echo server: got SIGTERM; exit 0' TERM; echo server: up; while :; do sleep 0.05; done`)
		r := run(t, cfg)
		r.waitStatus(t, "/readyz", http.StatusOK)
		if err := r.stop(t); err != nil {
			t.Fatalf("Run: %v\n%s", err, r.log)
		}
		log := r.log.String()
		end, stopped := strings.Index(log, "aku -p end"), strings.Index(log, "the server stopped")
		if end < 0 || stopped < end {
			t.Errorf("want the end, then the server stopped:\n%s", log)
		}
		if !strings.Contains(out.String(), "server: up") || !strings.Contains(out.String(), "server: got SIGTERM") {
			t.Errorf("the server command's output is not passed through: %q", out)
		}
	})
	t.Run("a server that ignores SIGTERM is killed", func(t *testing.T) {
		ms := newMesh(t, 2)
		ms.boot(t, 0)
		cfg := ms.config(t, 0)
		cfg.GracePeriod, cfg.StopReserve = 3*time.Second, time.Second
		cfg.Command = sh(`trap '' TERM; while :; do sleep 0.05; done`)
		r := run(t, cfg)
		r.waitStatus(t, "/readyz", http.StatusOK)
		begin := time.Now()
		err := r.stop(t)
		if code := exitCode(t, err); code != testCodes.ServerNotStopped {
			t.Fatalf("exit %d (%v), want %d", code, err, testCodes.ServerNotStopped)
		}
		if took := time.Since(begin); took < cfg.GracePeriod-killMargin-500*time.Millisecond || took > cfg.GracePeriod {
			t.Errorf("killed after %v, want at the grace period %v less %v", took, cfg.GracePeriod, killMargin)
		}
	})
	t.Run("the server dies while aku run serves", func(t *testing.T) {
		ms := newMesh(t, 2)
		ms.boot(t, 0)
		cfg := ms.config(t, 0)
		cfg.Command = sh(`sleep 60`)
		r := run(t, cfg)
		r.waitStatus(t, "/readyz", http.StatusOK)
		if err := r.m.server.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		var err error
		select {
		case err = <-r.done:
			r.done <- err
		case <-time.After(10 * time.Second):
			t.Fatalf("aku run still runs 10 s after its server died:\n%s", r.log)
		}
		if code := exitCode(t, err); code != testCodes.ServerFailed || !strings.Contains(err.Error(), "killed by signal killed") {
			t.Errorf("exit %d (%v), want %d and the signal", code, err, testCodes.ServerFailed)
		}
		if v, _ := r.m.live(nil, r.m.check.snapshot()); v.OK || !strings.Contains(v.Line, "not alive: the server command") {
			t.Errorf("/livez after the server died: %+v", v)
		}
		if _, err := os.Stat(ms.markerPath(0)); err != nil {
			t.Errorf("no end may run when the server died, but the marker is gone: %v", err)
		}
	})
	t.Run("the server command fails", func(t *testing.T) {
		ms := newMesh(t, 2)
		cfg := ms.config(t, 0)
		cfg.Command = sh(`echo cannot start >&2; exit 3`)
		r := run(t, cfg)
		err := <-r.done
		r.done <- err
		if code := exitCode(t, err); code != testCodes.ServerFailed || !strings.Contains(err.Error(), "exited with 3 before the server answered") {
			t.Errorf("exit %d (%v), want %d", code, err, testCodes.ServerFailed)
		}
	})
	t.Run("a daemonizing start and a stop command", func(t *testing.T) {
		ms := newMesh(t, 2)
		ms.boot(t, 0)
		cfg := ms.config(t, 0)
		out := &syncBuffer{}
		cfg.Stdout = out
		cfg.Command = sh(`echo server: daemonized`)
		cfg.StopCommand = sh(`echo server: stop command ran`)
		r := run(t, cfg)
		r.waitStatus(t, "/readyz", http.StatusOK)
		if err := r.stop(t); err != nil {
			t.Fatalf("Run: %v\n%s", err, r.log)
		}
		if !strings.Contains(r.log.String(), "a daemonizing start") || !strings.Contains(out.String(), "server: stop command ran") {
			t.Errorf("log:\n%s\noutput:\n%s", r.log, out)
		}
	})
	t.Run("SIGTERM before the server answers", func(t *testing.T) {
		ms := newMesh(t, 2)
		cfg := ms.config(t, 0)
		cfg.Command = sh(`sleep 60`)
		r := run(t, cfg)
		waitFor(t, "the wait for the server", func() bool { return strings.Contains(r.log.String(), "waiting for the server") })
		if code := exitCode(t, r.stop(t)); code != testCodes.Interrupted {
			t.Errorf("exit %d, want %d", code, testCodes.Interrupted)
		}
		if strings.Contains(r.log.String(), "SIGTERM: aku -p end") {
			t.Errorf("an end ran before the server answered:\n%s", r.log)
		}
	})
}

// TestStartRetries fails the first two starts with an error another try
// can cure: aku run tries again, logging each failure with the next pause,
// and counts the retries. A failure that needs an operator is not tried
// again: aku run serves, not started, until an operator's start completes.
func TestStartRetries(t *testing.T) {
	t.Run("backoff", func(t *testing.T) {
		ms := newMesh(t, 2)
		ms.boot(t, 0)
		cfg := ms.config(t, 0)
		var calls atomic.Int64
		real := cfg.Lifecycle
		cfg.Lifecycle = func(ctx context.Context, a podlife.Action, d time.Time, rel []int) error {
			if a == podlife.ActionStart && calls.Add(1) <= 2 {
				return replication.ErrUnreachable
			}
			return real(ctx, a, d, rel)
		}
		r := run(t, cfg)
		r.waitStatus(t, "/startupz", http.StatusOK)
		fams := scrape(t, r)
		if got := value(fams, "aku_start_retries_total"); got != 2 {
			t.Errorf("aku_start_retries_total = %v, want 2", got)
		}
		if got := value(fams, "aku_lifecycle_runs_total", "action", "start", "outcome", "failed"); got != 2 {
			t.Errorf("aku_lifecycle_runs_total{start,failed} = %v, want 2", got)
		}
		for _, want := range []string{"aku -p start exited with 99 (failed), which another try can cure: try 2 in 20ms", "try 3 in 40ms"} {
			if !strings.Contains(r.log.String(), want) {
				t.Errorf("the log does not say %q:\n%s", want, r.log)
			}
		}
	})
	t.Run("operator", func(t *testing.T) {
		ms := newMesh(t, 2)
		ms.boot(t, 0)
		cfg := ms.config(t, 0)
		operator := errors.New("master failure")
		cfg.Classify = func(err error) Outcome {
			if errors.Is(err, operator) {
				return Outcome{Code: 11, Name: "master-failure", Retry: RetryOperator}
			}
			return classify(err)
		}
		var calls atomic.Int64
		real := cfg.Lifecycle
		cfg.Lifecycle = func(ctx context.Context, a podlife.Action, d time.Time, rel []int) error {
			if a == podlife.ActionStart {
				calls.Add(1)
				return operator
			}
			return real(ctx, a, d, rel)
		}
		var synced atomic.Int64 // publications of synced=true
		cfg.Synced = func(_ context.Context, ok bool) error {
			if ok {
				synced.Add(1)
			}
			return nil
		}
		r := run(t, cfg)
		waitFor(t, "the failed start's log line", func() bool { return strings.Contains(r.log.String(), "which another try cannot cure") })
		r.waitStatus(t, "/startupz", http.StatusServiceUnavailable)
		time.Sleep(100 * time.Millisecond)
		if n := calls.Load(); n != 1 {
			t.Errorf("%d starts, want 1: a failure that needs an operator is not retried", n)
		}
		// The operator's aku -p start, by kubectl exec.
		if err := real(context.Background(), podlife.ActionStart, time.Time{}, nil); err != nil {
			t.Fatal(err)
		}
		r.waitStatus(t, "/startupz", http.StatusOK)
		r.waitStatus(t, "/readyz", http.StatusOK)
		// aku run labels the pod from then on, as after its own start.
		waitFor(t, "synced=true published after the operator's start", func() bool { return synced.Load() == 1 })
	})
}
