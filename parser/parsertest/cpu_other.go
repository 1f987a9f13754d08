//go:build !linux

package parsertest

import "time"

var start = time.Now()

// threadCPU is the time since the process started: other systems have no
// RUSAGE_THREAD, so there the cost is wall time and may flake under load.
func threadCPU() time.Duration { return time.Since(start) }
