package retry

import (
	"context"
	"errors"
	"time"
)

// Clock is time as aku's waits see it. Sleep waits d or until ctx ends,
// returning ctx's error in that case.
type Clock interface {
	Now() time.Time
	Sleep(ctx context.Context, d time.Duration) error
}

// System is the real clock.
type System struct{}

// Now returns time.Now().
func (System) Now() time.Time { return time.Now() }

// Sleep waits d or until ctx ends.
func (System) Sleep(ctx context.Context, d time.Duration) error { return Sleep(ctx, d) }

// Sleep waits d, or less if ctx ends first: then it returns ctx.Err(). A d
// of 0 or less does not wait.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Stop marks an error after which Loop.Do does not try again.
func Stop(err error) error { return stopError{err} }

type stopError struct{ err error }

func (e stopError) Error() string { return e.err.Error() }
func (e stopError) Unwrap() error { return e.err }

// Loop says how often and how long Do tries.
type Loop struct {
	// Clock is the time seam; nil is System.
	Clock Clock
	// Tries is the most calls of f; 0 is no limit.
	Tries int64
	// For is how long after the first call Do keeps trying: a call that
	// fails once that time has passed is the last; 0 is no limit.
	For time.Duration
	// Pause is the wait after call try (1-based) before the next; nil is
	// none.
	Pause func(try int64) time.Duration
}

// Do calls f until it returns nil or an error made by Stop, until Tries
// calls were made, until a call fails after For has passed, or until ctx
// ends during a pause.
// It returns f's last error (without Stop's mark); a pause cut short by ctx
// returns f's last error too, which is what the tries could not cure.
func (l Loop) Do(ctx context.Context, f func(try int64) error) error {
	clock := l.Clock
	if clock == nil {
		clock = System{}
	}
	start := clock.Now()
	for try := int64(1); ; try++ {
		err := f(try)
		if err == nil {
			return nil
		}
		var stop stopError
		if errors.As(err, &stop) {
			return stop.err
		}
		if l.Tries > 0 && try >= l.Tries || ctx.Err() != nil {
			return err
		}
		if l.For > 0 && !clock.Now().Before(start.Add(l.For)) {
			return err
		}
		var pause time.Duration
		if l.Pause != nil {
			pause = l.Pause(try)
		}
		if clock.Sleep(ctx, pause) != nil {
			return err
		}
	}
}
