package replication

import (
	"reflect"
	"testing"

	"github.com/aku-project/aku/conf"
)

func TestObjectName(t *testing.T) {
	for _, tt := range []struct {
		i, j int
		want string
	}{{0, 1, "AKU_REP_01"}, {1, 0, "AKU_REP_01"}, {5, 2, "AKU_REP_25"}} {
		if got := ObjectName("AKU_REP", tt.i, tt.j); got != tt.want {
			t.Errorf("ObjectName(AKU_REP, %d, %d) = %q, want %q", tt.i, tt.j, got, tt.want)
		}
	}
}

// TestObjects checks the table of docs/behaviour.md, "Replication objects",
// and the order by group, then peer.
func TestObjects(t *testing.T) {
	cfg := &conf.Config{ServerCount: 4, Groups: []conf.Group{{Prefix: "AKU_REP"}}}
	want := map[int][]string{
		0: {"AKU_REP_01", "AKU_REP_02", "AKU_REP_03"},
		1: {"AKU_REP_01", "AKU_REP_12", "AKU_REP_13"},
		2: {"AKU_REP_02", "AKU_REP_12", "AKU_REP_23"},
		3: {"AKU_REP_03", "AKU_REP_13", "AKU_REP_23"},
	}
	for pod, names := range want {
		var got []string
		for _, o := range Objects(cfg, pod) {
			got = append(got, o.Name)
		}
		if !reflect.DeepEqual(got, names) {
			t.Errorf("pod %d: %q, want %q", pod, got, names)
		}
	}

	cfg = &conf.Config{ServerCount: 3, Groups: []conf.Group{{Prefix: "A"}, {Prefix: "B"}}}
	wantObjs := []Object{
		{Name: "A_01", Group: 0, Peer: 0}, {Name: "A_12", Group: 0, Peer: 2},
		{Name: "B_01", Group: 1, Peer: 0}, {Name: "B_12", Group: 1, Peer: 2},
	}
	if got := Objects(cfg, 1); !reflect.DeepEqual(got, wantObjs) {
		t.Errorf("Objects(pod 1) = %+v, want %+v", got, wantObjs)
	}
	if got := Objects(&conf.Config{ServerCount: 1, Groups: cfg.Groups}, 0); len(got) != 0 {
		t.Errorf("one server: want no objects, got %+v", got)
	}
}
