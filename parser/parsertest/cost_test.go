package parsertest

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// recorder is a testing.TB that keeps what Linear reports.
type recorder struct {
	testing.TB
	failures []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

var sink [][]byte

func TestLinear(t *testing.T) {
	build := func(n int) []byte { return []byte(strings.Repeat("x", n<<10)) }
	tests := []struct {
		name string
		read func(src []byte)
		fail bool
	}{
		{"one buffer per input", func(src []byte) { sink = [][]byte{make([]byte, len(src))} }, false},
		// A buffer of all the input read so far, for every kilobyte.
		{"a buffer per kilobyte", func(src []byte) {
			sink = sink[:0]
			for i := 0; i < len(src); i += 1 << 10 {
				sink = append(sink, make([]byte, i))
			}
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				Linear(r, build, 64, time.Minute, tt.read)
			}()
			<-done
			if failed := len(r.failures) > 0; failed != tt.fail {
				t.Errorf("Linear failed: %v (%q), want %v", failed, r.failures, tt.fail)
			}
		})
	}
}

func TestBudgetCheck(t *testing.T) {
	b := Budget{Fixed: Cost{CPU: time.Second, Bytes: 100, Objects: 10}, PerByte: Cost{CPU: time.Millisecond, Bytes: 2, Objects: 1}}
	tests := []struct {
		n    int
		cost Cost
		want string
	}{
		{10, Cost{CPU: time.Second + 10*time.Millisecond, Bytes: 120, Objects: 20}, ""},
		{10, Cost{CPU: time.Second + 11*time.Millisecond}, "reading 10 bytes cost 1.011s CPU, 0 bytes in 0 objects, over the budget of 1.01s CPU, 120 bytes in 20 objects"},
		{10, Cost{Bytes: 121}, "reading 10 bytes cost 0s CPU, 121 bytes in 0 objects, over the budget of 1.01s CPU, 120 bytes in 20 objects"},
		{10, Cost{Objects: 21}, "reading 10 bytes cost 0s CPU, 0 bytes in 21 objects, over the budget of 1.01s CPU, 120 bytes in 20 objects"},
	}
	for _, tt := range tests {
		got := ""
		if err := b.Check(tt.n, tt.cost); err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("Check(%d, %v) = %q, want %q", tt.n, tt.cost, got, tt.want)
		}
	}
}

func TestMeasure(t *testing.T) {
	c := Measure(func() { sink = [][]byte{make([]byte, 1<<20)} })
	if c.Bytes < 1<<20 || c.Bytes > 1<<20+4096 || c.Objects < 1 || c.Objects > 4 {
		t.Errorf("a 1 MB allocation measured as %v", c)
	}
	// Ten million steps of a hash take milliseconds of CPU however busy
	// the machine is; a sleep takes none.
	work := func() {
		h := uint64(1)
		for i := 0; i < 10_000_000; i++ {
			h = h*6364136223846793005 + 1442695040888963407
		}
		sinkHash = h
	}
	if c := Measure(work); c.CPU < time.Millisecond {
		t.Errorf("ten million steps measured as %v", c)
	}
	if runtime.GOOS != "linux" {
		return // elsewhere the cost counts wall time (cpu_other.go)
	}
	if c := Measure(func() { time.Sleep(50 * time.Millisecond) }); c.CPU > 10*time.Millisecond {
		t.Errorf("50 ms of sleep measured as %v", c)
	}
}

var sinkHash uint64

func TestItems(t *testing.T) {
	got := string(Items(10))
	for _, want := range []string{"\t\tSYS.T1,\n", "\t\tSYS.T9,\n", "\t\tSYS.PT10 PARTITION P1\n\t)\n)\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("Items(10) lacks %q:\n%s", want, got)
		}
	}
	if long := string(LongItems(1)); !strings.Contains(long, "SYS.T"+strings.Repeat("0", 118)+"1\n") {
		t.Errorf("LongItems(1):\n%s", long)
	}
}
