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

	"github.com/aku-project/aku/e2e/owner"
)

// A run records who owns it in its work directory, so that a later run can
// remove what a killed one left behind: its dnsmasq (which drops the
// parent-death signal when it changes credentials), network namespaces,
// bridge and files. The pods die with the run through their parent-death
// signal and PID namespaces.

// NewBinDir creates a directory for Build's binaries, owned by this
// process like a cluster's work directory: when the process is killed
// before it removes the directory itself (kill -9, a go test timeout, a
// signal that ends it through os.Exit), the next Start removes it.
func NewBinDir() (string, error) {
	dir, err := os.MkdirTemp("/var/tmp", "aku-e2e-bin-")
	if err != nil {
		return "", fmt.Errorf("creating the binaries' directory: %w", err)
	}
	if err := owner.Write(dir, "-"); err != nil { // no network
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
		pid, suffix, stale := owner.Stale(dir)
		if !stale {
			continue // not ours, still being set up, or its owner runs
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
