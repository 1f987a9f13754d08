package e2e

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// The chaos tier: real signals to the real aku binary at random points of
// aku -p start and aku -p end, then the same command again, as an operator
// or the entry point does (exit code 14: "run the same command again").
// The points are random but reproducible: AKU_CHAOS_SEED (default 1) seeds
// every choice, and the test logs it; AKU_CHAOS_RUNS (default 6, at most
// 20) bounds how many commands are interrupted. The timing of aku itself
// is not reproducible, so the same seed aims at the same moments, not
// necessarily the same statements.

// chaosLatency is added to every statement of every server, so that a
// command lasts long enough (hundreds of milliseconds) for a random moment
// to fall inside it; chaosWindow is the range of that moment, from when
// the aku process is seen.
const (
	chaosLatency = 20 * time.Millisecond
	chaosWindow  = 450 * time.Millisecond
)

// chaosSetting reads a positive integer from the environment, or def.
func chaosSetting(t *testing.T, name string, def, most uint64) uint64 {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v == 0 || v > most {
		t.Fatalf("%s = %q: want an integer from 1 to %d", name, s, most)
	}
	return v
}

// TestChaosSignals sends SIGTERM or SIGKILL to aku at a random moment of a
// slave's or the MASTER's end, or of its start afterwards (one pod down at
// a time), on a three-pod StatefulSet whose pods take writes before every
// command. After each interruption the same command is run again and must
// succeed; then the ended pod's objects are as the rules of
// docs/behaviour.md "end" say (a slave: every pair reset on both sides;
// the MASTER: stopped, restart points kept), and after each start every
// pod holds every row once, in a full mesh.
func TestChaosSignals(t *testing.T) {
	seed := chaosSetting(t, "AKU_CHAOS_SEED", 1, 1<<63)
	runs := int(chaosSetting(t, "AKU_CHAOS_RUNS", 6, 20))
	t.Logf("AKU_CHAOS_SEED=%d AKU_CHAOS_RUNS=%d (set them to replay this run)", seed, runs)
	rng := rand.New(rand.NewPCG(seed, seed))

	c := newCluster(t, testOptions("statefulset-entrypoint"))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	mustScale(t, ctx, c, 3)
	for q := 0; q < 3; q++ {
		mustFault(t, ctx, c, q, "latency", chaosLatency.String())
	}

	var keys []int
	next := 1
	write := func(down int) {
		for q := 0; q < 3; q++ {
			if q == down {
				continue
			}
			insertRows(t, ctx, c, q, "T1", next, next+1)
			keys = append(keys, next, next+1)
			next += 2
		}
	}

	down := -1 // the pod whose end completed, until its start does
	for run := 1; run <= runs || down >= 0; run++ {
		pod, action := down, "start"
		if down < 0 {
			pod, action = rng.IntN(3), "end"
		}
		write(down)
		if run <= runs {
			sig := syscall.SIGTERM
			if rng.IntN(2) == 1 {
				sig = syscall.SIGKILL
			}
			delay := time.Duration(rng.Int64N(int64(chaosWindow)))
			r, sent := signalDuring(t, ctx, c, pod, action, sig, delay)
			t.Logf("run %d: aku -p %s on pod %d, %v after %v (%s): exit code %d after %v",
				run, action, pod, sig, delay.Round(time.Millisecond), sent, r.ExitCode, r.Duration.Round(time.Millisecond))
			checkInterrupted(t, r, sig)
		}
		// The same command again, unless the start had completed before the
		// signal (its marker is written: a start again would exit 6).
		if action == "end" || !markerExists(t, ctx, c, pod) {
			r, err := c.Exec(ctx, pod, time.Minute, "aku", "-p", action)
			if err != nil {
				t.Fatal(err)
			}
			if r.ExitCode != 0 {
				t.Fatalf("run %d: aku -p %s on pod %d again: %s", run, action, pod, r)
			}
		}
		if action == "end" {
			down = pod
			checkEnded(t, ctx, c, pod)
			continue
		}
		down = -1
		if !markerExists(t, ctx, c, pod) {
			t.Fatalf("run %d: pod %d has no marker after its start", run, pod)
		}
		waitKeys(t, ctx, c, "T1", union(keys))
		checkMesh(t, ctx, c)
	}
	write(-1)
	waitKeys(t, ctx, c, "T1", union(keys))
}

// signalDuring runs aku -p action in the pod as kubectl exec does, finds
// the aku process among the processes of the pod's PID namespace, and
// sends it sig delay after it appeared. sent says whether the signal
// reached aku or aku had exited first.
func signalDuring(t *testing.T, ctx context.Context, c *Cluster, ordinal int, action string, sig syscall.Signal, delay time.Duration) (ExecResult, string) {
	t.Helper()
	ns, err := podPidNamespace(c.Pod(ordinal))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan ExecResult, 1)
	go func() {
		r, _ := c.Exec(ctx, ordinal, time.Minute, "aku", "-p", action)
		done <- r
	}()
	cmdline := []byte("aku\x00-p\x00" + action + "\x00")
	pid := 0
	for pid == 0 {
		select {
		case r := <-done:
			return r, "aku exited before it was seen"
		default:
		}
		pid = findProcess(ns, cmdline)
		if pid == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	timer := time.NewTimer(delay)
	sent := "sent"
	select {
	case r := <-done:
		timer.Stop()
		return r, "aku exited first"
	case <-timer.C:
		if err := syscall.Kill(pid, sig); err != nil {
			sent = "not sent: " + err.Error()
		}
	}
	return <-done, sent
}

// podPidNamespace is the PID namespace of the pod's container, as
// /proc/<pid>/ns/pid names it.
func podPidNamespace(p *Pod) (string, error) {
	p.mu.Lock()
	pid := p.initPid
	p.mu.Unlock()
	if pid == 0 {
		return "", fmt.Errorf("pod %s has no container", p.Name)
	}
	ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid))
	if err != nil {
		return "", fmt.Errorf("reading the PID namespace of %s: %w", p.Name, err)
	}
	return ns, nil
}

// findProcess returns the host PID of a process in PID namespace ns whose
// command line is cmdline, or 0.
func findProcess(ns string, cmdline []byte) int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || !bytes.Equal(b, cmdline) {
			continue
		}
		if got, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid)); err == nil && got == ns {
			return pid
		}
	}
	return 0
}

// checkInterrupted accepts what an interrupted aku may end with: success
// (it finished before the signal), exit code 14 after SIGTERM (stopped,
// its clean-up done: run it again), death by the signal after SIGKILL, and
// after a SIGTERM that came before aku could catch it (its first
// milliseconds, while the process starts: seen up to 8 ms after it
// appeared).
func checkInterrupted(t *testing.T, r ExecResult, sig syscall.Signal) {
	t.Helper()
	switch {
	case r.ExitCode == 0:
	case sig == syscall.SIGTERM && r.ExitCode == 14:
	case r.ExitCode == -1:
	default:
		t.Fatalf("aku after %v: %s", sig, r)
	}
}

// checkEnded checks the objects after pod's end completed
// (docs/behaviour.md, "end"): a slave's pairs are stopped and reset on
// both sides; the MASTER's are stopped with their restart points kept on
// both sides; the other pods' pairs with each other still run. Objects
// toward the absent ordinal 3 were never started.
func checkEnded(t *testing.T, ctx context.Context, c *Cluster, pod int) {
	t.Helper()
	for q := 0; q < 3; q++ {
		want := map[string]wantRepl{}
		for peer := 0; peer < 4; peer++ {
			if peer == q {
				continue
			}
			name := fmt.Sprintf("AKU_REP_%d%d", min(q, peer), max(q, peer))
			switch {
			case peer == 3:
				want[name] = wantRepl{reset: true}
			case q == pod || peer == pod:
				want[name] = wantRepl{reset: pod != 0}
			default:
				want[name] = wantRepl{started: true}
			}
		}
		checkReplications(t, ctx, c, q, want)
	}
}
