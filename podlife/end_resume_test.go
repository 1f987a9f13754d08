package podlife

import (
	"errors"
	"testing"

	"github.com/aku-project/aku/altisim"
)

// An end that could not flush keeps every restart point and fails with
// ErrRestartPointsKept (docs/behaviour.md, "end"): its replications are
// stopped, and what the pod had not sent is still behind its restart
// points. Running end again — as after any interrupted run — must not
// throw that away: the RESET comes only once those rows are flushed, and
// while the peer still does not answer, end again keeps every restart
// point. Here a row written on pod 2 cannot reach the MASTER during the
// first end(s); once the MASTER answers again, the next end must bring the
// row there before it resets.
func TestEndAgainAfterKeptRestartPoints(t *testing.T) {
	tests := []struct {
		name  string
		first func(t *testing.T, tc *testCluster) error
	}{
		{"the MASTER does not answer, twice", func(t *testing.T, tc *testCluster) error {
			tc.c.SetHostFault(tc.host(0), altisim.HostRefused)
			defer tc.c.SetHostFault(tc.host(0), altisim.HostOK)
			tc.userInsert(t, 2, 500, 501)
			if _, err := tc.run(t, 2, ActionEnd); !errors.Is(err, ErrRestartPointsKept) {
				return err
			}
			_, err := tc.run(t, 2, ActionEnd)
			return err
		}},
		{"the FLUSH toward the MASTER fails", func(t *testing.T, tc *testCluster) error {
			// The row is written, and the MASTER stops taking pod 2's
			// replication, once aku's sessions are open (gapHold); the
			// FLUSH fails, and the STOP that follows leaves the row unsent.
			mustFault(t, tc, 2, altisim.Fault{Pattern: "AKU_REP_02 FLUSH", Action: altisim.FaultFail, Code: 0x61027, Nth: 1})
			_, err := tc.watchedRun(t, 2, ActionEnd, interruption{}, &gapHold{source: 2, key: 500, held: []int{0}})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tc := newTestCluster(t, flowConfig(3))
			tc.startAll(t, 3)
			if err := tt.first(t, tc); !errors.Is(err, ErrRestartPointsKept) {
				t.Fatalf("first end: %v, want ErrRestartPointsKept\nlogs:\n%s", err, tc.logs.String())
			}
			tc.mustRun(t, 2, ActionEnd)
			want := expectRows([3]int{0, 0, 10}, [3]int{2, 500, 501})
			for q := 0; q < 3; q++ {
				tc.waitRows(t, q, want)
			}
			for q := 0; q < 3; q++ {
				for _, o := range tc.state(t, q).Objects {
					if o.Name != "AKU_REP_01" && (o.Started || o.HasXSN) {
						t.Errorf("pod %d: %s started %v, restart point %v after the second end, want reset", q, o.Name, o.Started, o.HasXSN)
					}
				}
			}
		})
	}
}
