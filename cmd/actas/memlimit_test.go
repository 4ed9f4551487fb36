package main

import (
	"cmp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/actas-dev/actas/issuer"
	"github.com/actas-dev/actas/password"
)

// The documented figures: two OWASP hashes at once (the default on two
// CPUs) give 108 MiB with nothing cached, about 122 MiB with the default
// caches full (serve --help, docs/operations.md "Memory").
func TestMemoryLimitOfTheDefaults(t *testing.T) {
	if got, want := memoryLimit(2, password.OWASP, 0, 0), int64(108)<<20; got != want {
		t.Fatalf("memoryLimit(2, OWASP, empty caches) = %d MiB, want %d MiB", got>>20, want>>20)
	}
	caches := int64(issuer.DefaultTenantCache)*4<<10 + int64(issuer.DefaultSigningKeyCache)*6<<10
	full := memoryLimit(2, password.OWASP, issuer.DefaultTenantCache, issuer.DefaultSigningKeyCache)
	if want := int64(108)<<20 + caches; full != want {
		t.Fatalf("memoryLimit(2, OWASP, full default caches) = %d, want %d", full, want)
	}
	if (full+1<<19)>>20 != 122 {
		t.Fatalf("memoryLimit with the default caches full is %.1f MiB, documented as about 122", float64(full)/(1<<20))
	}
	if got, want := memoryLimit(16, password.OWASP, 0, 0), int64(32+16*2*19)<<20; got != want {
		t.Fatalf("memoryLimit(16, OWASP) = %d MiB, want %d MiB", got>>20, want>>20)
	}
	// The CLI's defaults (and "auto") are the issuer's.
	for _, v := range []string{"", "auto"} {
		cfg := &Config{}
		for _, f := range configFields {
			if f.Name == "tenant_cache" || f.Name == "signing_key_cache" {
				if err := f.set(cfg, cmp.Or(v, f.Default)); err != nil {
					t.Fatal(err)
				}
			}
		}
		checkCaches(t, cfg)
	}
}

func checkCaches(t *testing.T, cfg *Config) {
	t.Helper()
	if cfg.TenantCache != issuer.DefaultTenantCache || cfg.SigningKeyCache != issuer.DefaultSigningKeyCache {
		t.Fatalf("serve's default caches %d/%d, the issuer's %d/%d", cfg.TenantCache, cfg.SigningKeyCache,
			issuer.DefaultTenantCache, issuer.DefaultSigningKeyCache)
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
	ten := h.createTenant("acme")
	h.serve("--hash-concurrency", "3")
	want := int64(32<<20 + 2*3*1<<20)
	if got := rec.calls(); len(got) != 1 || got[0] != want {
		t.Fatalf("SetMemoryLimit calls %v, want one with %d (32 MiB + 2 × 3 × 1 MiB, nothing cached)", got, want)
	}
	if logs := h.logs.String(); !strings.Contains(logs, "memory_limit=38MiB") {
		t.Fatalf("the derived limit is not logged:\n%s", logs)
	}
	// A tenant cached and its two keys unsealed raise it, at the next
	// derivation.
	h.createUser("acme", "ann", "correct horse battery")
	h.signIn(ten.APIKey, "ann", "correct horse battery")
	want += 4<<10 + 2*6<<10
	// serve derives it every 10 ms here (harness); a minute is far more
	// than enough on any machine.
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		for _, n := range rec.calls() {
			if n == want {
				return
			}
		}
	}
	t.Fatalf("SetMemoryLimit calls %v: none with %d (one tenant and two private keys cached)", rec.calls(), want)
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
