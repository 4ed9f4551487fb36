package main

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Sign-in throttling end to end: failures are counted, not attempts
// (SPEC §3), usernames are one canonical identity (SPEC §10), and the
// client address is the peer's unless a trusted proxy says otherwise.

// burst sends n sign-ins at once; body(i) and xff(i) ("" for none) make
// request i. It returns the statuses by request.
func (h *harness) burst(apiKey string, n int, body func(int) map[string]string, xff func(int) string) []response {
	h.t.Helper()
	rs := make([]response, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			rs[i] = h.do("POST", "/auth/token", body(i), "X-API-Key", apiKey, "X-Forwarded-For", xff(i))
		})
	}
	close(start)
	wg.Wait()
	return rs
}

// hashesRun reads from /metrics how many password hashes have run: waits
// for a slot observed, less those refused.
func (h *harness) hashesRun() int {
	h.t.Helper()
	r := h.do("GET", "/metrics", nil)
	if r.status != 200 {
		h.t.Fatalf("/metrics: %d", r.status)
	}
	var waits, rejected int
	sc := bufio.NewScanner(bytes.NewReader(r.body))
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		n, _ := strconv.ParseFloat(f[1], 64)
		switch {
		case f[0] == "actas_password_hash_wait_seconds_count":
			waits = int(n)
		case strings.HasPrefix(f[0], "actas_password_hash_rejected_total"):
			rejected += int(n)
		}
	}
	return waits - rejected
}

func statusCounts(rs []response) map[int]int {
	c := map[int]int{}
	for _, r := range rs {
		c[r.status]++
	}
	return c
}

func checkRetryAfter(t *testing.T, rs []response) {
	t.Helper()
	for _, r := range rs {
		if (r.status == 429 || r.status == 503) && r.header.Get("Retry-After") == "" {
			t.Errorf("%d without Retry-After: %s", r.status, r.body)
		}
	}
}

func alwaysIP(ip string) func(int) string { return func(int) string { return ip } }
func eachIP(i int) string                 { return fmt.Sprintf("198.51.100.%d", i+1) }

// TestSignInConcurrentRightPasswords: a service account signed in by 50
// workers at once, from one address and from 50, gets 200 (or 503 when
// the hasher is saturated), never 429.
func TestSignInConcurrentRightPasswords(t *testing.T) {
	h := newHarness(t)
	h.serve("--trusted-proxies", "127.0.0.1")
	ten := h.createTenant("acme")
	h.createUser("acme", "svc", "svc-password")
	right := func(int) map[string]string { return map[string]string{"username": "svc", "password": "svc-password"} }
	for name, xff := range map[string]func(int) string{"one address": alwaysIP("192.0.2.1"), "50 addresses": eachIP} {
		t.Run(name, func(t *testing.T) {
			rs := h.burst(ten.APIKey, 50, right, xff)
			c := statusCounts(rs)
			if c[200]+c[503] != 50 || c[200] == 0 {
				t.Fatalf("statuses %v: want only 200 and 503", c)
			}
			checkRetryAfter(t, rs)
		})
	}
}

// TestSignInConcurrentWrongPasswords: 50 parallel wrong guesses at one
// user from one address test at most the pair's budget of passwords
// (counted in the hasher); the rest get 429 with Retry-After.
func TestSignInConcurrentWrongPasswords(t *testing.T) {
	h := newHarness(t)
	h.serve()
	ten := h.createTenant("acme")
	h.createUser("acme", "alice", "alice-password")
	before := h.hashesRun()
	rs := h.burst(ten.APIKey, 50, func(i int) map[string]string {
		return map[string]string{"username": "alice", "password": fmt.Sprintf("guess-%d", i)}
	}, alwaysIP(""))
	hashed := h.hashesRun() - before
	c := statusCounts(rs)
	const budget = 5 // throttle_pair_failures
	if hashed > budget || c[401] != hashed || c[429] != 50-hashed {
		t.Fatalf("hashed %d, statuses %v: want at most %d hashed (each a 401), the rest 429", hashed, c, budget)
	}
	t.Logf("50 parallel wrong guesses: %d hashed, statuses %v", hashed, c)
	checkRetryAfter(t, rs)
	for _, r := range rs {
		if r.status == 429 {
			wantError(t, r, 429, "Too many failed attempts, try again later")
			break
		}
	}
}

// TestSignInConcurrentMixed: 25 workers with the right password and 25
// wrong guesses at once. The workers sign in from one address; the
// guesses come from one other address, or each from its own. Every right
// password gets 200 or 503, and the guesses from one address stop at its
// budget.
func TestSignInConcurrentMixed(t *testing.T) {
	h := newHarness(t)
	h.serve("--trusted-proxies", "127.0.0.1")
	ten := h.createTenant("acme")
	h.createUser("acme", "svc", "svc-password")
	body := func(i int) map[string]string {
		if i%2 == 0 {
			return map[string]string{"username": "svc", "password": "svc-password"}
		}
		return map[string]string{"username": "svc", "password": fmt.Sprintf("guess-%d", i)}
	}
	for name, attacker := range map[string]func(int) string{
		"attacker at one address":  alwaysIP("203.0.113.9"),
		"attacker at 25 addresses": eachIP,
	} {
		t.Run(name, func(t *testing.T) {
			rs := h.burst(ten.APIKey, 50, body, func(i int) string {
				if i%2 == 0 {
					return "192.0.2.1"
				}
				return attacker(i)
			})
			wrong401 := 0
			for i, r := range rs {
				switch {
				case i%2 == 0 && r.status != 200 && r.status != 503:
					t.Errorf("right password %d: %d %s", i, r.status, r.body)
				case i%2 == 1 && r.status == 401:
					wrong401++
				case i%2 == 1 && r.status != 429 && r.status != 503:
					t.Errorf("wrong password %d: %d %s", i, r.status, r.body)
				}
			}
			if name == "attacker at one address" && wrong401 > 5 {
				t.Errorf("%d guesses from one address were checked, budget 5", wrong401)
			}
			checkRetryAfter(t, rs)
		})
	}
}

// TestSignInCanonicalUsernames: the PRECIS UsernameCaseMapped form is the
// account: case, width and composition variants reach it and share its
// throttle budget; look-alikes that would be a second account are refused
// at creation (exit 1).
func TestSignInCanonicalUsernames(t *testing.T) {
	h := newHarness(t)
	h.serve()
	ten := h.createTenant("acme")
	h.createUser("acme", "Alice", "alice-password")
	h.createUser("acme", "caf\u00e9", "cafe-password") // NFC
	h.createUser("acme", "kelvin", "kelvin-password")

	for _, tc := range []struct{ name, why string }{
		{"caf\u0065\u0301", "NFD of an existing user"},
		{"ＡＬＩＣＥ", "fullwidth of an existing user"},
		{"ALICE", "case variant of an existing user"},
		{"\u212Aelvin", "Kelvin sign of an existing user"},
	} {
		out, errOut, code := h.cli("", "user", "create", "--tenant", "acme", "--username", tc.name, "--password", "some-password-1")
		if code != 1 || !strings.Contains(errOut, "already has a user") {
			t.Errorf("create %q (%s): exit %d, %q %q; want 1 and a conflict", tc.name, tc.why, code, out, errOut)
		}
	}
	for _, tc := range []struct{ name, want string }{
		{"\u0430lice", "mixes the scripts"}, // Cyrillic а
		{"alice\u200b", "may not contain"},  // zero-width space
		{"bob smith", "may not contain"},
		{"", "empty"},
		{strings.Repeat("a", 129), "longer than 128"},
	} {
		_, errOut, code := h.cli("", "user", "create", "--tenant", "acme", "--username", tc.name, "--password", "some-password-1")
		if tc.name == "" {
			if code == 0 {
				t.Errorf("empty username created")
			}
			continue
		}
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("create %q: exit %d, %q; want 1 and %q", tc.name, code, errOut, tc.want)
		}
	}
	// Latin with Han is one name, as are 128 characters of any width.
	h.createUser("acme", "alice李", "some-password-1")
	h.createUser("acme", strings.Repeat("é", 128), "some-password-1")

	for _, tc := range []struct{ login, pw, want string }{
		{"caf\u0065\u0301", "cafe-password", "caf\u00e9"},
		{"ａｌｉｃｅ", "alice-password", "alice"},
		{"ALICE", "alice-password", "alice"},
		{"\u212Aelvin", "kelvin-password", "kelvin"},
	} {
		body := h.signIn(ten.APIKey, tc.login, tc.pw)
		if got := str(body, "username"); got != tc.want {
			t.Errorf("sign in as %q: username %q, want %q", tc.login, got, tc.want)
		}
	}
	// Look-alikes do not reach the account.
	for _, login := range []string{"\u0430lice", "alice\u200b"} {
		wantError(t, h.do("POST", "/auth/token", map[string]string{"username": login, "password": "alice-password"}, "X-API-Key", ten.APIKey), 401, "Incorrect username or password")
	}
	// Every spelling of one account spends one budget.
	for _, login := range []string{"alice", "ALICE", "ａｌｉｃｅ", "Alice", "aLiCe"} {
		wantError(t, h.do("POST", "/auth/token", map[string]string{"username": login, "password": "wrong"}, "X-API-Key", ten.APIKey), 401, "")
	}
	wantError(t, h.do("POST", "/auth/token", map[string]string{"username": "ＡＬＩＣＥ", "password": "alice-password"}, "X-API-Key", ten.APIKey), 429, "Too many failed attempts, try again later")
}

// TestSignInTrustedProxies: by default X-Forwarded-For changes nothing,
// so a client cannot escape its pair budget by spoofing it; behind a
// trusted proxy it is the client address the throttle keys on.
func TestSignInTrustedProxies(t *testing.T) {
	bad := func(int) map[string]string { return map[string]string{"username": "alice", "password": "wrong"} }
	t.Run("untrusted by default", func(t *testing.T) {
		h := newHarness(t)
		h.serve()
		ten := h.createTenant("acme")
		h.createUser("acme", "alice", "alice-password")
		for i := range 5 {
			wantError(t, h.do("POST", "/auth/token", bad(i), "X-API-Key", ten.APIKey, "X-Forwarded-For", eachIP(i)), 401, "")
		}
		wantError(t, h.do("POST", "/auth/token", bad(0), "X-API-Key", ten.APIKey, "X-Forwarded-For", eachIP(99)), 429, "")
	})
	t.Run("trusted proxy", func(t *testing.T) {
		h := newHarness(t)
		h.serve("--trusted-proxies", "127.0.0.0/8")
		ten := h.createTenant("acme")
		h.createUser("acme", "alice", "alice-password")
		for range 5 {
			wantError(t, h.do("POST", "/auth/token", bad(0), "X-API-Key", ten.APIKey, "X-Forwarded-For", "203.0.113.5"), 401, "")
		}
		wantError(t, h.do("POST", "/auth/token", bad(0), "X-API-Key", ten.APIKey, "X-Forwarded-For", "203.0.113.5"), 429, "")
		// The victim, at another client address behind the same proxy,
		// is not held back by the attacker's pair.
		r := h.do("POST", "/auth/token", map[string]string{"username": "alice", "password": "alice-password"}, "X-API-Key", ten.APIKey, "X-Forwarded-For", "192.0.2.44")
		if r.status != 200 {
			t.Fatalf("victim behind the proxy: %d %s", r.status, r.body)
		}
	})
}
