package main

import (
	"strings"
	"sync"
	"testing"

	"github.com/actas-dev/actas/password"
)

// The documented figure: two OWASP hashes at once (the default on two
// CPUs) give 108 MiB (serve --help, docs/operations.md "Memory").
func TestMemoryLimitOfTheDefaults(t *testing.T) {
	if got, want := memoryLimit(2, password.OWASP), int64(108)<<20; got != want {
		t.Fatalf("memoryLimit(2, OWASP) = %d MiB, want %d MiB", got>>20, want>>20)
	}
	if got, want := memoryLimit(16, password.OWASP), int64(32+16*2*19)<<20; got != want {
		t.Fatalf("memoryLimit(16, OWASP) = %d MiB, want %d MiB", got>>20, want>>20)
	}
}

// memLimits records what serve passes to Main.SetMemoryLimit.
type memLimits struct {
	mu  sync.Mutex
	got []int64
}

func (m *memLimits) set(n int64) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.got = append(m.got, n)
	return 0
}

func (m *memLimits) calls() []int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]int64(nil), m.got...)
}

func TestServeDerivesTheMemoryLimitFromHashConcurrency(t *testing.T) {
	h := newHarness(t)
	h.hash = &password.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32} // 1 MiB
	rec := &memLimits{}
	h.memLimit = rec.set
	h.serve("--hash-concurrency", "3")
	want := int64(32<<20 + 2*3*1<<20)
	if got := rec.calls(); len(got) != 1 || got[0] != want {
		t.Fatalf("SetMemoryLimit calls %v, want one with %d (32 MiB + 2 × 3 × 1 MiB)", got, want)
	}
	if logs := h.logs.String(); !strings.Contains(logs, "memory_limit=38MiB") {
		t.Fatalf("the derived limit is not logged:\n%s", logs)
	}
}

func TestServeLeavesGOMEMLIMITAlone(t *testing.T) {
	for _, v := range []string{"300MiB", "off"} {
		t.Run(v, func(t *testing.T) {
			h := newHarness(t)
			h.env["GOMEMLIMIT"] = v
			rec := &memLimits{}
			h.memLimit = rec.set
			h.serve()
			if got := rec.calls(); len(got) != 0 {
				t.Fatalf("with GOMEMLIMIT=%s serve set the limit to %v", v, got)
			}
			if logs := h.logs.String(); !strings.Contains(logs, "memory limit set by GOMEMLIMIT") || !strings.Contains(logs, "memory_limit="+v) {
				t.Fatalf("the operator's limit is not logged:\n%s", logs)
			}
		})
	}
}
