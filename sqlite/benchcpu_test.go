package sqlite_test

import (
	"testing"

	"github.com/actas-dev/actas/internal/cputime"
)

// cpuPerOp reports, when the function it returns is called, the CPU time
// (user and system) the process spent per operation since cpuPerOp was
// called. On a shared machine with a slow disk, wall time per write is
// mostly fsync latency and neighbours; CPU time is what the writer's work
// costs.
func cpuPerOp(b *testing.B) func() {
	if !cputime.Supported {
		return func() {}
	}
	start := cputime.Process()
	return func() { b.ReportMetric(float64(cputime.Process()-start)/float64(b.N), "cpu-ns/op") }
}
