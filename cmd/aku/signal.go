package main

import (
	"context"
	"os/signal"
	"sync"
	"syscall"
)

// interruptible runs fn with a context that SIGINT and SIGTERM cancel, from
// the start of the process on.
//
// Until fn calls commit (just before a lifecycle run starts, see runPod), a
// signal ends the run at once with an error that maps to exit 14: nothing
// has been changed yet, so there is nothing to restore, and no slow step
// (parsing a large aku.conf, say) may keep the process alive. From commit
// on, a signal only cancels the context: the run stops at its next step
// and restores what it changed (podlife's guards, e.g.
// REPLICATION_DDL_ENABLE) before fn returns. commit reports false when a
// signal came first; the run must then not start.
func interruptible(fn func(ctx context.Context, commit func() bool) error) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var (
		mu                   sync.Mutex
		committed, signalled bool
	)
	commit := func() bool {
		mu.Lock()
		defer mu.Unlock()
		committed = !signalled
		return committed
	}
	done := make(chan error, 1)
	go func() { done <- fn(ctx, commit) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	mu.Lock()
	signalled = true
	wait := committed
	mu.Unlock()
	if wait {
		return <-done
	}
	return earlyStop{cause: context.Cause(ctx)}
}

// earlyStop is the error of a run a signal stopped before it changed
// anything. It is a context.Canceled, so its exit code is exitInterrupted.
type earlyStop struct{ cause error }

func (e earlyStop) Error() string {
	return e.cause.Error() + ": aku stopped before it changed anything"
}
func (e earlyStop) Unwrap() []error { return []error{e.cause, context.Canceled} }
