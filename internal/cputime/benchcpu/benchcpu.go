// Package benchcpu reports a benchmark's CPU time per operation. It is
// apart from cputime so that binaries which read the clock (actas-bench)
// do not link package testing.
package benchcpu

import (
	"testing"

	"github.com/actas-dev/actas/internal/cputime"
)

// PerOp reports, when the function it returns is called, the CPU time
// the process spent per operation of b since PerOp was called, as the
// metric cpu-ns/op (nothing where the platform does not report it).
func PerOp(b *testing.B) func() {
	if !cputime.Supported {
		return func() {}
	}
	start := cputime.Process()
	return func() { b.ReportMetric(float64(cputime.Process()-start)/float64(b.N), "cpu-ns/op") }
}
