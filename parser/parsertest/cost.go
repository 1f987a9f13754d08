package parsertest

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// Cost is what one call cost: the CPU time of the thread that ran it and
// the heap it allocated. CPU time, unlike wall time, does not grow when
// other processes load the machine, so bounds on it do not flake.
type Cost struct {
	CPU     time.Duration
	Bytes   uint64 // bytes allocated on the heap
	Objects uint64 // heap objects allocated
}

func (c Cost) String() string {
	return fmt.Sprintf("%v CPU, %d bytes in %d objects", c.CPU, c.Bytes, c.Objects)
}

// Measure runs f on a locked OS thread and returns its cost. Allocations
// are read with runtime.ReadMemStats, which flushes the per-thread caches
// (runtime/metrics would count a cache's earlier allocations when it is
// refilled); they are exact unless other goroutines allocate meanwhile. The
// CPU time excludes the garbage collector's own threads.
func Measure(f func()) Cost {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu := threadCPU()
	f()
	cpu = threadCPU() - cpu
	runtime.ReadMemStats(&after)
	return Cost{CPU: cpu, Bytes: after.TotalAlloc - before.TotalAlloc, Objects: after.Mallocs - before.Mallocs}
}

// Budget bounds the cost of reading an input of n bytes: Fixed plus
// PerByte times n, for each of CPU time, bytes and objects.
type Budget struct {
	Fixed, PerByte Cost
}

// Check returns an error naming what went over the budget for an input of
// n bytes, or nil.
func (b Budget) Check(n int, c Cost) error {
	limit := Cost{
		CPU:     b.Fixed.CPU + time.Duration(n)*b.PerByte.CPU,
		Bytes:   b.Fixed.Bytes + uint64(n)*b.PerByte.Bytes,
		Objects: b.Fixed.Objects + uint64(n)*b.PerByte.Objects,
	}
	if c.CPU > limit.CPU || c.Bytes > limit.Bytes || c.Objects > limit.Objects {
		return fmt.Errorf("reading %d bytes cost %v, over the budget of %v", n, c, limit)
	}
	return nil
}

// ReadBudget bounds what reading n bytes of any aku.conf may cost, parsed
// (parser.Parse) or also checked (conf.Parse): participle's repetitions
// cost about 2 µs of CPU, 1 KB and 10 allocations per byte at worst
// (properties, values, nested items), and the checks less; the per-byte
// bounds leave a factor of ten or more.
var ReadBudget = Budget{
	Fixed:   Cost{CPU: 100 * time.Millisecond, Bytes: 256 << 10, Objects: 4000},
	PerByte: Cost{CPU: 20 * time.Microsecond, Bytes: 4 << 10, Objects: 100},
}

// Growth is how much larger the second input of Linear is, and MaxRatio
// how much more it may cost: a linear cost grows 4 times, a quadratic one
// 16 times; 8 is as far from either in ratio, so that neither the noise of
// CPU time on a busy machine (up to twice the linear ratio has been seen)
// nor a quadratic regression falls on the wrong side.
const (
	Growth   = 4
	MaxRatio = 8
)

// noise is the cost below which measures are too small to compare: CPU
// time has a little jitter.
var noise = Cost{CPU: time.Millisecond, Bytes: 16 << 10, Objects: 64}

// Shape is an input that grows in one direction: Build(n) repeats
// something n times; N is the n at which Linear compares.
type Shape struct {
	Name  string
	N     int
	Build func(n int) []byte
}

// Ceiling is the most CPU time one read in Linear may take.
const Ceiling = 5 * time.Second

// LinearShapes runs Linear on every shape, in a subtest named after it.
func LinearShapes(t *testing.T, shapes []Shape, read func(src []byte)) {
	t.Helper()
	for _, s := range shapes {
		t.Run(s.Name, func(t *testing.T) { Linear(t, s.Build, s.N, Ceiling, read) })
	}
}

// Linear checks that read costs about Growth times as much for
// build(Growth*n) as for build(n): at most MaxRatio times as much, in CPU
// time (the least of three interleaved runs, with the garbage collector
// off) and in allocations, give or take noise. A run that takes more CPU
// than ceiling fails at once, so that a quadratic regression fails in
// seconds, not minutes.
func Linear(t testing.TB, build func(n int) []byte, n int, ceiling time.Duration, read func(src []byte)) {
	t.Helper()
	small, large := build(n), build(Growth*n)
	// Without collections during a run, CPU time is the reader's own work:
	// collections triggered by the heap's size would add time that grows
	// faster than the input and varies from run to run.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	var costs [2]Cost
	for run := 0; run < 3; run++ {
		for i, src := range [][]byte{small, large} {
			runtime.GC() // each run starts with an empty heap
			c := Measure(func() { read(src) })
			if c.CPU > ceiling {
				t.Fatalf("reading %d bytes took %v CPU, more than %v", len(src), c.CPU, ceiling)
			}
			if run == 0 || c.CPU < costs[i].CPU {
				costs[i].CPU = c.CPU
			}
			if run == 0 {
				costs[i].Bytes, costs[i].Objects = c.Bytes, c.Objects
			}
		}
	}
	s, l := costs[0], costs[1]
	if l.CPU > MaxRatio*s.CPU+noise.CPU || l.Bytes > MaxRatio*s.Bytes+noise.Bytes || l.Objects > MaxRatio*s.Objects+noise.Objects {
		t.Errorf("growing the input from %d to %d bytes took the cost from %v to %v: want at most %d times as much",
			len(small), len(large), s, l, MaxRatio)
	}
}
