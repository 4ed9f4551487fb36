//go:build unix

package httpapi_test

import (
	"syscall"
	"testing"
	"time"
)

// cpuPerOp reports, when the function it returns is called, the CPU time
// (user and system) the process spent per operation since cpuPerOp was
// called: on a shared machine with a slow disk the wall time of a
// durable write is mostly fsync latency and neighbours, the CPU time is
// what the work costs (and what a server core-second buys).
func cpuPerOp(b *testing.B) func() {
	start := cpuTime()
	return func() { b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op") }
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
