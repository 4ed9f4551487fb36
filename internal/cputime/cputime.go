// Package cputime reads the CPU time this process has used, for
// benchmarks that report cost as CPU time rather than wall time: on a
// shared machine with a slow disk, a serial benchmark's wall time is
// mostly fsync latency and neighbours, while its CPU time is what the
// work costs a core.
package cputime

import "time"

// Process returns the user and system CPU time the process has used so
// far, or 0 where the platform does not report it (Supported is false).
func Process() time.Duration { return process() }
