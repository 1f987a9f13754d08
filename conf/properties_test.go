package conf

import (
	"strings"
	"testing"
	"time"

	"github.com/aku-project/aku/parser/parsertest"
)

// TestUnknownPropertyCost checks that the message for a long unknown name
// costs nothing in proportion to its length: a 10 MB name took 8.6 s in
// edit distances, and its upper-cased copy 10 MB of memory.
func TestUnknownPropertyCost(t *testing.T) {
	name := strings.Repeat("x", 10<<20)
	var msg string
	cost := parsertest.Measure(func() { msg = unknownProperty(name, topLevelNames) })
	want := `unknown property "` + strings.Repeat("x", 64) + `"… (10485760 bytes)`
	if msg != want {
		t.Errorf("message %.200q, want %q", msg, want)
	}
	if cost.CPU > 50*time.Millisecond || cost.Bytes > 64<<10 {
		t.Errorf("the message cost %v, want less than 50ms of CPU and 64 KB", cost)
	}
}

func TestClosest(t *testing.T) {
	tests := []struct {
		name, best string
		dist       int
	}{
		{"AKU_PORT_NO", "AKU_PORT_NO", 0},
		{"aku_port_no", "AKU_PORT_NO", 0},
		{"AKU_PORT", "AKU_PORT_NO", 3},
		{"AKU_SVC_NAM", "AKU_SVC_NAME", 1},
		{"FOO", "", -1},
		{strings.Repeat("AKU_PORT_NO", 2), "", -1},
	}
	for _, tt := range tests {
		if best, dist := closest(tt.name, topLevelNames); best != tt.best || dist != tt.dist {
			t.Errorf("closest(%q) = %q, %d; want %q, %d", tt.name, best, dist, tt.best, tt.dist)
		}
	}
}
