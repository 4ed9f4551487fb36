// Package cputime reads the CPU time this process has used, for
// benchmarks that report cost as CPU time rather than wall time: on a
// shared machine with a slow disk, a serial benchmark's wall time is
// mostly fsync latency and neighbours, while its CPU time is what the
// work costs a core.
package cputime

import (
	"testing"
	"time"
)

// Process returns the user and system CPU time the process has used so
// far, or 0 where the platform does not report it (Supported is false).
func Process() time.Duration { return process() }

// PerOp reports, when the function it returns is called, the CPU time
// the process spent per operation of b since PerOp was called, as the
// metric cpu-ns/op (nothing where the platform does not report it).
func PerOp(b *testing.B) func() {
	if !Supported {
		return func() {}
	}
	start := Process()
	return func() { b.ReportMetric(float64(Process()-start)/float64(b.N), "cpu-ns/op") }
}
