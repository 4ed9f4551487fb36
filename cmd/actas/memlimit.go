package main

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/actas-dev/actas/issuer"
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

// What the limit allows for each entry of the bounded caches: a cached
// tenant (3.7 KiB measured by TestTenantMemory in issuer) and an unsealed
// private key (5.3 KiB for RS256, the largest).
const (
	tenantCacheEntryBytes = 4 << 10
	signingKeyEntryBytes  = 6 << 10
)

// memoryLimitEvery is how often serve derives the limit again from what
// the caches hold (Main.MemoryLimitEvery, if set, in tests).
const memoryLimitEvery = 10 * time.Second

// memoryLimit is the limit serve derives: room for concurrency hashes
// running, as much again for finished hashes' buffers awaiting
// collection (so that the collector runs about once per round of
// hashes, not once per hash), the tenants and private keys cached, and
// memoryLimitBase. Without the caches in it, a server whose caches hold
// many tenants would collect ever more often as they filled; with their
// configured sizes instead of what they hold, a server with few tenants
// would let a sign-in flood's garbage take that room.
func memoryLimit(concurrency int, p password.Params, tenants, signingKeys int) int64 {
	return memoryLimitBase + 2*int64(concurrency)*int64(p.Memory)<<10 +
		int64(tenants)*tenantCacheEntryBytes + int64(signingKeys)*signingKeyEntryBytes
}

// followMemoryLimit gives the runtime the derived limit unless the
// operator set GOMEMLIMIT (which the runtime has applied already, "off"
// included), logs which limit applies, and until ctx ends derives it
// again every memoryLimitEvery as the caches fill.
func (m *Main) followMemoryLimit(ctx context.Context, iss *issuer.Issuer, log *slog.Logger) {
	if v := m.Getenv("GOMEMLIMIT"); v != "" {
		log.Info("memory limit set by GOMEMLIMIT", "memory_limit", v)
		return
	}
	h := iss.Hasher()
	conc, _ := h.Limits()
	last := int64(-1)
	set := func() int64 {
		tenants, keys := iss.Cached()
		limit := memoryLimit(conc, h.Params(), tenants, keys)
		if limit != last && m.SetMemoryLimit != nil {
			m.SetMemoryLimit(limit)
		}
		last = limit
		return limit
	}
	limit := set()
	log.Info("memory limit derived from hash_concurrency and the caches", "memory_limit", fmt.Sprintf("%dMiB", limit>>20),
		"hash_concurrency", conc, "hash_memory_kib", h.Params().Memory)
	go func() {
		t := time.NewTicker(cmp.Or(m.MemoryLimitEvery, memoryLimitEvery))
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				set()
			}
		}
	}()
}
