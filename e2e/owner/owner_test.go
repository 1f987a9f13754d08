package owner

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestStale tells the three kinds of directory apart: one this process
// owns (not stale), one whose owner has exited (stale, with its PID and
// note), and one whose record is missing or unreadable (not the harness's:
// not stale).
func TestStale(t *testing.T) {
	mine := t.TempDir()
	if err := Write(mine, "abc123"); err != nil {
		t.Fatal(err)
	}
	if pid, note, stale := Stale(mine); stale || pid != os.Getpid() || note != "abc123" {
		t.Errorf("Stale(own directory) = %d %q %v, want %d \"abc123\" false", pid, note, stale, os.Getpid())
	}

	gone := exec.Command("true")
	if err := gone.Start(); err != nil {
		t.Fatal(err)
	}
	start, err := ProcessStart(gone.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	_ = gone.Wait()
	if Alive(gone.Process.Pid, start) {
		t.Fatalf("pid %d alive after it exited", gone.Process.Pid)
	}
	dead := t.TempDir()
	if err := os.WriteFile(filepath.Join(dead, File), []byte(fmt.Sprintf("%d %s -\n", gone.Process.Pid, start)), 0o644); err != nil {
		t.Fatal(err)
	}
	if pid, note, stale := Stale(dead); !stale || pid != gone.Process.Pid || note != "-" {
		t.Errorf("Stale(exited owner) = %d %q %v, want %d \"-\" true", pid, note, stale, gone.Process.Pid)
	}

	// This process's PID with another start time: a PID reused.
	reused := t.TempDir()
	if err := os.WriteFile(filepath.Join(reused, File), []byte(fmt.Sprintf("%d 1 -\n", os.Getpid())), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, stale := Stale(reused); !stale {
		t.Error("Stale(owner PID reused by another process) = false, want true")
	}

	for name, text := range map[string]string{"no record": "", "junk": "not a record\n"} {
		dir := t.TempDir()
		if text != "" {
			if err := os.WriteFile(filepath.Join(dir, File), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, stale := Stale(dir); stale {
			t.Errorf("Stale(%s) = true, want false", name)
		}
	}
}
