package replication

import (
	"context"
	"time"

	"github.com/aku-project/aku/internal/retry"
)

// Policy is how a Session runs each statement: its timeout and how often
// and how long apart it retries errors that Retryable accepts
// (docs/behaviour.md, "Statements, retries and timeouts").
type Policy struct {
	// QueryTimeout bounds each try of a statement (AKU_QUERY_TIMEOUT);
	// 0 means no timeout other than the caller's context.
	QueryTimeout time.Duration
	// RetryCount is how many times a statement is retried after its first
	// try (AKU_QUERY_RETRY_COUNT); 0 means one try only.
	RetryCount int64
	// RetryDelay is the wait before each retry (AKU_QUERY_RETRY_DELAY_MSEC).
	RetryDelay time.Duration
	// Sleep waits d or until ctx ends, whichever is first, and returns
	// ctx.Err() in the second case. It is a seam for tests; nil means a
	// real timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

// clock is the Sleep seam as a retry.Clock, or the real clock.
func (p Policy) clock() retry.Clock {
	if p.Sleep == nil {
		return retry.System{}
	}
	return sleepClock(p.Sleep)
}

// sleepClock is a retry.Clock that sleeps through a Policy.Sleep seam.
type sleepClock func(ctx context.Context, d time.Duration) error

func (c sleepClock) Now() time.Time                                   { return time.Now() }
func (c sleepClock) Sleep(ctx context.Context, d time.Duration) error { return c(ctx, d) }

// tries is the number of times a retryable statement may be sent.
func (p Policy) tries() int64 {
	if p.RetryCount < 0 {
		return 1
	}
	return p.RetryCount + 1
}
