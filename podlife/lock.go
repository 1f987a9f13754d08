package podlife

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// runLock is an exclusive flock on a file next to the marker. It keeps two
// aku processes on one pod (a postStart start and a preStop end, say) from
// interleaving their statements; the kernel drops it when the process dies,
// so a killed run never leaves a stale lock.
type runLock struct {
	f *os.File
}

// lockPollInterval is how often a waiting run retries the lock.
const lockPollInterval = 50 * time.Millisecond

// acquireLock takes the run lock at path. With wait = 0 it fails at once
// with ErrLocked when another process holds it; otherwise it retries until
// wait has passed or ctx ends, then fails with ErrLocked.
func acquireLock(ctx context.Context, path string, wait time.Duration, clock Clock) (*runLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening the run lock %s: %w", path, err)
	}
	deadline := clock.Now().Add(wait)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return &runLock{f: f}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		if !clock.Now().Before(deadline) {
			f.Close()
			if wait == 0 {
				return nil, fmt.Errorf("%w: %s is held by another aku process on this pod", ErrLocked, path)
			}
			return nil, fmt.Errorf("%w: %s still held by another aku process after %s", ErrLocked, path, wait)
		}
		if err := clock.Sleep(ctx, lockPollInterval); err != nil {
			f.Close()
			return nil, fmt.Errorf("%w: waiting for %s: %w", ErrLocked, path, err)
		}
	}
}

// release drops the lock. The lock file stays: removing it would let a
// third process lock a new inode while a second still waits on the old one.
func (l *runLock) release() {
	syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	l.f.Close()
}
