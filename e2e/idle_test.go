package e2e

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestIdleFootprint measures, for AKU_IDLE_MEASURE (a duration; the test
// is skipped without it), the CPU time and resident memory of an idle aku
// run (PID 1 of pod 1 under statefulset-run, two pods) next to its idle
// altisim, from /proc/PID/stat and /proc/PID/status. It reports figures; it
// asserts nothing about them (speed targets are benchmarks, not tests).
//
//	AKU_IDLE_MEASURE=10m flock /tmp/aku-e2e.lock go test ./e2e/ -run TestIdleFootprint -v -timeout 15m
func TestIdleFootprint(t *testing.T) {
	span, err := time.ParseDuration(os.Getenv("AKU_IDLE_MEASURE"))
	if err != nil || span <= 0 {
		t.Skip("set AKU_IDLE_MEASURE to a duration to measure aku run's idle footprint")
	}
	o := testOptions("statefulset-run")
	o.ProbePeriod = 0 // the manifest's timing: a check every 5 s
	c := newCluster(t, o)
	ctx, cancel := context.WithTimeout(context.Background(), span+2*time.Minute)
	defer cancel()
	mustScale(t, ctx, c, 2)
	p := c.Pod(1)
	p.mu.Lock()
	aku := p.initPid
	p.mu.Unlock()
	sim := childNamed(t, aku, "altisim")
	time.Sleep(10 * time.Second) // past the start
	type sample struct {
		at       time.Time
		cpu      [2]float64 // seconds of CPU: aku run, altisim
		rss, hwm [2]int64   // KiB
	}
	read := func() sample {
		s := sample{at: time.Now()}
		for i, pid := range []int{aku, sim} {
			s.cpu[i] = cpuSeconds(t, pid)
			s.rss[i], s.hwm[i] = memKiB(t, pid)
		}
		return s
	}
	first := read()
	var maxRSS [2]int64
	last := first
	for time.Since(first.at) < span {
		time.Sleep(30 * time.Second)
		last = read()
		for i := range maxRSS {
			maxRSS[i] = max(maxRSS[i], last.rss[i])
		}
	}
	secs := last.at.Sub(first.at).Seconds()
	for i, name := range []string{"aku run", "altisim"} {
		cpu := last.cpu[i] - first.cpu[i]
		t.Logf("%-8s over %v: CPU %.2f s = %.3f%% of one core; RSS %d KiB at the end, %d KiB at most (sampled), VmHWM %d KiB",
			name, last.at.Sub(first.at).Round(time.Second), cpu, 100*cpu/secs, last.rss[i], maxRSS[i], last.hwm[i])
	}
}

// childNamed is the child of pid whose command is name.
func childNamed(t *testing.T, pid int, name string) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range strings.Fields(string(b)) {
		comm, _ := os.ReadFile("/proc/" + f + "/comm")
		if strings.TrimSpace(string(comm)) == name {
			n, _ := strconv.Atoi(f)
			return n
		}
	}
	t.Fatalf("no child %q of %d (children %q)", name, pid, b)
	return 0
}

// cpuSeconds is utime + stime of pid (/proc/PID/stat fields 14 and 15, in
// clock ticks of 1/100 s).
func cpuSeconds(t *testing.T, pid int) float64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	// f[0] is field 3 (state): utime is field 14, stime 15.
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100
}

// memKiB is VmRSS and VmHWM of pid.
func memKiB(t *testing.T, pid int) (rss, hwm int64) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, ":")
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			rss = n
		case "VmHWM":
			hwm = n
		}
	}
	return rss, hwm
}
