package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// Findings of the §9 black-box audit, each pinned by a test.

// The Bearer scheme of the userinfo request is case-insensitive (RFC
// 7235 §2.1, RFC 6750 §2.1): "bearer" is accepted like "Bearer".
func TestBrowserSignInUserinfoSchemeCase(t *testing.T) {
	e := newOIDCEnv(t)
	web := e.client(t, "web", false, "https://web.example/cb")
	b := newBrowser(t)
	f := web.start(t)
	tok, _ := e.exchange(t, web, f, e.signIn(t, b, web, f, "alice", "correct horse battery"))
	for _, scheme := range []string{"Bearer", "bearer", "BEARER"} {
		req, _ := http.NewRequest("GET", e.ti.Issuer+"/oauth2/userinfo", nil)
		req.Header.Set("Authorization", scheme+" "+tok.AccessToken)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(body), `"username":"alice"`) {
			t.Errorf("userinfo with scheme %q: %d %s, want 200 with the user", scheme, res.StatusCode, body)
		}
	}
}

// An OAuth client that authenticates itself (SPEC §9: no X-API-Key for
// its grants) and names a grant actas does not offer is told so:
// 400 unsupported_grant_type (RFC 6749 §5.2), not an API-key challenge.
// Wrong credentials stay invalid_client 401.
func TestBrowserSignInUnsupportedGrant(t *testing.T) {
	e := newOIDCEnv(t)
	web := e.client(t, "web", false, "https://web.example/cb")
	spa := e.client(t, "spa", true, "http://127.0.0.1/cb")
	token := "/" + e.ti.UserPoolID + "/oauth2/token"
	form := "application/x-www-form-urlencoded"
	basic := func(id, secret string) string {
		req, _ := http.NewRequest("GET", "/", nil)
		req.SetBasicAuth(id, secret)
		return req.Header.Get("Authorization")
	}
	for _, c := range []struct {
		name    string
		body    string
		headers []string
		status  int
		error   string
	}{
		{"basic", "grant_type=client_credentials", []string{"Authorization", basic(web.cfg.ClientID, web.cfg.ClientSecret)}, 400, "unsupported_grant_type"},
		{"post", "grant_type=password&client_id=" + web.cfg.ClientID + "&client_secret=" + web.cfg.ClientSecret, nil, 400, "unsupported_grant_type"},
		{"public", "grant_type=implicit&client_id=" + spa.cfg.ClientID, nil, 400, "unsupported_grant_type"},
		{"no grant_type", "client_id=" + spa.cfg.ClientID, nil, 400, "invalid_request"},
		{"wrong secret", "grant_type=client_credentials", []string{"Authorization", basic(web.cfg.ClientID, "wrong")}, 401, "invalid_client"},
		{"no credentials", "grant_type=client_credentials", nil, 401, "invalid_client"},
	} {
		r := e.h.do("POST", token, c.body, append(c.headers, "Content-Type", form)...)
		if r.status != c.status || str(r.json(t), "error") != c.error {
			t.Errorf("%s: %d %s, want %d %s", c.name, r.status, r.body, c.status, c.error)
		}
		if c.status == 401 && r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: 401 without WWW-Authenticate", c.name)
		}
	}
}

// Introspection answers "with the token's claims" (SPEC §3): for an
// access token of a tenant with access_token_audience (§6) that includes
// its aud, and for a code flow's token its sid (§9).
func TestBrowserSignInIntrospectAudienceSid(t *testing.T) {
	e := newOIDCEnv(t)
	e.h.mustCLI(nil, "tenant", "set", "acme", "access_token_audience=https://api.acme.example")
	web := e.client(t, "web", false, "https://web.example/cb")
	b := newBrowser(t)
	f := web.start(t)
	tok, _ := e.exchange(t, web, f, e.signIn(t, b, web, f, "alice", "correct horse battery"))
	access := claimsOf(t, tok.AccessToken)
	if str(access, "aud") != "https://api.acme.example" || str(access, "sid") == "" {
		t.Fatalf("access token aud %v sid %v, want the tenant's audience and a session", access["aud"], access["sid"])
	}
	r := e.h.do("POST", "/"+e.ti.UserPoolID+"/oauth2/introspect", "token="+tok.AccessToken,
		"X-API-Key", e.ti.APIKey, "Content-Type", "application/x-www-form-urlencoded")
	in := r.json(t)
	if in["active"] != true || str(in, "aud") != "https://api.acme.example" || str(in, "sid") != str(access, "sid") ||
		str(in, "client_id") != web.cfg.ClientID {
		t.Errorf("introspection = %s, want active with aud %q, sid %q and client_id %q", r.body, "https://api.acme.example", access["sid"], web.cfg.ClientID)
	}
	// Without the setting an access token has no aud, nor its introspection.
	e.h.mustCLI(nil, "tenant", "set", "acme", "access_token_audience=")
	f = web.start(t)
	tok, _ = e.exchange(t, web, f, e.codeOf(t, web, f, b.get(f.url)))
	r = e.h.do("POST", "/"+e.ti.UserPoolID+"/oauth2/introspect", "token="+tok.AccessToken,
		"X-API-Key", e.ti.APIKey, "Content-Type", "application/x-www-form-urlencoded")
	if in := r.json(t); in["active"] != true || in["aud"] != nil || claimsOf(t, tok.AccessToken)["aud"] != nil {
		t.Errorf("introspection without access_token_audience = %s, want no aud", r.body)
	}
}

// OpenID Connect Core §3.1.2.1: scope values not understood SHOULD be
// ignored, and prompt is a space-delimited list in which consent and
// select_account are defined. Relying parties send both (oauth2-proxy's
// and many SPA libraries' defaults ask for more scopes than actas has):
// an unknown scope is left out of what is granted, and the token
// response's scope says so (RFC 6749 §3.3); consent needs nothing more
// (actas shows no consent screen); select_account asks for the form even
// with a live browser session, as login does.
func TestBrowserSignInUnknownScopeAndPromptValues(t *testing.T) {
	e := newOIDCEnv(t)
	web := e.client(t, "web", false, "https://web.example/cb")
	web.cfg.Scopes = []string{"openid", "phone", "email", "address"}
	b := newBrowser(t)
	f := web.start(t, oauth2.SetAuthURLParam("prompt", "consent"))
	code := e.signIn(t, b, web, f, "alice", "correct horse battery")
	tok, _ := e.exchange(t, web, f, code)
	if got, _ := tok.Extra("scope").(string); got != "openid email" {
		t.Fatalf("granted scope %q, want the known ones only, %q", got, "openid email")
	}

	// With a live browser session: consent still skips the form, while
	// select_account shows it, as prompt=login does.
	f = web.start(t, oauth2.SetAuthURLParam("prompt", "consent"))
	e.codeOf(t, web, f, b.get(f.url))
	f = web.start(t, oauth2.SetAuthURLParam("prompt", "select_account"))
	if p := b.get(f.url); p.status != 200 || !strings.Contains(p.body, "password") {
		t.Fatalf("prompt=select_account with a session: %d, want the sign-in form", p.status)
	}
}
