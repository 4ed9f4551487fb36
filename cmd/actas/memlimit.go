package main

import (
	"fmt"
	"log/slog"

	"github.com/actas-dev/actas/password"
)

// serve's soft memory limit (docs/operations.md, "Memory").
//
// Every argon2id hash allocates its whole memory cost afresh (about 19
// MiB with the default parameters; golang.org/x/crypto offers no way to
// reuse the buffer), and with the garbage collector's default pacing
// (GOGC=100) the heap may grow to twice what was live at the last
// collection: the hashes running then count as live, so a sign-in flood
// let the heap reach about twice the hashes' memory plus twice the rest,
// and the process's peak RSS about 200 MiB on two CPUs. A soft limit
// makes the collector run before that.

// memoryLimitBase is what the limit allows beside the hashes. The heap
// passes the limit by up to one round of hashes (a hash allocates its
// buffer in one piece, and the hashes running may each start one while
// a collection marks), so the peak is about memoryLimitBase + 3 ×
// concurrency × memory: under a flood of 1,000 sign-ins on two CPUs
// 130-134 MiB of RSS with 32 MiB here, 150-165 MiB with 48 MiB
// (docs/performance.md, round 4). The process at rest and the
// goroutines, buffers and requests of those 1,000 connections take some
// 45 MiB of it, so the collector still has room for finished hashes'
// buffers between collections.
const memoryLimitBase = 32 << 20

// memoryLimit is the limit serve derives: room for concurrency hashes
// running, as much again for finished hashes' buffers awaiting
// collection (so that the collector runs about once per round of
// hashes, not once per hash), and memoryLimitBase.
func memoryLimit(concurrency int, p password.Params) int64 {
	return memoryLimitBase + 2*int64(concurrency)*int64(p.Memory)<<10
}

// setMemoryLimit gives the runtime the derived limit unless the operator
// set GOMEMLIMIT (which the runtime has applied already, "off"
// included), and logs which limit applies.
func (m *Main) setMemoryLimit(h *password.Hasher, log *slog.Logger) {
	if v := m.Getenv("GOMEMLIMIT"); v != "" {
		log.Info("memory limit set by GOMEMLIMIT", "memory_limit", v)
		return
	}
	conc, _ := h.Limits()
	limit := memoryLimit(conc, h.Params())
	if m.SetMemoryLimit != nil {
		m.SetMemoryLimit(limit)
	}
	log.Info("memory limit derived from hash_concurrency", "memory_limit", fmt.Sprintf("%dMiB", limit>>20),
		"hash_concurrency", conc, "hash_memory_kib", h.Params().Memory)
}
