package main

import (
	"context"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
)

// The Go recipe of docs/resource-servers.md: with access_token_audience
// set, go-oidc set up the usual way (audience = the API's identifier)
// accepts actas access tokens; without it (Cognito's shape) it refuses
// them, which is why the setting exists.
func TestResourceServerGoOIDCAudience(t *testing.T) {
	h := newHarness(t)
	h.serve()
	ti := h.createTenant("acme")
	h.createUser("acme", "alice", "correct horse battery")
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, ti.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	const api = "https://api.acme.example"
	verifier := provider.Verifier(&oidc.Config{ClientID: api, Now: h.clock.Now})

	before := str(sessionOf(t, h.signIn(ti.APIKey, "alice", "correct horse battery")), "accessToken")
	if _, err := verifier.Verify(ctx, before); err == nil {
		t.Fatal("go-oidc accepted an access token without aud")
	}
	if typ := headerOf(t, before)["typ"]; typ != nil {
		t.Errorf("default access token has typ %v, want none (Cognito's shape)", typ)
	}

	h.mustCLI(nil, "tenant", "set", "acme", "access_token_audience="+api)
	var shown struct {
		Settings map[string]any `json:"settings"`
	}
	h.mustCLI(&shown, "tenant", "show", "acme")
	if shown.Settings["access_token_audience"] != api {
		t.Errorf("tenant show --json settings = %v", shown.Settings)
	}
	after := str(sessionOf(t, h.signIn(ti.APIKey, "alice", "correct horse battery")), "accessToken")
	tok, err := verifier.Verify(ctx, after)
	if err != nil {
		t.Fatalf("go-oidc refuses an access token with aud: %v", err)
	}
	if len(tok.Audience) != 1 || tok.Audience[0] != api {
		t.Errorf("aud = %v", tok.Audience)
	}
	if typ := headerOf(t, after)["typ"]; typ != "at+jwt" {
		t.Errorf("typ = %v, want at+jwt (RFC 9068)", typ)
	}
	if c := claimsOf(t, after); c["client_id"] != ti.ClientID || c["token_use"] != "access" {
		t.Errorf("claims %v: client_id and token_use must stay", c)
	}
	// actas itself still accepts the token (refresh with it, expire).
	r := h.do("POST", "/auth/token", map[string]any{"session": map[string]string{"accessToken": after,
		"refreshToken": str(sessionOf(t, h.signIn(ti.APIKey, "alice", "correct horse battery")), "refreshToken")}}, "X-API-Key", ti.APIKey)
	if r.status != 401 { // another session's access token: refused as a mismatch, after a valid parse
		t.Errorf("refresh with another session's access token: %d", r.status)
	}
	if r := h.do("DELETE", "/auth/token", map[string]any{}, "X-API-Key", ti.APIKey, "AccessToken", after); r.status != 200 {
		t.Errorf("expire with an at+jwt access token: %d %s", r.status, r.body)
	}
}
