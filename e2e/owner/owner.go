package owner

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// File is the name of the owner record in an owned directory.
const File = "owner"

// ProcessStart is the start time of a process (field 22 of /proc/PID/stat,
// in clock ticks since boot), which tells a process from a later one that
// reuses its PID.
func ProcessStart(pid int) (string, error) {
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

// Alive reports whether process pid runs and is the one that started at
// start (a ProcessStart value).
func Alive(pid int, start string) bool {
	now, err := ProcessStart(pid)
	return err == nil && now == start
}

// Write records this process as the owner of dir, with a note of one word
// for the sweep (e.g. the run's network suffix, or "-").
func Write(dir, note string) error {
	start, err := ProcessStart(os.Getpid())
	if err != nil {
		return fmt.Errorf("recording the owner of %s: %w", dir, err)
	}
	if err := os.WriteFile(filepath.Join(dir, File), []byte(fmt.Sprintf("%d %s %s\n", os.Getpid(), start, note)), 0o644); err != nil {
		return fmt.Errorf("recording the owner of %s: %w", dir, err)
	}
	return nil
}

// Stale reports whether dir was left behind: it records an owner (Write)
// and that process is gone. It returns the owner's PID and note too. A
// directory without a readable record is not stale: it is not the
// harness's, or is still being set up.
func Stale(dir string) (pid int, note string, stale bool) {
	data, err := os.ReadFile(filepath.Join(dir, File))
	if err != nil {
		return 0, "", false
	}
	var start string
	if _, err := fmt.Sscan(string(data), &pid, &start, &note); err != nil {
		return 0, "", false
	}
	return pid, note, !Alive(pid, start)
}
