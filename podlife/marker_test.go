package podlife

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestMarker(t *testing.T) {
	dir := t.TempDir()
	m := Marker{Path: filepath.Join(dir, "aku_start_completed")}
	if ok, err := m.Exists(); ok || err != nil {
		t.Fatalf("Exists on a fresh dir = %v, %v", ok, err)
	}
	if err := m.Remove(); err != nil {
		t.Fatalf("Remove of a missing marker: %v", err)
	}
	if err := m.Write("done\n"); err != nil {
		t.Fatal(err)
	}
	if ok, err := m.Exists(); !ok || err != nil {
		t.Fatalf("Exists after Write = %v, %v", ok, err)
	}
	b, err := os.ReadFile(m.Path)
	if err != nil || string(b) != "done\n" {
		t.Fatalf("content = %q, %v", b, err)
	}
	// Write replaces atomically and leaves no temporary file behind.
	if err := m.Write("again\n"); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after two writes, want 1", len(entries))
	}
	if err := m.Remove(); err != nil {
		t.Fatal(err)
	}
	if ok, _ := m.Exists(); ok {
		t.Error("marker still there after Remove")
	}
}

func TestDDLJournal(t *testing.T) {
	m := Marker{Path: filepath.Join(t.TempDir(), "aku_start_completed")}
	if _, ok, err := m.readDDLJournal(); ok || err != nil {
		t.Fatalf("journal on a fresh dir: %v, %v", ok, err)
	}
	if err := m.writeDDLJournal(0); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := m.readDDLJournal(); v != 0 || !ok || err != nil {
		t.Fatalf("read back = %d, %v, %v", v, ok, err)
	}
	if err := m.removeDDLJournal(); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := m.readDDLJournal(); ok {
		t.Error("journal still there after remove")
	}
	if err := m.writeDDLJournal(1); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := m.readDDLJournal(); v != 1 || !ok || err != nil {
		t.Fatalf("read back = %d, %v, %v", v, ok, err)
	}
	if fi, err := os.Lstat(m.ddlJournalPath()); err != nil || fi.Mode() != journalMode {
		t.Errorf("journal mode = %v, %v; want %v", fi.Mode(), err, journalMode)
	}
	if err := m.writeDDLJournal(2); err == nil {
		t.Error("REPLICATION_DDL_ENABLE = 2 was saved: nothing but 0 or 1 is ever read back")
	}
}

// fakeClock advances instantly: Sleep moves Now forward.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

func TestRunLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "aku.lock")
	clock := &fakeClock{now: time.Unix(0, 0)}
	ctx := context.Background()
	first, err := acquireLock(ctx, path, 0, clock)
	if err != nil {
		t.Fatal(err)
	}
	// flock locks belong to open file descriptions, so a second open in
	// this process conflicts just as another process would.
	if _, err := acquireLock(ctx, path, 0, clock); !errors.Is(err, ErrLocked) {
		t.Fatalf("second lock without waiting: %v, want ErrLocked", err)
	}
	start := clock.Now()
	if _, err := acquireLock(ctx, path, time.Second, clock); !errors.Is(err, ErrLocked) {
		t.Fatalf("second lock with a wait: %v, want ErrLocked", err)
	}
	if waited := clock.Now().Sub(start); waited < time.Second || waited > time.Second+2*lockPollInterval {
		t.Errorf("waited %s, want about 1s", waited)
	}
	first.release()
	second, err := acquireLock(ctx, path, 0, clock)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	second.release()
}

func TestRunLockWaitsForRelease(t *testing.T) {
	path := filepath.Join(t.TempDir(), "aku.lock")
	ctx := context.Background()
	first, err := acquireLock(ctx, path, 0, SystemClock{})
	if err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(100*time.Millisecond, first.release)
	second, err := acquireLock(ctx, path, 5*time.Second, SystemClock{})
	if err != nil {
		t.Fatalf("waiting end did not get the lock after release: %v", err)
	}
	second.release()
}
