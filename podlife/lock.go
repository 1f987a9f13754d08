package podlife

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"time"

	"github.com/aku-project/aku/internal/retry"
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
	f, err := openLock(path)
	if err != nil {
		return nil, err
	}
	loop := retry.Loop{Clock: clock, For: wait, Pause: func(int64) time.Duration { return lockPollInterval }}
	if wait <= 0 {
		loop.Tries = 1
	}
	err = loop.Do(ctx, func(int64) error {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err != nil && !errors.Is(err, syscall.EWOULDBLOCK) {
			return retry.Stop(fmt.Errorf("locking %s: %w", path, err))
		}
		return err
	})
	switch {
	case err == nil:
		return &runLock{f: f}, nil
	case !errors.Is(err, syscall.EWOULDBLOCK):
		f.Close()
		return nil, err
	case ctx.Err() != nil:
		f.Close()
		return nil, fmt.Errorf("%w: waiting for %s: %w", ErrLocked, path, ctx.Err())
	case wait <= 0:
		f.Close()
		return nil, fmt.Errorf("%w: %s is held by another aku process on this pod", ErrLocked, path)
	}
	f.Close()
	return nil, fmt.Errorf("%w: %s still held by another aku process after %s", ErrLocked, path, wait)
}

// openLock opens the run lock file at path, creating it if need be. It
// follows no symbolic link (a dangling one would make it create the
// link's target) and accepts only what aku creates there: an empty
// regular file of aku's user with lockMode.
func openLock(path string) (*os.File, error) {
	lf := ownFile{path: path, mode: lockMode, what: "aku's run lock:"}
	const doing = "opening the run lock"
	for attempt := 0; ; attempt++ {
		// O_EXCL fails on anything at path, a symbolic link included.
		f, err := openNoFollow(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, lockMode)
		if err == nil {
			if err := f.Chmod(lockMode); err != nil { // exact, whatever the umask
				f.Close()
				return nil, fmt.Errorf("%s %s: %w", doing, path, err)
			}
			return f, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, placeError(doing, path, err)
		}
		f, err = openNoFollow(path, os.O_RDWR, 0)
		if errors.Is(err, fs.ErrNotExist) && attempt < 3 {
			continue // removed in between: create it
		}
		if err != nil {
			return nil, lf.refused(doing, err)
		}
		fi, err := f.Stat()
		if err == nil {
			err = lf.check(fi)
		}
		if err == nil && fi.Size() != 0 {
			err = lf.untrusted("is not empty, and aku writes nothing in it", false)
		}
		if err != nil {
			f.Close()
			return nil, err
		}
		return f, nil
	}
}

// release drops the lock. The lock file stays: removing it would let a
// third process lock a new inode while a second still waits on the old one.
func (l *runLock) release() {
	syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	l.f.Close()
}
