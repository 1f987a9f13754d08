package podlife

import (
	"context"
	"errors"
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
	// The closing check is the only reader of SYS_REPLICATIONS_ alone.
	in.Connector = cancelOnCheck{Connector: in.Connector, cancel: cancel}
	_, err := Run(ctx, in)
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrIncomplete) {
		t.Fatalf("start stopped during its closing check: %v, want the cancellation and not ErrIncomplete", err)
	}
}

// cancelOnCheck cancels the run when one of its sessions is read by the
// closing check.
type cancelOnCheck struct {
	Connector
	cancel context.CancelFunc
}

func (c cancelOnCheck) Connect(ctx context.Context, host string) (Session, error) {
	s, err := c.Connector.Connect(ctx, host)
	if err != nil {
		return nil, err
	}
	return checkRead{Session: s, cancel: c.cancel}, nil
}

type checkRead struct {
	Session
	cancel context.CancelFunc
}

func (s checkRead) States(ctx context.Context) ([]replication.State, error) {
	s.cancel()
	return s.Session.States(ctx)
}
