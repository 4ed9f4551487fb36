package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/actas-dev/actas/token"
)

// backends runs f on SQLite, and on PostgreSQL too when
// ACTAS_TEST_POSTGRES is set (in a schema of its own).
func backends(t *testing.T, f func(t *testing.T, h *harness)) {
	t.Run("sqlite", func(t *testing.T) { f(t, newHarness(t)) })
	t.Run("postgres", func(t *testing.T) {
		db := pgSchema(t) // skips without ACTAS_TEST_POSTGRES
		h := newHarness(t)
		h.db = db
		f(t, h)
	})
}

type keyInfo struct {
	Tenant      string  `json:"tenant"`
	KID         string  `json:"kid"`
	Use         string  `json:"use"`
	State       string  `json:"state"`
	ActivateAt  *string `json:"activateAt"`
	RetireUntil *string `json:"retireUntil"`
}

type retireAnswer struct {
	Tenant           string   `json:"tenant"`
	KID              string   `json:"kid"`
	Use              string   `json:"use"`
	State            string   `json:"state"`
	RetireUntil      string   `json:"retireUntil"`
	AlreadyWithdrawn bool     `json:"alreadyWithdrawn"`
	Replacement      *keyInfo `json:"replacement"`
	RevokedSessions  int      `json:"revokedSessions"`
}

func (h *harness) keys(tenant string) map[string]keyInfo {
	h.t.Helper()
	var v struct {
		Keys []keyInfo `json:"keys"`
	}
	h.mustCLI(&v, "keys", "list", "--tenant", tenant)
	out := map[string]keyInfo{}
	for _, k := range v.Keys {
		out[k.KID] = k
	}
	return out
}

func (h *harness) jwksKIDs(ten tenantInfo) []string {
	h.t.Helper()
	r := h.do("GET", "/"+ten.UserPoolID+"/.well-known/jwks.json", nil)
	if r.status != 200 {
		h.t.Fatalf("jwks: %d %s", r.status, r.body)
	}
	var v struct {
		Keys []struct {
			KID string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(r.body, &v); err != nil {
		h.t.Fatal(err)
	}
	var kids []string
	for _, k := range v.Keys {
		kids = append(kids, k.KID)
	}
	return kids
}

// feedUntil follows the feed from after until it has given n
// revocations (a revocation made by the CLI reaches the server's feed
// with its next sync of the store, within a second).
func (h *harness) feedUntil(ten tenantInfo, after int64, n int) []string {
	h.t.Helper()
	var ids []string
	deadline := time.Now().Add(5 * time.Second)
	for len(ids) < n && time.Now().Before(deadline) {
		f := h.feed(ten, after, 1)
		for _, e := range f.Revocations {
			ids = append(ids, e.ID)
		}
		after = f.Cursor
	}
	if len(ids) != n {
		h.t.Fatalf("feed gave %d revocations %v, want %d", len(ids), ids, n)
	}
	return ids
}

func kidOf(t *testing.T, jwt string) string { return str(headerOf(t, jwt), "kid") }

// refresh posts a refresh, with the access token as cross-check if given.
func (h *harness) refresh(ten tenantInfo, refreshToken, accessToken string) response {
	h.t.Helper()
	s := map[string]string{"refreshToken": refreshToken}
	if accessToken != "" {
		s["accessToken"] = accessToken
	}
	return h.do("POST", "/auth/token", map[string]any{"session": s}, "X-API-Key", ten.APIKey)
}

// TestKeyRetire: actas keys retire withdraws a signing key at once: out
// of JWKS, no longer signing (a replacement signs at once), and every
// token it signed refused by actas, with or without revoking sessions.
func TestKeyRetire(t *testing.T) {
	backends(t, func(t *testing.T, h *harness) {
		h.serve()
		ten := h.createTenant("acme")
		other := h.createTenant("globex")
		h.createUser("acme", "alice", "alice-password")
		h.createUser("globex", "bob", "bob-password")
		s := sessionOf(t, h.signIn(ten.APIKey, "alice", "alice-password"))
		bs := sessionOf(t, h.signIn(other.APIKey, "bob", "bob-password"))
		accessKID, idKID := kidOf(t, str(s, "accessToken")), kidOf(t, str(s, "authorization"))
		if a := h.introspect(ten, str(s, "accessToken")); a["active"] != true {
			t.Fatalf("fresh token inactive: %v", a)
		}

		// Withdraw the access key, without revoking sessions.
		var r retireAnswer
		h.mustCLI(&r, "keys", "retire", accessKID)
		if r.Tenant != "acme" || r.KID != accessKID || r.State != "withdrawn" || r.AlreadyWithdrawn ||
			r.Replacement == nil || r.Replacement.Use != "access" || r.Replacement.State != "active" || r.RevokedSessions != 0 {
			t.Fatalf("retire = %+v", r)
		}
		repl := r.Replacement.KID
		kids := h.jwksKIDs(ten)
		if slices.Contains(kids, accessKID) || !slices.Contains(kids, repl) || !slices.Contains(kids, idKID) {
			t.Fatalf("JWKS after retire = %v (withdrawn %s, replacement %s)", kids, accessKID, repl)
		}
		if st := h.keys("acme"); st[accessKID].State != "withdrawn" || st[repl].State != "active" || st[idKID].State != "active" {
			t.Fatalf("keys list = %+v", st)
		}
		// Tokens it signed are refused at once, everywhere actas takes one.
		if a := h.introspect(ten, str(s, "accessToken")); a["active"] != false {
			t.Fatalf("token of a withdrawn key still active: %v", a)
		}
		wantError(t, h.refresh(ten, str(s, "refreshToken"), str(s, "accessToken")), 401, "")
		// The session itself lives on: a refresh without the old token
		// gets tokens of the replacement.
		rr := h.refresh(ten, str(s, "refreshToken"), "")
		if rr.status != 200 {
			t.Fatalf("refresh: %d %s", rr.status, rr.body)
		}
		ns := sessionOf(t, rr.json(t))
		if kidOf(t, str(ns, "accessToken")) != repl || kidOf(t, str(ns, "authorization")) != idKID {
			t.Fatalf("new tokens signed with %s/%s, want %s/%s", kidOf(t, str(ns, "accessToken")),
				kidOf(t, str(ns, "authorization")), repl, idKID)
		}
		if a := h.introspect(ten, str(ns, "accessToken")); a["active"] != true {
			t.Fatalf("token of the replacement inactive: %v", a)
		}
		// Another tenant is untouched.
		if a := h.introspect(other, str(bs, "accessToken")); a["active"] != true {
			t.Fatalf("other tenant's token inactive: %v", a)
		}

		// Again: nothing changes. Unknown kid: 1. No kid: 2.
		h.mustCLI(&r, "keys", "retire", accessKID)
		if !r.AlreadyWithdrawn || r.Replacement != nil {
			t.Fatalf("retire again = %+v", r)
		}
		if _, errOut, code := h.cli("", "keys", "retire", "nope"); code != 1 || !strings.Contains(errOut, "no signing key") {
			t.Fatalf("retire unknown kid: exit %d %q", code, errOut)
		}
		if _, _, code := h.cli("", "keys", "retire"); code != 2 {
			t.Fatalf("retire without kid: exit %d", code)
		}

		// The ID key, with --revoke-sessions: every session of the tenant ends.
		s2 := sessionOf(t, h.signIn(ten.APIKey, "alice", "alice-password"))
		before := h.feed(ten, 0, 0)
		h.mustCLI(&r, "keys", "retire", idKID, "--revoke-sessions")
		if r.Replacement == nil || r.Replacement.Use != "id" || r.RevokedSessions != 2 {
			t.Fatalf("retire --revoke-sessions = %+v", r)
		}
		for _, tok := range []string{str(ns, "accessToken"), str(s2, "accessToken")} {
			if a := h.introspect(ten, tok); a["active"] != false {
				t.Fatalf("token of a revoked session active: %v", a)
			}
		}
		wantError(t, h.refresh(ten, str(s2, "refreshToken"), ""), 401, "")
		if ids := h.feedUntil(ten, before.Cursor, 2); !slices.Contains(ids, str(claimsOf(t, str(s2, "accessToken")), "origin_jti")) {
			t.Fatalf("feed after the mass revocation = %v", ids)
		}
		if a := h.introspect(other, str(bs, "accessToken")); a["active"] != true {
			t.Fatalf("other tenant's session revoked: %v", a)
		}
		// Signing in again works, with the replacements.
		s3 := sessionOf(t, h.signIn(ten.APIKey, "alice", "alice-password"))
		if kidOf(t, str(s3, "authorization")) != r.Replacement.KID || kidOf(t, str(s3, "accessToken")) != repl {
			t.Fatal("sign-in after retire not signed by the replacements")
		}
		out, _, _ := h.cli("", "audit", "--tenant", "acme", "--action", "key_withdrawn", "--json")
		if n := len(decodeJSONLines(t, out)); n != 3 {
			t.Fatalf("%d key_withdrawn audit events, want 3:\n%s", n, out)
		}
	})
}

// TestKeyRetireDuringRotation: withdrawing the key that signs while a
// rotation is pending bridges to the rotation's next key; withdrawing the
// next key keeps the rotation's schedule with a replacement; and a key
// that left JWKS by rotation (not withdrawn) is still trusted for the
// expired access token a refresh posts back.
func TestKeyRetireDuringRotation(t *testing.T) {
	h, ten := setup(t)
	s := sessionOf(t, h.signIn(ten.APIKey, "alice", "alice-password"))
	old := kidOf(t, str(s, "accessToken"))
	var rot struct {
		Keys []keyInfo `json:"keys"`
	}
	h.mustCLI(&rot, "keys", "rotate", "--tenant", "acme", "--delay", "10m")
	var next, nextID string
	for _, k := range rot.Keys {
		if k.Use == "access" {
			next = k.KID
		} else {
			nextID = k.KID
		}
	}
	// The old access key still signs until the next one activates: withdraw it.
	var r retireAnswer
	h.mustCLI(&r, "keys", "retire", old)
	if r.Replacement == nil || r.Replacement.RetireUntil == nil {
		t.Fatalf("retire of the signing key during a rotation = %+v", r)
	}
	bridge := r.Replacement.KID
	if got := kidOf(t, str(sessionOf(t, h.signIn(ten.APIKey, "alice", "alice-password")), "accessToken")); got != bridge {
		t.Fatalf("signed with %s, want the bridge %s", got, bridge)
	}
	// Withdraw the pending ID key: its replacement activates at its time.
	h.mustCLI(&r, "keys", "retire", nextID)
	if r.Replacement == nil || r.Replacement.State != "next" || r.Replacement.ActivateAt == nil {
		t.Fatalf("retire of a next key = %+v", r)
	}
	nextIDRepl := r.Replacement.KID
	h.clock.Advance(11 * time.Minute)
	s2 := sessionOf(t, h.signIn(ten.APIKey, "alice", "alice-password"))
	if kidOf(t, str(s2, "accessToken")) != next || kidOf(t, str(s2, "authorization")) != nextIDRepl {
		t.Fatalf("after activation signed with %s/%s, want %s/%s", kidOf(t, str(s2, "accessToken")),
			kidOf(t, str(s2, "authorization")), next, nextIDRepl)
	}
	// Two hours on, the bridge has left JWKS as a rotated key does; the
	// withdrawn key's expired token is refused even as a refresh's
	// cross-check.
	h.clock.Advance(2 * time.Hour)
	if slices.Contains(h.jwksKIDs(ten), bridge) {
		t.Fatal("bridge key still in JWKS two hours after its successor activated")
	}
	wantError(t, h.refresh(ten, str(s, "refreshToken"), str(s, "accessToken")), 401, "")
}

// TestRefreshWithTokenOfRotatedKey: a key that left JWKS because every
// token it signed has expired still vouches for the expired access token
// a client posts back with its refresh (SPEC §3), unlike a withdrawn key.
func TestRefreshWithTokenOfRotatedKey(t *testing.T) {
	h, ten := setup(t)
	s := sessionOf(t, h.signIn(ten.APIKey, "alice", "alice-password"))
	old := kidOf(t, str(s, "accessToken"))
	h.mustCLI(nil, "keys", "rotate", "--tenant", "acme")
	h.clock.Advance(2 * time.Hour)
	if slices.Contains(h.jwksKIDs(ten), old) {
		t.Fatal("rotated key still in JWKS after its tokens expired")
	}
	if r := h.refresh(ten, str(s, "refreshToken"), str(s, "accessToken")); r.status != 200 {
		t.Fatalf("refresh with an expired token of a rotated key: %d %s", r.status, r.body)
	}
	if a := h.introspect(ten, str(s, "accessToken")); a["active"] != false {
		t.Fatalf("expired token active: %v", a)
	}
}

// TestSessionRevokeMany: session revoke --tenant NAME --all and
// --username U, their usage errors and exit codes.
func TestSessionRevokeMany(t *testing.T) {
	backends(t, func(t *testing.T, h *harness) {
		h.serve()
		ten := h.createTenant("acme")
		other := h.createTenant("globex")
		h.createUser("acme", "alice", "alice-password")
		h.createUser("acme", "bob", "bob-password")
		h.createUser("globex", "carol", "carol-password")
		a1 := sessionOf(t, h.signIn(ten.APIKey, "alice", "alice-password"))
		a2 := sessionOf(t, h.signIn(ten.APIKey, "alice", "alice-password"))
		b1 := sessionOf(t, h.signIn(ten.APIKey, "bob", "bob-password"))
		c1 := sessionOf(t, h.signIn(other.APIKey, "carol", "carol-password"))
		active := func(ten tenantInfo, s map[string]any) bool {
			return h.introspect(ten, str(s, "accessToken"))["active"] == true
		}

		for _, args := range [][]string{
			{"session", "revoke"},
			{"session", "revoke", "--tenant", "acme"},
			{"session", "revoke", "--all"},
			{"session", "revoke", "--username", "alice"},
			{"session", "revoke", "--tenant", "acme", "--all", "--username", "alice"},
			{"session", "revoke", "some-id", "--all", "--tenant", "acme"},
			{"session", "revoke", "a", "b"},
		} {
			if _, errOut, code := h.cli("", args...); code != 2 || errOut == "" {
				t.Errorf("actas %s: exit %d, want 2 (%q)", strings.Join(args, " "), code, errOut)
			}
		}
		for _, args := range [][]string{
			{"session", "revoke", "--tenant", "nope", "--all"},
			{"session", "revoke", "--tenant", "acme", "--username", "nobody"},
		} {
			if _, _, code := h.cli("", args...); code != 1 {
				t.Errorf("actas %s: exit %d, want 1", strings.Join(args, " "), code)
			}
		}
		if !active(ten, a1) || !active(ten, b1) {
			t.Fatal("a refused command revoked something")
		}

		var v struct {
			Tenant   string `json:"tenant"`
			Username string `json:"username"`
			Revoked  int    `json:"revoked"`
		}
		h.mustCLI(&v, "session", "revoke", "--tenant", "acme", "--username", "alice")
		if v.Tenant != "acme" || v.Username != "alice" || v.Revoked != 2 {
			t.Fatalf("revoke --username = %+v", v)
		}
		if active(ten, a1) || active(ten, a2) || !active(ten, b1) {
			t.Fatal("revoke --username: wrong sessions revoked")
		}
		wantError(t, h.refresh(ten, str(a2, "refreshToken"), ""), 401, "")

		out, errOut, code := h.cli("", "session", "revoke", "--tenant", "acme", "--all")
		if code != 0 || !strings.Contains(out, "1 sessions revoked") {
			t.Fatalf("revoke --all: exit %d %q %q", code, out, errOut)
		}
		if active(ten, b1) || !active(other, c1) {
			t.Fatal("revoke --all: wrong sessions revoked")
		}
		h.mustCLI(&v, "session", "revoke", "--tenant", "acme", "--all")
		if v.Revoked != 0 {
			t.Fatalf("revoke --all again = %+v", v)
		}
		// The revocations are in the feed, in order.
		h.feedUntil(ten, 0, 3)
		aud, _, _ := h.cli("", "audit", "--tenant", "acme", "--action", "sessions_revoked", "--json")
		if n := len(decodeJSONLines(t, aud)); n != 3 {
			t.Fatalf("%d sessions_revoked audit events, want 3:\n%s", n, aud)
		}
		// The single-session form still works.
		c2 := sessionOf(t, h.signIn(other.APIKey, "carol", "carol-password"))
		h.mustCLI(nil, "session", "revoke", str(claimsOf(t, str(c2, "accessToken")), "origin_jti"))
		if active(other, c2) || !active(other, c1) {
			t.Fatal("session revoke ID: wrong sessions revoked")
		}
	})
}

// TestKeysRewrap: master key rotation. On SQLite the current key is the
// generated master.key file; on PostgreSQL ACTAS_MASTER_KEY.
func TestKeysRewrap(t *testing.T) {
	backends(t, func(t *testing.T, h *harness) {
		pg := !strings.HasPrefix(h.db, "sqlite:")
		var keyFile string
		if pg {
			h.env["ACTAS_MASTER_KEY"] = token.GenerateMasterKey()
		} else {
			delete(h.env, "ACTAS_MASTER_KEY") // the generated master.key
			keyFile = filepath.Join(filepath.Dir(strings.TrimPrefix(h.db, "sqlite:")), "master.key")
		}
		h.serve("--public-url", pgPublicURL) // the same issuers across restarts
		ten := h.createTenant("acme")
		h.createTenant("globex")
		h.createUser("acme", "alice", "alice-password")
		s := sessionOf(t, h.signIn(ten.APIKey, "alice", "alice-password"))
		kids := h.jwksKIDs(ten)
		h.shutdown()
		current := h.env["ACTAS_MASTER_KEY"]
		if !pg {
			b, err := os.ReadFile(keyFile)
			if err != nil {
				t.Fatalf("no generated master key file: %v", err)
			}
			current = strings.TrimSpace(string(b))
		}
		fresh := token.GenerateMasterKey()
		var seen strings.Builder
		run := func(args ...string) (string, string, int) {
			out, errOut, code := h.cli("", args...)
			seen.WriteString(out + errOut)
			return out, errOut, code
		}

		if _, errOut, code := run("keys", "rewrap"); code != 2 || !strings.Contains(errOut, "ACTAS_NEW_MASTER_KEY") {
			t.Fatalf("rewrap without ACTAS_NEW_MASTER_KEY: exit %d %q", code, errOut)
		}
		h.env["ACTAS_NEW_MASTER_KEY"] = "not-a-key"
		if _, _, code := run("keys", "rewrap"); code != 1 {
			t.Fatalf("rewrap with a malformed key: exit %d", code)
		}
		h.env["ACTAS_NEW_MASTER_KEY"] = current
		if _, errOut, code := run("keys", "rewrap"); code != 1 || !strings.Contains(errOut, "current master key") {
			t.Fatalf("rewrap to the same key: exit %d %q", code, errOut)
		}
		h.env["ACTAS_NEW_MASTER_KEY"] = fresh
		out, errOut, code := run("keys", "rewrap")
		if code != 0 || !strings.Contains(out, "rewrapped 4 signing keys of 2 tenants") {
			t.Fatalf("rewrap: exit %d %q %q", code, out, errOut)
		}
		// Repeating it (an interrupted run) changes nothing.
		out, _, code = run("keys", "rewrap", "--json")
		var v struct{ Tenants, Rewrapped, AlreadyRewrapped int }
		if err := json.Unmarshal([]byte(out), &v); err != nil || code != 0 || v.Rewrapped != 0 || v.AlreadyRewrapped != 4 || v.Tenants != 2 {
			t.Fatalf("rewrap again: exit %d %s", code, out)
		}
		delete(h.env, "ACTAS_NEW_MASTER_KEY")
		if strings.Contains(seen.String(), fresh) || strings.Contains(seen.String(), current) {
			t.Fatal("rewrap printed a master key")
		}

		// The old key no longer opens them: serve is not ready.
		h.serve("--public-url", pgPublicURL)
		waitReady(t, h, 503)
		h.shutdown()

		// Switch: the new key, in the environment or in master.key.
		if pg {
			h.env["ACTAS_MASTER_KEY"] = fresh
		} else if err := os.WriteFile(keyFile, []byte(fresh+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		h.serve("--public-url", pgPublicURL)
		waitReady(t, h, 200)
		if got := h.jwksKIDs(ten); !slices.Equal(got, kids) {
			t.Fatalf("JWKS after rewrap = %v, want %v", got, kids)
		}
		if a := h.introspect(ten, str(s, "accessToken")); a["active"] != true {
			t.Fatalf("token signed before the rewrap inactive: %v", a)
		}
		s2 := sessionOf(t, h.signIn(ten.APIKey, "alice", "alice-password"))
		if kidOf(t, str(s2, "accessToken")) != kidOf(t, str(s, "accessToken")) {
			t.Fatal("signing key changed by the rewrap")
		}
		if r := h.refresh(ten, str(s, "refreshToken"), str(s, "accessToken")); r.status != 200 {
			t.Fatalf("refresh after rewrap: %d %s", r.status, r.body)
		}
	})
}
