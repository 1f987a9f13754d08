package podlife

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aku-project/aku/replication"
)

// Each error class gets words that match it (docs/behaviour.md, "Exit
// codes"): this pod's own server with its SYSDBA session taken, or
// refusing aku's session, answered, and is never called unreachable; a
// message names the server once.
func TestOwnServerErrorWords(t *testing.T) {
	tests := []struct {
		name     string
		prepare  func(tc *testCluster, in *Input) func()
		class    error
		words    string
		notWords string
	}{
		{"SYSDBA session taken", func(tc *testCluster, in *Input) func() {
			return tc.c.Server(tc.host(1)).Faults().HoldSysdba()
		}, replication.ErrSysdbaBusy, "this pod's own server has its SYSDBA session taken", "unreachable"},
		{"wrong password", func(tc *testCluster, in *Input) func() {
			in.Connector = refuseHost{Connector: in.Connector, host: tc.host(1)}
			return func() {}
		}, replication.ErrRefused, "this pod's own server refused aku's session", "unreachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tc := newTestCluster(t, flowConfig(2))
			tc.startAll(t, 1)
			tc.boot(t, 1)
			in := tc.input(t, 1, ActionStart)
			release := tt.prepare(tc, &in)
			_, err := Run(context.Background(), in)
			release()
			if !errors.Is(err, tt.class) || errors.Is(err, ErrNeededServerUnreachable) {
				t.Fatalf("start: %v, want %v and not ErrNeededServerUnreachable", err, tt.class)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.words) || strings.Contains(msg, tt.notWords) {
				t.Errorf("error %q: want %q, not %q", msg, tt.words, tt.notWords)
			}
			if n := strings.Count(msg, tc.host(1)); n != 1 {
				t.Errorf("error %q names %s %d times, want once", msg, tc.host(1), n)
			}
		})
	}
}
