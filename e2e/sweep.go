package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A run records who owns it in its work directory, so that a later run can
// remove what a killed one left behind: its dnsmasq (which drops the
// parent-death signal when it changes credentials), network namespaces,
// bridge and files. The pods die with the run through their parent-death
// signal and PID namespaces.

const ownerFile = "owner"

// processStart is the start time of a process (field 22 of /proc/PID/stat),
// which tells a live owner from a new process that reuses its PID.
func processStart(pid int) (string, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", err
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')') // the command name may hold spaces
	if i < 0 {
		return "", fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return "", fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	return f[19], nil
}

// writeOwner records this process and the run's network suffix ("-" for
// a directory without a network, such as NewBinDir's).
func writeOwner(dir, suffix string) error {
	start, err := processStart(os.Getpid())
	if err != nil {
		return fmt.Errorf("recording the owner of %s: %w", dir, err)
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(fmt.Sprintf("%d %s %s\n", os.Getpid(), start, suffix)), 0o644); err != nil {
		return fmt.Errorf("recording the owner of %s: %w", dir, err)
	}
	return nil
}

// NewBinDir creates a directory for Build's binaries, owned by this
// process like a cluster's work directory: when the process is killed
// before it removes the directory itself (kill -9, a go test timeout, a
// signal that ends it through os.Exit), the next Start removes it.
func NewBinDir() (string, error) {
	dir, err := os.MkdirTemp("/var/tmp", "aku-e2e-bin-")
	if err != nil {
		return "", fmt.Errorf("creating the binaries' directory: %w", err)
	}
	if err := writeOwner(dir, "-"); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	liveMu.Lock()
	binDirs = append(binDirs, dir)
	liveMu.Unlock()
	return dir, nil
}

// binDirs are NewBinDir's directories, removed on SIGINT or SIGTERM too.
var binDirs []string

// sweepStale removes the leftovers of runs whose owner is gone.
func sweepStale(ctx context.Context, logf func(string, ...any)) {
	dirs, _ := filepath.Glob("/var/tmp/aku-e2e-*")
	for _, dir := range dirs {
		data, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue // not ours, or still being set up
		}
		var pid int
		var start, suffix string
		if _, err := fmt.Sscan(string(data), &pid, &start, &suffix); err != nil {
			continue
		}
		if now, err := processStart(pid); err == nil && now == start {
			continue // its owner runs
		}
		// dnsmasq, by the PID it recorded, if that process still is the
		// dnsmasq of this directory.
		if data, err := os.ReadFile(filepath.Join(dir, "dns", "dnsmasq.pid")); err == nil {
			if dpid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil {
				cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", dpid))
				if err == nil && strings.HasPrefix(string(cmdline), "dnsmasq\x00") && strings.Contains(string(cmdline), dir+"/") {
					_ = syscall.Kill(dpid, syscall.SIGKILL)
				}
			}
		}
		if suffix != "-" {
			sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			entries, _ := os.ReadDir("/run/netns")
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), "aku-"+suffix+"-") {
					_, _ = run(sctx, "ip", "netns", "del", e.Name())
				}
			}
			_, _ = run(sctx, "ip", "link", "del", "akb"+suffix)
			cancel()
		}
		os.RemoveAll(dir)
		logf("removed the leftovers of a killed run (owner pid %s, network %s)", strconv.Itoa(pid), suffix)
	}
}
