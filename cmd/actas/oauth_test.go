package main

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// form posts a form-encoded body to an OAuth endpoint of the tenant.
func (h *harness) form(ten tenantInfo, endpoint string, v url.Values, headers ...string) response {
	h.t.Helper()
	hs := append([]string{"X-API-Key", ten.APIKey, "Content-Type", "application/x-www-form-urlencoded"}, headers...)
	return h.do("POST", "/"+ten.UserPoolID+"/oauth2/"+endpoint, v.Encode(), hs...)
}

func (h *harness) introspect(ten tenantInfo, tok string) map[string]any {
	h.t.Helper()
	r := h.form(ten, "introspect", url.Values{"token": {tok}})
	if r.status != 200 {
		h.t.Fatalf("introspect: %d %s", r.status, r.body)
	}
	return r.json(h.t)
}

func wantOAuthError(t *testing.T, r response, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
	var e struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil || e.Error != code {
		t.Fatalf("error = %q (%v), want %q; body %s", e.Error, err, code, r.body)
	}
}

func TestDiscoveryAdvertisesRevocation(t *testing.T) {
	h, ten := setup(t)
	d := h.do("GET", "/"+ten.UserPoolID+"/.well-known/openid-configuration", nil).json(t)
	iss := h.url + "/" + ten.UserPoolID
	for k, want := range map[string]string{
		"revocation_endpoint":      iss + "/oauth2/revoke",
		"introspection_endpoint":   iss + "/oauth2/introspect",
		"revocation_feed_endpoint": iss + "/revocations",
	} {
		if d[k] != want {
			t.Errorf("%s = %v, want %s", k, d[k], want)
		}
	}
}

func TestIntrospect(t *testing.T) {
	h, ten := setup(t)
	other := h.createTenant("globex")
	h.createUser("globex", "bob", "bob-password")
	s := sessionOf(t, h.signIn(ten.APIKey, "alice", "alice-password"))
	access, id, refresh := str(s, "accessToken"), str(s, "authorization"), str(s, "refreshToken")

	a := h.introspect(ten, access)
	ac := claimsOf(t, access)
	if a["active"] != true || a["token_type"] != "Bearer" || a["token_use"] != "access" ||
		a["sub"] != ac["sub"] || a["client_id"] != ten.ClientID || a["username"] != "alice" ||
		a["jti"] != ac["jti"] || a["origin_jti"] != ac["origin_jti"] || a["iss"] != ac["iss"] ||
		a["exp"] != ac["exp"] || a["scope"] != ac["scope"] {
		t.Errorf("introspect access token = %v", a)
	}
	if g, _ := a["cognito:groups"].([]any); len(g) != 1 || g[0] != "staff" {
		t.Errorf("cognito:groups = %v", a["cognito:groups"])
	}
	i := h.introspect(ten, id)
	if i["active"] != true || i["token_use"] != "id" || i["aud"] != ten.ClientID || i["username"] != "alice" {
		t.Errorf("introspect ID token = %v", i)
	}
	rf := h.introspect(ten, refresh)
	if rf["active"] != true || rf["token_use"] != "refresh" || rf["sub"] != ac["sub"] || rf["client_id"] != ten.ClientID ||
		rf["username"] != "alice" || rf["exp"] == nil {
		t.Errorf("introspect refresh token = %v", rf)
	}

	bs := sessionOf(t, h.signIn(other.APIKey, "bob", "bob-password"))
	forged := access[:len(access)-4] + "AAAA"
	for name, tok := range map[string]string{
		"forged":                 forged,
		"garbage":                "not-a-token",
		"another tenant access":  str(bs, "accessToken"),
		"another tenant refresh": str(bs, "refreshToken"),
		"unknown refresh":        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	} {
		r := h.form(ten, "introspect", url.Values{"token": {tok}})
		if r.status != 200 || string(r.body) != "{\"active\":false}\n" {
			t.Errorf("%s: %d %s, want 200 {\"active\":false}", name, r.status, r.body)
		}
	}

	// Errors: OAuth format, with a request id.
	r := h.form(ten, "introspect", url.Values{"token": {access}}, "X-API-Key", other.APIKey)
	wantOAuthError(t, r, 401, "invalid_client")
	r = h.form(ten, "introspect", url.Values{}, "X-Request-Id", "intro-1")
	wantOAuthError(t, r, 400, "invalid_request")
	if r.header.Get("X-Request-Id") != "intro-1" {
		t.Errorf("X-Request-Id = %q", r.header.Get("X-Request-Id"))
	}

	// Expired: inactive.
	h.clock.Advance(time.Hour + 2*time.Minute)
	if a := h.introspect(ten, access); a["active"] != false {
		t.Errorf("expired access token is active: %v", a)
	}
	if a := h.introspect(ten, refresh); a["active"] != true {
		t.Errorf("refresh token of a live session is inactive: %v", a)
	}
}

func TestOAuthRevoke(t *testing.T) {
	h, ten := setup(t)
	other := h.createTenant("globex")
	h.createUser("globex", "bob", "bob-password")

	for _, which := range []string{"refreshToken", "accessToken", "authorization"} {
		t.Run(which, func(t *testing.T) {
			s := sessionOf(t, h.signIn(ten.APIKey, "alice", "alice-password"))
			r := h.form(ten, "revoke", url.Values{"token": {str(s, which)}, "token_type_hint": {"access_token"}}, "X-Request-Id", "rev-1")
			if r.status != 200 || len(r.body) != 0 || r.header.Get("X-Request-Id") != "rev-1" {
				t.Fatalf("revoke: %d %q %v", r.status, r.body, r.header)
			}
			// The whole session is gone: every token of it, at once.
			for _, k := range []string{"refreshToken", "accessToken", "authorization"} {
				if a := h.introspect(ten, str(s, k)); a["active"] != false {
					t.Errorf("%s still active after revoking %s", k, which)
				}
			}
			r = h.do("POST", "/auth/token", map[string]any{"session": map[string]string{"refreshToken": str(s, "refreshToken")}}, "X-API-Key", ten.APIKey)
			wantError(t, r, 401, "")
			// Again: still 200, nothing changes.
			if r := h.form(ten, "revoke", url.Values{"token": {str(s, which)}}); r.status != 200 {
				t.Fatalf("revoke twice: %d %s", r.status, r.body)
			}
		})
	}

	// Another tenant's token, garbage: 200 and no effect.
	bs := sessionOf(t, h.signIn(other.APIKey, "bob", "bob-password"))
	for _, tok := range []string{str(bs, "accessToken"), str(bs, "refreshToken"), "garbage", "a.b.c"} {
		if r := h.form(ten, "revoke", url.Values{"token": {tok}}); r.status != 200 || len(r.body) != 0 {
			t.Fatalf("revoke %q: %d %s", tok, r.status, r.body)
		}
	}
	if a := h.introspect(other, str(bs, "accessToken")); a["active"] != true {
		t.Fatal("another tenant revoked bob's session")
	}
	wantOAuthError(t, h.form(ten, "revoke", url.Values{}), 400, "invalid_request")
	wantOAuthError(t, h.form(ten, "revoke", url.Values{"token": {"x"}}, "X-API-Key", ""), 401, "invalid_client")
	wantOAuthError(t, h.form(ten, "revoke", url.Values{"token": {"x"}, "client_id": {other.ClientID}}), 401, "invalid_client")
}

type feedAnswer struct {
	Revocations []struct {
		Seq int64  `json:"seq"`
		ID  string `json:"id"`
		Exp int64  `json:"exp"`
	} `json:"revocations"`
	Cursor int64 `json:"cursor"`
}

func (h *harness) feed(ten tenantInfo, after int64, wait int) feedAnswer {
	h.t.Helper()
	r := h.do("GET", "/"+ten.UserPoolID+"/revocations?after="+strconv.FormatInt(after, 10)+"&wait="+strconv.Itoa(wait), nil, "X-API-Key", ten.APIKey)
	if r.status != 200 {
		h.t.Fatalf("feed: %d %s", r.status, r.body)
	}
	var f feedAnswer
	if err := json.Unmarshal(r.body, &f); err != nil {
		h.t.Fatalf("feed body: %v %s", err, r.body)
	}
	return f
}

func TestRevocationFeed(t *testing.T) {
	h, ten := setup(t)
	other := h.createTenant("globex")
	h.createUser("globex", "bob", "bob-password")

	f := h.feed(ten, 0, 0)
	if len(f.Revocations) != 0 {
		t.Fatalf("fresh feed = %+v", f)
	}
	// Another tenant's revocation moves the cursor, shows nothing.
	bs := sessionOf(t, h.signIn(other.APIKey, "bob", "bob-password"))
	h.form(other, "revoke", url.Values{"token": {str(bs, "refreshToken")}})
	f = h.feed(ten, 0, 0)
	if len(f.Revocations) != 0 || f.Cursor == 0 {
		t.Fatalf("feed after another tenant's revocation = %+v", f)
	}
	if g := h.feed(other, 0, 0); len(g.Revocations) != 1 || g.Revocations[0].ID != claimsOf(t, str(bs, "accessToken"))["origin_jti"] {
		t.Fatalf("other tenant's feed = %+v", g)
	}

	// A long poll wakes at once when this server revokes.
	s := sessionOf(t, h.signIn(ten.APIKey, "alice", "alice-password"))
	got := make(chan feedAnswer, 1)
	start := time.Now()
	go func() { got <- h.feed(ten, f.Cursor, 20) }()
	time.Sleep(200 * time.Millisecond)
	revoked := time.Now()
	h.do("DELETE", "/auth/token", map[string]any{"session": map[string]string{"refreshToken": str(s, "refreshToken")}},
		"X-API-Key", ten.APIKey, "AccessToken", str(s, "accessToken"))
	select {
	case g := <-got:
		t.Logf("long poll answered %v after the revocation", time.Since(revoked))
		oj := claimsOf(t, str(s, "accessToken"))["origin_jti"]
		if len(g.Revocations) != 1 || g.Revocations[0].ID != oj || g.Cursor <= f.Cursor || g.Revocations[0].Exp < time.Now().Unix() {
			t.Fatalf("feed = %+v, want %v", g, oj)
		}
		f = g
	case <-time.After(5 * time.Second):
		t.Fatalf("long poll not woken (started %v ago)", time.Since(start))
	}

	// A revocation made by another process (the CLI) wakes it within the
	// 1 s store sync.
	s = sessionOf(t, h.signIn(ten.APIKey, "alice", "alice-password"))
	go func() { got <- h.feed(ten, f.Cursor, 20) }()
	time.Sleep(200 * time.Millisecond)
	revoked = time.Now()
	h.mustCLI(nil, "session", "revoke", claimsOf(t, str(s, "accessToken"))["origin_jti"].(string))
	select {
	case g := <-got:
		d := time.Since(revoked)
		t.Logf("long poll answered %v after a CLI revocation", d)
		if len(g.Revocations) != 1 || d > 2*time.Second {
			t.Fatalf("feed = %+v after %v", g, d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("long poll not woken by a revocation made elsewhere")
	}

	// Nothing new: the wait ends with the same cursor.
	start = time.Now()
	if g := h.feed(ten, f.Cursor+100, 1); len(g.Revocations) != 0 || time.Since(start) < 900*time.Millisecond {
		t.Fatalf("empty long poll = %+v after %v", g, time.Since(start))
	}

	// Errors.
	base := "/" + ten.UserPoolID + "/revocations"
	wantOAuthError(t, h.do("GET", base, nil), 401, "invalid_client")
	wantOAuthError(t, h.do("GET", base, nil, "X-API-Key", other.APIKey), 401, "invalid_client")
	wantOAuthError(t, h.do("GET", base+"?wait=31", nil, "X-API-Key", ten.APIKey), 400, "invalid_request")
	wantOAuthError(t, h.do("GET", base+"?after=-1", nil, "X-API-Key", ten.APIKey), 400, "invalid_request")
	wantOAuthError(t, h.do("GET", "/local_zzzzzzzzz/revocations", nil, "X-API-Key", ten.APIKey), 404, "invalid_request")
}

func TestFeedDoesNotDelayShutdown(t *testing.T) {
	h, ten := setup(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.do("GET", "/"+ten.UserPoolID+"/revocations?wait=30", nil, "X-API-Key", ten.APIKey)
	}()
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	h.shutdown()
	<-done
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("shutdown took %v with a long poll in flight", d)
	}
}

// TestOAuthErrorsAreOAuthShaped: even a refused size or method on the
// OAuth endpoints answers in the OAuth error format.
func TestOAuthErrorsAreOAuthShaped(t *testing.T) {
	h, ten := setup(t)
	for _, ep := range []string{"token", "revoke", "introspect"} {
		path := "/" + ten.UserPoolID + "/oauth2/" + ep
		big := h.do("POST", path, []byte("token="+strings.Repeat("x", 70<<10)), "X-API-Key", ten.APIKey, "Content-Type", "application/x-www-form-urlencoded")
		if big.status != 413 || big.json(t)["error"] != "invalid_request" {
			t.Errorf("%s, 70 KiB: %d %s", ep, big.status, big.body)
		}
		get := h.do("GET", path, nil, "X-API-Key", ten.APIKey)
		if get.status != 405 || get.json(t)["error"] != "invalid_request" || get.header.Get("Allow") != "POST" {
			t.Errorf("%s, GET: %d %s", ep, get.status, get.body)
		}
		if get.header.Get("X-Request-Id") == "" {
			t.Errorf("%s: no X-Request-Id", ep)
		}
	}
}
