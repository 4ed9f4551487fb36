package main

import (
	"net/url"
	"os"
	"strings"
	"testing"
)

// Black-box checks of SPEC.md §2–§6 found by an audit against the spec's
// own wording: each test is a request a client written from SPEC.md sends.

// SPEC §3 names the token-exchange parameters as actor_token,
// subject_token and subject_token_type. A client that sends exactly those
// (no actor_token_type) is served: the only actor token actas accepts is
// an access token, so the missing type means that one. A type that is
// sent must still be the access-token type.
func TestTokenExchangeWithoutActorTokenType(t *testing.T) {
	h, ten, op := impSetup(t)
	h.lastPool = ten.UserPoolID
	form := url.Values{
		"grant_type":         {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"actor_token":        {str(sessionOf(t, op), "accessToken")},
		"subject_token":      {"alice"},
		"subject_token_type": {"urn:actas:params:oauth:token-type:username"},
	}
	r := h.exchange(ten.APIKey, form)
	if r.status != 200 {
		t.Fatalf("exchange without actor_token_type: %d %s", r.status, r.body)
	}
	if c := claimsOf(t, str(r.json(t), "access_token")); c["username"] != "alice" {
		t.Errorf("claims = %v", c)
	}
	form.Set("actor_token_type", "urn:ietf:params:oauth:token-type:id_token")
	if r := h.exchange(ten.APIKey, form); r.status != 400 || r.json(t)["error"] != "invalid_request" {
		t.Errorf("wrong actor_token_type: %d %s", r.status, r.body)
	}
}

// SPEC §3 refresh: "A refresh token of another tenant: 401 (it does not
// exist for this API key)". The body of a refresh is "a previous 200
// response", which carries that tenant's clientId: posting it whole with
// another tenant's key is still a refresh token of another tenant, 401,
// not the sign-in rule's 400 for a foreign clientId.
func TestRefreshWholeResponseOfAnotherTenant(t *testing.T) {
	h, ten := setup(t) // tenant acme, user alice
	other := h.createTenant("other")
	h.createUser("other", "alice", "alice-password")
	foreign := h.signIn(other.APIKey, "alice", "alice-password")
	wantError(t, h.do("POST", "/auth/token", foreign, "X-API-Key", ten.APIKey), 401, "Invalid Refresh Token")
	// The tenant's own previous response still refreshes.
	own := h.signIn(ten.APIKey, "alice", "alice-password")
	if r := h.do("POST", "/auth/token", own, "X-API-Key", ten.APIKey); r.status != 200 {
		t.Fatalf("own refresh: %d %s", r.status, r.body)
	}
}

// SPEC §6: --db takes sqlite:PATH, a bare PATH, or a postgres:// or
// postgresql:// URL. Another URL is bad usage (exit 2), not an SQLite
// file created at a path named like the URL.
func TestDBOtherURLSchemeIsBadUsage(t *testing.T) {
	t.Chdir(t.TempDir())
	h := newHarness(t)
	for _, spec := range []string{"mysql://db.example/actas", "sqlite3://x.db"} {
		h.db = spec
		_, errOut, code := h.cli("", "tenant", "list", "--json")
		if code != 2 || !strings.Contains(errOut, "--db") {
			t.Errorf("--db %s: exit %d, %q; want 2 naming --db", spec, code, errOut)
		}
	}
	if ents, _ := os.ReadDir("."); len(ents) != 0 {
		t.Errorf("files created for a foreign URL: %v", ents)
	}
}

// SPEC §6 names endpoint_url among the setting keys of `tenant set` and
// `tenant show --json`: the settings object carries it beside the others
// (and endpointUrl stays at the top, as tenant create --json prints it).
func TestTenantShowJSONHasEndpointURLSetting(t *testing.T) {
	h := newHarness(t)
	h.createTenant("acme")
	h.mustCLI(nil, "tenant", "set", "acme", "endpoint_url=https://api.acme.test/v2")
	var v struct {
		EndpointURL string         `json:"endpointUrl"`
		Settings    map[string]any `json:"settings"`
	}
	h.mustCLI(&v, "tenant", "show", "acme")
	if v.EndpointURL != "https://api.acme.test/v2" || v.Settings["endpoint_url"] != "https://api.acme.test/v2" {
		t.Fatalf("tenant show --json: endpointUrl %q, settings %v", v.EndpointURL, v.Settings)
	}
	for _, k := range []string{"access_ttl", "refresh_ttl", "refresh_rotation", "rotation_grace", "signing_alg",
		"impersonation_disabled", "impersonation_ttl", "impersonation_require_reason", "throttle_pair_failures",
		"throttle_ip_failures", "throttle_user_failures", "throttle_max_delay", "key_rotation_period",
		"key_rotation_delay", "password_min_length", "access_token_audience"} {
		if _, ok := v.Settings[k]; !ok {
			t.Errorf("settings lack %s: %v", k, v.Settings)
		}
	}
}

// SPEC §10: the fields of a user other than the username take at most 256
// bytes each, the email included (not RFC 5321's 254): 256 is accepted,
// 257 refused with exit 1 naming the field.
func TestUserEmailBound(t *testing.T) {
	h := newHarness(t)
	h.createTenant("acme")
	local := strings.Repeat("e", 256-len("@acme.test"))
	_, errOut, code := h.cli("", "user", "create", "--tenant", "acme", "--username", "u256",
		"--password", "a fine long secret 1", "--email", local+"@acme.test")
	if code != 0 {
		t.Fatalf("256-byte email: exit %d, %q; want 0", code, errOut)
	}
	_, errOut, code = h.cli("", "user", "create", "--tenant", "acme", "--username", "u257",
		"--password", "a fine long secret 1", "--email", "e"+local+"@acme.test")
	if code != 1 || !strings.Contains(errOut, "email") {
		t.Fatalf("257-byte email: exit %d, %q; want 1 naming email", code, errOut)
	}
}
