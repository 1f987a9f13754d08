package retry

import (
	"context"
	"errors"
	"testing"
	"time"
)

// fakeClock advances only when slept on.
type fakeClock struct {
	now    time.Time
	sleeps []time.Duration
}

func (c *fakeClock) Now() time.Time { return c.now }
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return ctx.Err()
}

func TestLoop(t *testing.T) {
	errAgain, errFatal := errors.New("again"), errors.New("fatal")
	second := func(int64) time.Duration { return time.Second }
	tests := []struct {
		name      string
		loop      Loop
		results   []error // what f returns on each call; past the end, errAgain
		wantErr   error
		wantCalls int64
	}{
		{"success at once", Loop{Tries: 3, Pause: second}, []error{nil}, nil, 1},
		{"success on the third try", Loop{Tries: 3, Pause: second}, []error{errAgain, errAgain, nil}, nil, 3},
		{"tries used up", Loop{Tries: 3, Pause: second}, nil, errAgain, 3},
		{"stopped", Loop{Tries: 3, Pause: second}, []error{Stop(errFatal)}, errFatal, 1},
		// Calls at 0, 1, 2, 3 s fail before the 3.5 s are up, the one at 4 s after.
		{"time used up", Loop{For: 3500 * time.Millisecond, Pause: second}, nil, errAgain, 5},
		// Calls at 0, 1, 3, 6 and 10 s: the last fails when the 10 s are up.
		{"no limit but time", Loop{For: 10 * time.Second, Pause: func(n int64) time.Duration { return time.Duration(n) * time.Second }}, nil, errAgain, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &fakeClock{now: time.Unix(0, 0)}
			tt.loop.Clock = c
			var calls int64
			err := tt.loop.Do(context.Background(), func(try int64) error {
				calls++
				if try != calls {
					t.Fatalf("try %d on call %d", try, calls)
				}
				if int(try) <= len(tt.results) {
					return tt.results[try-1]
				}
				return errAgain
			})
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Errorf("error %v, want %v", err, tt.wantErr)
			}
			if calls != tt.wantCalls {
				t.Errorf("%d calls, want %d", calls, tt.wantCalls)
			}
		})
	}
}

func TestLoopCancelledDuringPause(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := Loop{Pause: func(int64) time.Duration { return time.Hour }}.Do(ctx, func(int64) error {
		calls++
		cancel()
		return errors.New("busy")
	})
	if err == nil || err.Error() != "busy" || calls != 1 {
		t.Errorf("error %v after %d calls, want the last error after 1", err, calls)
	}
}

func TestSleep(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep on a cancelled context: %v", err)
	}
	if time.Since(start) > time.Second {
		t.Error("Sleep on a cancelled context waited")
	}
	if err := Sleep(context.Background(), 0); err != nil {
		t.Errorf("Sleep 0: %v", err)
	}
}
