package health_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/podlife/health"
)

// TestStartupAndLive covers every state of the marker and the progress
// file for the two probes that need no server.
func TestStartupAndLive(t *testing.T) {
	now := time.Date(2024, 3, 18, 14, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		marker      bool
		progressAge time.Duration // < 0: no progress file
		startup     string        // the line's start; a pass when it starts with "started" or "starting"
		live        string
	}{
		{"start completed", true, -1, "started: aku -p start completed", "alive: no aku -p start is running"},
		{"no start, no marker", false, -1, "not started: no marker", "alive: no aku -p start is running"},
		{"start progressing", false, 2 * time.Second, "starting: aku -p start runs: SYNC of AKU_REP_01 on altibase-sts-0.altibase-svc (progress 2s ago)", "alive: aku -p start runs: SYNC"},
		{"start progressing at the bound", false, health.ProgressFresh, "starting: aku -p start runs", "alive: aku -p start runs"},
		{"start stalled or killed", false, health.ProgressFresh + time.Second, "stalled: aku -p start has shown no progress for 31s (SYNC of AKU_REP_01", "stalled: aku -p start has shown no progress for 31s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			marker := filepath.Join(t.TempDir(), "aku_start_completed")
			if tt.marker {
				if err := os.WriteFile(marker, []byte("done\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if tt.progressAge >= 0 {
				p := health.ProgressPath(marker)
				if err := os.WriteFile(p, []byte("SYNC of AKU_REP_01 on altibase-sts-0.altibase-svc\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Chtimes(p, now.Add(-tt.progressAge), now.Add(-tt.progressAge)); err != nil {
					t.Fatal(err)
				}
			}
			self := health.Observe(context.Background(), health.Input{Config: &conf.Config{}, MarkerPath: marker, Now: func() time.Time { return now }}).Self
			for _, c := range []struct {
				probe string
				v     health.Verdict
				want  string
			}{
				{"startup", health.Startup(marker, now), tt.startup}, {"live", health.Live(marker, now), tt.live},
				// aku run's /startupz and /livez, from an observation.
				{"startup of an observation", health.StartupOf(self, marker, now), tt.startup}, {"live of an observation", health.LiveOf(self.Start, now), tt.live},
			} {
				ok := strings.HasPrefix(c.want, "started") || strings.HasPrefix(c.want, "starting") || strings.HasPrefix(c.want, "alive")
				if c.v.OK != ok || !strings.HasPrefix(c.v.Line, c.want) || strings.Contains(c.v.Line, "\n") {
					t.Errorf("%s: %v %q; want %v %q...", c.probe, c.v.OK, c.v.Line, ok, c.want)
				}
			}
		})
	}
}

// TestWatcherSync runs a new slave's start with its Watcher while the
// master's SYNC copies rows: one that progresses slowly (about 4.5 s) keeps
// the progress file fresh for three times the stall bound (the startup and
// liveness probes pass all along), and one that copies nothing lets it go
// stale after the bound, so the liveness probe fails.
func TestWatcherSync(t *testing.T) {
	const stall = time.Second
	tests := []struct {
		name     string
		rowDelay time.Duration
		stuck    bool
	}{
		{"progressing SYNC is never stale", 15 * time.Millisecond, false},
		{"stuck SYNC goes stale", time.Minute, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMesh(t, 3)
			m.startAll(t, 2)
			m.slowSync(t, 300, tt.rowDelay)
			marker := m.markerPath(2)
			path := health.ProgressPath(marker)
			w := &health.Watcher{Path: path, Dialer: m.dialer(false), Stall: stall, Interval: 20 * time.Millisecond}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- m.start(t, ctx, 2, w) }()
			waitFor(t, "the SYNC in the progress file", func() bool {
				b, _ := os.ReadFile(path)
				return strings.HasPrefix(string(b), "SYNC of AKU_REP_02 on altibase-sts-0.altibase-svc")
			})
			began := time.Now()
			var oldest time.Duration
			for time.Since(began) < 3*stall {
				fi, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				oldest = max(oldest, time.Since(fi.ModTime()))
				time.Sleep(10 * time.Millisecond)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			// The probes' clock moved on by ProgressFresh: a file touched
			// since would still count as fresh only if touched after that.
			late := fi.ModTime().Add(health.ProgressFresh + time.Second)
			if !tt.stuck {
				if oldest >= stall {
					t.Fatalf("a progressing SYNC let the progress file get %v old, as old as the stall bound %v", oldest, stall)
				}
				for _, v := range []health.Verdict{health.Startup(marker, time.Now()), health.Live(marker, time.Now())} {
					if !v.OK || !strings.Contains(v.Line, "rows sent") {
						t.Fatalf("during a progressing SYNC: %+v", v)
					}
				}
				if err := <-done; err != nil {
					t.Fatal(err)
				}
				if _, err := os.Stat(path); !os.IsNotExist(err) || !health.Startup(marker, time.Now()).OK {
					t.Fatalf("after the start: progress file %v, startup %+v", err, health.Startup(marker, time.Now()))
				}
				return
			}
			if age := time.Since(fi.ModTime()); age < stall {
				t.Fatalf("a stuck SYNC kept the progress file fresh (%v old after %v)", age, 3*stall)
			}
			if v := health.Live(marker, late); v.OK || !strings.HasPrefix(v.Line, "stalled: ") || !strings.Contains(v.Line, "SYNC of AKU_REP_02") {
				t.Fatalf("liveness of a stuck SYNC: %+v", v)
			}
			cancel()
			<-done
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Fatalf("the ended start left its progress file: %v", err)
			}
		})
	}
}

// TestReady covers aku probe ready: every pair toward a peer that is
// reachable and open must be started here with its sender running, and
// with --max-gap within the bound; pairs toward pods that are gone or not
// open do not count.
func TestReady(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(t *testing.T, m *mesh)
		pod    int
		maxGap int64
		want   string
	}{
		{"full mesh", func(*testing.T, *mesh) {}, 1, -1, "ready: open to users"},
		{"full mesh, gap bounded", func(*testing.T, *mesh) {}, 0, 1 << 20, "ready: open to users"},
		{"a side stopped toward a running peer", func(t *testing.T, m *mesh) { m.mustSQL(t, 1, "ALTER REPLICATION AKU_REP_01 STOP") }, 1, -1,
			"not ready: AKU_REP_01 toward altibase-sts-0.altibase-svc, which runs, is stopped here"},
		{"the peer's side stopped", func(t *testing.T, m *mesh) { m.mustSQL(t, 1, "ALTER REPLICATION AKU_REP_01 STOP") }, 0, -1, "ready: open to users"},
		{"a side missing toward a running peer", func(t *testing.T, m *mesh) {
			m.mustSQL(t, 2, "ALTER REPLICATION AKU_REP_12 STOP", "DROP REPLICATION AKU_REP_12")
		}, 2, -1, "not ready: AKU_REP_12 toward altibase-sts-1.altibase-svc, which runs, is missing here"},
		{"a peer gone", func(t *testing.T, m *mesh) {
			if err := m.c.RemoveServer(m.host(2)); err != nil {
				t.Fatal(err)
			}
		}, 0, -1, "ready: open to users"},
		{"a peer's server down", func(t *testing.T, m *mesh) {
			if err := m.c.Crash(m.host(2)); err != nil {
				t.Fatal(err)
			}
		}, 1, -1, "ready: open to users"},
		{"a gap over the bound", func(t *testing.T, m *mesh) {
			m.c.Server(m.host(0)).Faults().HoldSender("AKU_REP_01")
			m.mustSQL(t, 0, "INSERT INTO SYS.T1 VALUES (1000, 'x')")
		}, 0, 0, "not ready: AKU_REP_01 is 49 bytes behind (--max-gap 0)"},
		{"a gap without a bound", func(t *testing.T, m *mesh) {
			m.c.Server(m.host(0)).Faults().HoldSender("AKU_REP_01")
			m.mustSQL(t, 0, "INSERT INTO SYS.T1 VALUES (1000, 'x')")
		}, 0, -1, "ready: open to users"},
		{"no marker", func(t *testing.T, m *mesh) {
			if err := os.Remove(m.markerPath(1)); err != nil {
				t.Fatal(err)
			}
		}, 1, -1, "not ready: no marker "},
		{"server not open", func(t *testing.T, m *mesh) { m.mustSQL(t, 2, "ALTER SYSTEM SET ADMIN_MODE = 1") }, 2, -1,
			"not ready: this pod's server is not-open: connecting to altibase-sts-2.altibase-svc:20300 as SYS: server refused the session (ERR-4106E)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMesh(t, 3)
			m.startAll(t, 3)
			tt.setup(t, m)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			in := m.input(t, tt.pod, false)
			v := health.Ready(ctx, in, tt.maxGap)
			if v.OK != strings.HasPrefix(tt.want, "ready") || !strings.HasPrefix(v.Line, tt.want) {
				t.Fatalf("ready on pod %d: %v %q; want %q", tt.pod, v.OK, v.Line, tt.want)
			}
			// aku run's /readyz: the same verdict from one observation.
			if of := health.ReadyOf(in, health.Observe(ctx, in), tt.maxGap); of != v {
				t.Errorf("ReadyOf on pod %d: %+v; Ready says %+v", tt.pod, of, v)
			}
		})
	}
}

// TestRole covers aku probe role on the master and on a slave.
func TestRole(t *testing.T) {
	m := newMesh(t, 2)
	m.startAll(t, 2)
	tests := []struct {
		pod  int
		role string
		want string
	}{
		{0, "master", "master: open to users"},
		{0, "slave", "not slave: this pod is ordinal 0, the master"},
		{1, "slave", "slave: open to users"},
		{1, "master", "not master: this pod is ordinal 1, the slave"},
		{0, "writable", "writable: ready: open to users"},
		{1, "writable", "writable: ready: open to users"},
		{1, "primary", `unknown role "primary": want master, slave or writable`},
	}
	for _, tt := range tests {
		in := m.input(t, tt.pod, false)
		v := health.Role(context.Background(), in, tt.role, -1)
		ok := !strings.HasPrefix(tt.want, "not ") && !strings.HasPrefix(tt.want, "unknown")
		if v.OK != ok || v.Line != tt.want && !strings.HasPrefix(v.Line, tt.want) {
			t.Errorf("role %s on pod %d: %v %q; want %v %q", tt.role, tt.pod, v.OK, v.Line, ok, tt.want)
		}
		if of := health.RoleOf(in, health.Observe(context.Background(), in), tt.role, -1); of != v {
			t.Errorf("RoleOf %s on pod %d: %+v; Role says %+v", tt.role, tt.pod, of, v)
		}
	}
	m.mustSQL(t, 1, "ALTER SYSTEM SET ADMIN_MODE = 1")
	if v := health.Role(context.Background(), m.input(t, 1, false), "slave", -1); v.OK || !strings.Contains(v.Line, "not-open") {
		t.Errorf("role slave on a pod not open: %+v", v)
	}
}

// Something other than aku's regular progress file at its path — a
// symbolic link (even to a fresh file), a FIFO, a directory — is an error
// the probes report, never a running start, and reading it never blocks.
func TestReadProgressRefusesOtherFiles(t *testing.T) {
	dir := t.TempDir()
	fresh := filepath.Join(dir, "fresh")
	if err := os.WriteFile(fresh, []byte("observing the servers\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(path string) error{
		"symlink":   func(p string) error { return os.Symlink(fresh, p) },
		"fifo":      func(p string) error { return syscall.Mkfifo(p, 0o644) },
		"directory": func(p string) error { return os.Mkdir(p, 0o755) },
	}
	for name, create := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name+".progress")
			if err := create(path); err != nil {
				t.Fatal(err)
			}
			done := make(chan health.StartProgress, 1)
			go func() { done <- health.ReadProgress(path, time.Now()) }()
			select {
			case p := <-done:
				if p.Err == nil || p.Running() {
					t.Errorf("ReadProgress of a %s: %+v, want an error", name, p)
				}
			case <-time.After(2 * time.Second):
				t.Fatalf("ReadProgress of a %s blocked", name)
			}
		})
	}
}
