package main

import (
	"fmt"
	"testing"
)

// TestReplicasShareTheThrottleBudget: two replicas on one PostgreSQL
// database, wrong guesses alternated between them, stop where one
// replica alone would: at the (user, address) budget from one address,
// and at the per-user budget from many (counts shared in the store).
func TestReplicasShareTheThrottleBudget(t *testing.T) {
	h := pgHarness(t)
	h.env["ACTAS_TRUSTED_PROXIES"] = "127.0.0.1"
	ten := h.createTenant("acme")
	h.createUser("acme", "alice", "alice-password")
	h.createUser("acme", "bob", "bob-password")
	const userBudget = 8
	if _, errOut, code := h.cli("", "tenant", "set", "acme", fmt.Sprintf("throttle_user_failures=%d", userBudget)); code != 0 {
		t.Fatalf("tenant set: %d %s", code, errOut)
	}
	rs := []*replica{h.serveReplica("a", h.db), h.serveReplica("b", h.db)}

	// guess alternates replicas until the first 429 and returns how many
	// passwords were checked (401s) before it.
	guess := func(user string, xff func(int) string) int {
		t.Helper()
		for n := 0; n < 4*userBudget; n++ {
			r := rs[n%2].mustCall(t, "POST", "/auth/token", map[string]string{"username": user, "password": fmt.Sprintf("guess-%d", n)},
				"X-API-Key", ten.APIKey, "X-Forwarded-For", xff(n))
			switch r.status {
			case 401:
			case 429:
				if r.header.Get("Retry-After") == "" {
					t.Errorf("429 without Retry-After")
				}
				// The other replica refuses too.
				if o := rs[(n+1)%2].mustCall(t, "POST", "/auth/token", map[string]string{"username": user, "password": "x"},
					"X-API-Key", ten.APIKey, "X-Forwarded-For", xff(n)); o.status != 429 {
					t.Errorf("replica %s after %s's 429: %d", rs[(n+1)%2].name, rs[n%2].name, o.status)
				}
				return n
			default:
				t.Fatalf("guess %d: %d %s", n, r.status, r.body)
			}
		}
		t.Fatalf("no 429 after %d guesses at %s", 4*userBudget, user)
		return 0
	}
	if n := guess("alice", func(int) string { return "203.0.113.1" }); n != 5 {
		t.Errorf("one address, two replicas: %d passwords checked, want the pair budget 5", n)
	}
	if n := guess("bob", func(i int) string { return fmt.Sprintf("198.51.100.%d", i+1) }); n != userBudget {
		t.Errorf("many addresses, two replicas: %d passwords checked, want the user budget %d", n, userBudget)
	}
	// A right password from the pair that guessed, once its delay has
	// passed on the clock, clears the shared pair on both replicas.
	h.clock.Advance(2 * 60e9)
	if r := rs[0].mustCall(t, "POST", "/auth/token", map[string]string{"username": "alice", "password": "alice-password"},
		"X-API-Key", ten.APIKey, "X-Forwarded-For", "203.0.113.1"); r.status != 200 {
		t.Fatalf("right password after the delay: %d %s", r.status, r.body)
	}
	// The pair starts afresh: two failures without a delay (uncleared,
	// the second would wait). The user count (5 + 2) stays below 8.
	for n := range 2 {
		if r := rs[(n+1)%2].mustCall(t, "POST", "/auth/token", map[string]string{"username": "alice", "password": "wrong"},
			"X-API-Key", ten.APIKey, "X-Forwarded-For", "203.0.113.1"); r.status != 401 {
			t.Fatalf("failure %d after the success: %d", n+1, r.status)
		}
	}
}

// TestSignInOddUsernamesOnPostgres: names that can be no user's (a NUL,
// which PostgreSQL text cannot hold; control characters) get the same
// 401 as any unknown user, not a storage error.
func TestSignInOddUsernamesOnPostgres(t *testing.T) {
	h := pgHarness(t)
	ten := h.createTenant("acme")
	r := h.serveReplica("a", h.db)
	for _, name := range []string{"al\x00ice", "al\nice", "alice\u200b"} {
		res := r.mustCall(t, "POST", "/auth/token", map[string]string{"username": name, "password": "x"}, "X-API-Key", ten.APIKey)
		if res.status != 401 {
			t.Errorf("sign in as %q: %d %s", name, res.status, res.body)
		}
	}
}
