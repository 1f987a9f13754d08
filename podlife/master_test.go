package podlife

import (
	"strings"
	"testing"
)

// A restarted MASTER whose pairs kept their restart points flushes them as
// the vendor's transcript shows (docs/behaviour.md, "Master start"): each
// side sends what it had not sent, and the rows written on a slave while
// the MASTER was down reach it.
func TestMasterRestartFlushes(t *testing.T) {
	tc := newTestCluster(t, flowConfig(3))
	tc.startAll(t, 3)
	if err := tc.c.Crash(tc.host(0)); err != nil {
		t.Fatal(err)
	}
	tc.insert(t, 1, 100, 105)
	tc.boot(t, 0)
	tc.logs.Reset()
	tc.mustRun(t, 0, ActionStart)
	var got []string
	for _, m := range loggedMessages(tc.logs.String()) {
		if m == "Flush replications." || m == "Replication flush has ended." {
			got = append(got, m)
		}
	}
	if strings.Join(got, "|") != "Flush replications.|Replication flush has ended." {
		t.Errorf("flush messages %q, want the pair of them\n%s", got, tc.logs.String())
	}
	for q, want := range map[int]string{0: "ALTER REPLICATION AKU_REP_01 FLUSH ALL", 1: "ALTER REPLICATION AKU_REP_01 FLUSH WAIT 5", 2: "ALTER REPLICATION AKU_REP_02 FLUSH WAIT 5"} {
		found := false
		for _, e := range tc.c.Server(tc.host(q)).StatementLog() {
			found = found || e.SQL == want
		}
		if !found {
			t.Errorf("pod %d ran no %q", q, want)
		}
	}
	tc.checkStarted(t, 0, 0, 1, 2)
	for q := 0; q < 3; q++ {
		tc.waitRows(t, q, expectRows([3]int{0, 0, 10}, [3]int{1, 100, 105}))
	}
}
