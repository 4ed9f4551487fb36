package main

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// impSetup: tenant acme with
//   - op: impersonator (caller)
//   - boss: admin + impersonator
//   - alice: plain user (the usual target)
//   - adm: admin only
//   - off: disabled
func impSetup(t *testing.T) (*harness, tenantInfo, map[string]any) {
	t.Helper()
	h, ten := setup(t) // creates alice
	h.createUser("acme", "op", "op-password", "--group", "impersonator")
	h.createUser("acme", "boss", "boss-password", "--group", "impersonator", "--group", "admin")
	h.createUser("acme", "adm", "adm-password", "--group", "admin")
	h.createUser("acme", "off", "off-password")
	h.mustCLI(nil, "user", "disable", "--tenant", "acme", "--username", "off")
	return h, ten, h.signIn(ten.APIKey, "op", "op-password")
}

func (h *harness) impersonate(key string, caller map[string]any, body any) response {
	h.t.Helper()
	s := sessionOf(h.t, caller)
	return h.do("POST", "/auth/impersonate", body, "X-API-Key", key,
		"Authorization", str(s, "authorization"), "AccessToken", str(s, "accessToken"))
}

func TestImpersonate(t *testing.T) {
	h, ten, op := impSetup(t)
	opSub := claimsOf(t, str(sessionOf(t, op), "accessToken"))["sub"]

	r := h.impersonate(ten.APIKey, op, map[string]string{"username": "Alice", "reason": "TICKET-42"})
	if r.status != 200 {
		t.Fatalf("impersonate: %d %s", r.status, r.body)
	}
	if r.header.Get("Deprecation") != "@1718668800" {
		t.Errorf("Deprecation = %q", r.header.Get("Deprecation"))
	}
	if l := r.header.Get("Link"); !strings.Contains(l, "/"+ten.UserPoolID+"/oauth2/token>") || !strings.Contains(l, `rel="successor-version"`) {
		t.Errorf("Link = %q", l)
	}
	body := r.json(t)
	s := sessionOf(t, body)
	if body["username"] != "alice" || str(s, "refreshToken") != "" || body["password"] != "" {
		t.Fatalf("impersonation body = %v", body)
	}
	for _, tok := range []string{str(s, "authorization"), str(s, "accessToken")} {
		c := claimsOf(t, tok)
		act, _ := c["act"].(map[string]any)
		if act == nil || act["sub"] != opSub || act["username"] != "op" {
			t.Errorf("act = %v, want the caller", c["act"])
		}
		if c["exp"].(float64)-c["iat"].(float64) != 3600 {
			t.Errorf("lifetime %v, want min(1 h access, 1 h limit)", c["exp"].(float64)-c["iat"].(float64))
		}
		if c["origin_jti"] == claimsOf(t, str(sessionOf(t, op), "accessToken"))["origin_jti"] {
			t.Error("impersonation reuses the caller's session")
		}
	}
	if c := claimsOf(t, str(s, "accessToken")); c["username"] != "alice" {
		t.Errorf("access token username = %v", c["username"])
	}
	// Not refreshable.
	wantError(t, h.do("POST", "/auth/token", body, "X-API-Key", ten.APIKey), 400, "Missing required parameter REFRESH_TOKEN")

	// A bearer prefix on Authorization is accepted.
	os := sessionOf(t, op)
	r = h.do("POST", "/auth/impersonate", map[string]string{"username": "alice"}, "X-API-Key", ten.APIKey,
		"Authorization", "Bearer "+str(os, "authorization"), "AccessToken", str(os, "accessToken"))
	if r.status != 200 {
		t.Fatalf("Bearer Authorization: %d %s", r.status, r.body)
	}

	// The audit trail names both users, the reason, and the sessions.
	out, _, _ := h.cli("", "audit", "--tenant", "acme", "--action", "impersonate", "--json")
	evs := decodeJSONLines(t, out)
	if len(evs) != 2 {
		t.Fatalf("want 2 impersonate events, got %d: %s", len(evs), out)
	}
	e := evs[0]
	if e["actor"] != "op" || e["subject"] != "alice" || e["outcome"] != "allowed" || e["reason"] != "TICKET-42" ||
		e["session"] != claimsOf(t, str(s, "accessToken"))["origin_jti"] || e["parentSession"] == "" || e["ip"] != "127.0.0.1" || e["apiKeyId"] == "" {
		t.Errorf("audit event = %v", e)
	}
	for _, k := range []string{"time", "tenant", "action", "actor", "subject", "outcome"} {
		if _, ok := e[k]; !ok {
			t.Errorf("audit --json lacks %q", k)
		}
	}
}

func TestImpersonateShorterTenantLimit(t *testing.T) {
	h, ten, _ := impSetup(t)
	h.mustCLI(nil, "tenant", "set", "acme", "impersonation_ttl=15m")
	h.clock.Advance(6 * time.Second) // past the tenant cache
	op := h.signIn(ten.APIKey, "op", "op-password")
	r := h.impersonate(ten.APIKey, op, map[string]string{"username": "alice"})
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	c := claimsOf(t, str(sessionOf(t, r.json(t)), "accessToken"))
	if c["exp"].(float64)-c["iat"].(float64) != 900 {
		t.Errorf("lifetime %v s, want 900", c["exp"].(float64)-c["iat"].(float64))
	}
}

func TestImpersonateRefusals(t *testing.T) {
	h, ten, op := impSetup(t)
	boss := h.signIn(ten.APIKey, "boss", "boss-password")
	alice := h.signIn(ten.APIKey, "alice", "alice-password")
	op2 := h.signIn(ten.APIKey, "op", "op-password")
	other := h.createTenant("other")
	h.createUser("other", "op", "op-password", "--group", "impersonator")
	foreignOp := h.signIn(other.APIKey, "op", "op-password")
	imp := h.impersonate(ten.APIKey, op, map[string]string{"username": "alice"}).json(t)

	os, o2 := sessionOf(t, op), sessionOf(t, op2)
	target := map[string]string{"username": "alice"}
	cases := []struct {
		name         string
		key, id, acc string
		body         any
		status       int
		msg          string
	}{
		{"no API key", "", str(os, "authorization"), str(os, "accessToken"), target, 403, "Forbidden"},
		{"no tokens", ten.APIKey, "", "", target, 401, "Invalid or expired caller tokens"},
		{"no access token", ten.APIKey, str(os, "authorization"), "", target, 401, ""},
		{"no ID token", ten.APIKey, "", str(os, "accessToken"), target, 401, ""},
		{"garbage tokens", ten.APIKey, "a.b.c", "d.e.f", target, 401, ""},
		{"swapped tokens", ten.APIKey, str(os, "accessToken"), str(os, "authorization"), target, 401, ""},
		{"tokens of two sessions", ten.APIKey, str(os, "authorization"), str(o2, "accessToken"), target, 401, ""},
		{"tokens of two users", ten.APIKey, str(os, "authorization"), str(sessionOf(t, boss), "accessToken"), target, 401, ""},
		{"another tenant's tokens", ten.APIKey, str(sessionOf(t, foreignOp), "authorization"), str(sessionOf(t, foreignOp), "accessToken"), target, 401, ""},
		{"not an impersonator", ten.APIKey, str(sessionOf(t, alice), "authorization"), str(sessionOf(t, alice), "accessToken"), map[string]string{"username": "off"}, 403, "Do not have the required role privileges"},
		{"chain", ten.APIKey, str(sessionOf(t, imp), "authorization"), str(sessionOf(t, imp), "accessToken"), map[string]string{"username": "adm"}, 403, ""},
		{"missing username", ten.APIKey, str(os, "authorization"), str(os, "accessToken"), map[string]string{}, 400, "Invalid Authentication Parameters"},
		{"unknown target", ten.APIKey, str(os, "authorization"), str(os, "accessToken"), map[string]string{"username": "ghost"}, 422, "Target user does not exist"},
		{"disabled target", ten.APIKey, str(os, "authorization"), str(os, "accessToken"), map[string]string{"username": "off"}, 422, "Target user is disabled"},
		{"self", ten.APIKey, str(os, "authorization"), str(os, "accessToken"), map[string]string{"username": "OP"}, 422, "Cannot impersonate yourself"},
		{"an admin", ten.APIKey, str(os, "authorization"), str(os, "accessToken"), map[string]string{"username": "adm"}, 422, "Target user has privileges the caller lacks"},
		{"a more privileged impersonator", ten.APIKey, str(os, "authorization"), str(os, "accessToken"), map[string]string{"username": "boss"}, 422, "Target user has privileges the caller lacks"},
		{"huge reason", ten.APIKey, str(os, "authorization"), str(os, "accessToken"), map[string]string{"username": "alice", "reason": strings.Repeat("r", 600)}, 400, ""},
		{"malformed body", ten.APIKey, str(os, "authorization"), str(os, "accessToken"), `{"username":`, 400, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := h.do("POST", "/auth/impersonate", c.body, "X-API-Key", c.key, "Authorization", c.id, "AccessToken", c.acc)
			wantError(t, r, c.status, c.msg)
			if r.header.Get("Deprecation") == "" {
				t.Error("error without Deprecation header")
			}
		})
	}
	// An admin-and-impersonator may impersonate an admin.
	if r := h.impersonate(ten.APIKey, boss, map[string]string{"username": "adm"}); r.status != 200 {
		t.Errorf("boss impersonating adm: %d %s", r.status, r.body)
	}
	// Denied attempts are audited, naming both users.
	out, _, _ := h.cli("", "audit", "--tenant", "acme", "--action", "impersonate", "--json")
	var sawAdmin bool
	for _, e := range decodeJSONLines(t, out) {
		if e["outcome"] == "denied" && e["actor"] == "op" && e["subject"] == "adm" && e["details"] == "Target user has privileges the caller lacks" {
			sawAdmin = true
		}
	}
	if !sawAdmin {
		t.Errorf("no denied audit event for op -> adm:\n%s", out)
	}
}

func TestImpersonationTenantSettings(t *testing.T) {
	h, ten, _ := impSetup(t)
	h.mustCLI(nil, "tenant", "set", "acme", "impersonation_require_reason=true")
	h.clock.Advance(6 * time.Second)
	op := h.signIn(ten.APIKey, "op", "op-password")
	wantError(t, h.impersonate(ten.APIKey, op, map[string]string{"username": "alice"}), 422, "A reason is required to impersonate in this tenant")
	if r := h.impersonate(ten.APIKey, op, map[string]string{"username": "alice", "reason": "INC-1"}); r.status != 200 {
		t.Fatalf("with a reason: %d %s", r.status, r.body)
	}
	h.mustCLI(nil, "tenant", "set", "acme", "impersonation_disabled=true")
	h.clock.Advance(6 * time.Second)
	op = h.signIn(ten.APIKey, "op", "op-password")
	wantError(t, h.impersonate(ten.APIKey, op, map[string]string{"username": "alice", "reason": "x"}), 403, "Impersonation is disabled for this tenant")
}

// alive reports whether an impersonation session's tokens are still
// accepted: presented as a caller they pass authentication (and are
// refused as a chain, 403), while revoked ones fail it (401).
func alive(t *testing.T, h *harness, key string, imp map[string]any) bool {
	t.Helper()
	r := h.impersonate(key, imp, map[string]string{"username": "alice"})
	switch r.status {
	case 403:
		return true
	case 401:
		return false
	}
	t.Fatalf("unexpected %d %s", r.status, r.body)
	return false
}

func TestImpersonationCascade(t *testing.T) {
	for _, c := range []struct {
		name   string
		revoke func(h *harness, ten tenantInfo, op map[string]any)
	}{
		{"parent expired", func(h *harness, ten tenantInfo, op map[string]any) {
			r := h.do("DELETE", "/auth/token", op, "X-API-Key", ten.APIKey, "AccessToken", str(sessionOf(h.t, op), "accessToken"))
			if r.status != 200 {
				h.t.Fatalf("expire: %d", r.status)
			}
		}},
		{"caller disabled", func(h *harness, ten tenantInfo, op map[string]any) {
			h.mustCLI(nil, "user", "disable", "--tenant", "acme", "--username", "op")
		}},
		{"impersonator group removed", func(h *harness, ten tenantInfo, op map[string]any) {
			h.mustCLI(nil, "user", "groups", "remove", "--tenant", "acme", "--username", "op", "impersonator")
		}},
		{"parent session revoked by an operator", func(h *harness, ten tenantInfo, op map[string]any) {
			h.mustCLI(nil, "session", "revoke", claimsOf(h.t, str(sessionOf(h.t, op), "accessToken"))["origin_jti"].(string))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, ten, op := impSetup(t)
			r := h.impersonate(ten.APIKey, op, map[string]string{"username": "alice"})
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			imp := r.json(t)
			other := h.signIn(ten.APIKey, "alice", "alice-password")
			if !alive(t, h, ten.APIKey, imp) {
				t.Fatal("fresh impersonation session already dead")
			}
			c.revoke(h, ten, op)
			h.clock.Advance(1500 * time.Millisecond)
			// The server follows revocations made by the CLI within a second.
			deadline := time.Now().Add(3 * time.Second)
			for alive(t, h, ten.APIKey, imp) {
				if time.Now().After(deadline) {
					t.Fatal("impersonation session outlived its cause")
				}
				time.Sleep(50 * time.Millisecond)
			}
			// The target's own session is untouched.
			if r := h.do("POST", "/auth/token", other, "X-API-Key", ten.APIKey); r.status != 200 {
				t.Errorf("the target's own session was revoked: %d", r.status)
			}
		})
	}
}

func (h *harness) exchange(key string, form url.Values) response {
	h.t.Helper()
	return h.do("POST", "/"+strings.Split(strings.TrimPrefix(h.lastPool, "/"), "/")[0]+"/oauth2/token", []byte(form.Encode()),
		"X-API-Key", key, "Content-Type", "application/x-www-form-urlencoded")
}

func TestTokenExchange(t *testing.T) {
	h, ten, op := impSetup(t)
	h.lastPool = ten.UserPoolID
	acc := str(sessionOf(t, op), "accessToken")
	form := func(kv ...string) url.Values {
		v := url.Values{
			"grant_type":         {"urn:ietf:params:oauth:grant-type:token-exchange"},
			"actor_token":        {acc},
			"actor_token_type":   {"urn:ietf:params:oauth:token-type:access_token"},
			"subject_token":      {"alice"},
			"subject_token_type": {"urn:actas:params:oauth:token-type:username"},
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				v.Del(kv[i])
			} else {
				v.Set(kv[i], kv[i+1])
			}
		}
		return v
	}
	r := h.exchange(ten.APIKey, form("reason", "TICKET-7", "client_id", ten.ClientID))
	if r.status != 200 {
		t.Fatalf("exchange: %d %s", r.status, r.body)
	}
	body := r.json(t)
	if body["issued_token_type"] != "urn:ietf:params:oauth:token-type:access_token" || body["token_type"] != "Bearer" ||
		body["expires_in"].(float64) != 3600 || str(body, "id_token") == "" {
		t.Fatalf("RFC 8693 response = %v", body)
	}
	c := claimsOf(t, str(body, "access_token"))
	if act, _ := c["act"].(map[string]any); act == nil || act["username"] != "op" || c["username"] != "alice" {
		t.Errorf("claims = %v", c)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Error("token response is cacheable")
	}
	out, _, _ := h.cli("", "audit", "--tenant", "acme", "--action", "token_exchange", "--json")
	if evs := decodeJSONLines(t, out); len(evs) != 1 || evs[0]["reason"] != "TICKET-7" || evs[0]["outcome"] != "allowed" {
		t.Errorf("audit: %s", out)
	}

	alice := h.signIn(ten.APIKey, "alice", "alice-password")
	oauthErr := func(t *testing.T, r response, status int, code string) {
		t.Helper()
		if r.status != status {
			t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
		}
		if e := r.json(t); e["error"] != code {
			t.Fatalf("error = %v, want %s", e["error"], code)
		}
	}
	cases := []struct {
		name   string
		key    string
		form   url.Values
		status int
		code   string
	}{
		{"no API key", "", form(), 401, "invalid_client"},
		{"another tenant's API key", h.createTenant("other").APIKey, form(), 401, "invalid_client"},
		{"wrong client_id", ten.APIKey, form("client_id", "nope"), 401, "invalid_client"},
		{"no grant_type", ten.APIKey, form("grant_type", ""), 400, "invalid_request"},
		{"other grant", ten.APIKey, form("grant_type", "password"), 400, "unsupported_grant_type"},
		{"no subject", ten.APIKey, form("subject_token", ""), 400, "invalid_request"},
		{"wrong subject type", ten.APIKey, form("subject_token_type", "urn:ietf:params:oauth:token-type:access_token"), 400, "invalid_request"},
		{"no actor", ten.APIKey, form("actor_token", ""), 400, "invalid_request"},
		{"wrong actor type", ten.APIKey, form("actor_token_type", "urn:ietf:params:oauth:token-type:id_token"), 400, "invalid_request"},
		{"forged actor", ten.APIKey, form("actor_token", "a.b.c"), 400, "invalid_grant"},
		{"ID token as actor", ten.APIKey, form("actor_token", str(sessionOf(t, op), "authorization")), 400, "invalid_grant"},
		{"not an impersonator", ten.APIKey, form("actor_token", str(sessionOf(t, alice), "accessToken"), "subject_token", "op"), 403, "access_denied"},
		{"admin target", ten.APIKey, form("subject_token", "adm"), 400, "invalid_target"},
		{"unknown target", ten.APIKey, form("subject_token", "ghost"), 400, "invalid_target"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { oauthErr(t, h.exchange(c.key, c.form), c.status, c.code) })
	}
	t.Run("form content type required", func(t *testing.T) {
		r := h.do("POST", "/"+ten.UserPoolID+"/oauth2/token", `{"grant_type":"x"}`, "X-API-Key", ten.APIKey)
		oauthErr(t, r, 400, "invalid_request")
	})
	t.Run("discovery advertises the grant", func(t *testing.T) {
		d := h.do("GET", "/"+ten.UserPoolID+"/.well-known/openid-configuration", nil).json(t)
		if d["token_endpoint"] != h.url+"/"+ten.UserPoolID+"/oauth2/token" ||
			!strings.Contains(string(h.do("GET", "/"+ten.UserPoolID+"/.well-known/openid-configuration", nil).body), "token-exchange") {
			t.Errorf("discovery = %v", d)
		}
	})
}
