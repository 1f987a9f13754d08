package podlife

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/aku-project/aku/replication"
)

// A start stopped by a signal (its context cancelled) while its closing
// check reads the servers was stopped: its error is the cancellation (exit
// code 14, "run the same command again"), not ErrIncomplete (exit code 17),
// which would report the pairs it could not read as not built. The end-to-
// end chaos tier met this: SIGTERM at the very end of aku -p start exited
// 17.
func TestClosingCheckStopped(t *testing.T) {
	tc := newTestCluster(t, flowConfig(2))
	tc.startAll(t, 1)
	tc.boot(t, 1)
	in := tc.input(t, 1, ActionStart)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Observe reads each session once; the next read is the closing check.
	in.Connector = cancelOnSecondRead{Connector: in.Connector, cancel: cancel}
	_, err := Run(ctx, in)
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrIncomplete) {
		t.Fatalf("start stopped during its closing check: %v, want the cancellation and not ErrIncomplete", err)
	}
}

// cancelOnSecondRead cancels the run when one of its sessions reads the
// replication objects for the second time.
type cancelOnSecondRead struct {
	Connector
	cancel context.CancelFunc
}

func (c cancelOnSecondRead) Connect(ctx context.Context, host string) (Session, error) {
	s, err := c.Connector.Connect(ctx, host)
	if err != nil {
		return nil, err
	}
	return &secondRead{Session: s, cancel: c.cancel}, nil
}

type secondRead struct {
	Session
	cancel context.CancelFunc
	reads  atomic.Int32
}

func (s *secondRead) Replications(ctx context.Context) ([]replication.State, error) {
	if s.reads.Add(1) == 2 {
		s.cancel()
	}
	return s.Session.Replications(ctx)
}
