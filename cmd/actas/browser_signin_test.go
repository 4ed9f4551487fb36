package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// End to end tests of browser sign-in (SPEC §9): the relying party is
// golang.org/x/oauth2 with github.com/coreos/go-oidc/v3, the browser a
// cookie jar that follows no redirect, the server a real `actas serve`.

// browser is a user agent: it keeps cookies and stops at every redirect,
// so the test sees where the server sends it.
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type page struct {
	status int
	header http.Header
	body   string
	loc    *url.URL
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	p := page{status: res.StatusCode, header: res.Header, body: string(body)}
	if l := res.Header.Get("Location"); l != "" {
		p.loc, err = url.Parse(l)
		if err != nil {
			b.t.Fatalf("bad Location %q", l)
		}
	}
	return p
}

func (b *browser) get(u string) page {
	b.t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

var (
	formAction = regexp.MustCompile(`<form method="post" action="([^"]*)"`)
	csrfInput  = regexp.MustCompile(`name="csrf_token" value="([^"]*)"`)
)

// submit posts the form of a page with fields (plus its CSRF token),
// from the page at base.
func (b *browser) submit(base string, p page, fields url.Values) page {
	b.t.Helper()
	a, c := formAction.FindStringSubmatch(p.body), csrfInput.FindStringSubmatch(p.body)
	if a == nil || c == nil {
		b.t.Fatalf("no sign-in form on the page (status %d):\n%s", p.status, p.body)
	}
	bu, _ := url.Parse(base)
	action, err := bu.Parse(html.UnescapeString(a[1]))
	if err != nil {
		b.t.Fatal(err)
	}
	fields.Set("csrf_token", html.UnescapeString(c[1]))
	if !fields.Has("step") {
		fields.Set("step", "signin")
	}
	req, _ := http.NewRequest("POST", action.String(), strings.NewReader(fields.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "null") // what Chromium sends under no-referrer
	return b.do(req)
}

// oidcEnv is a tenant with a user and a relying party set up on it.
type oidcEnv struct {
	h        *harness
	ti       tenantInfo
	provider *oidc.Provider
	ctx      context.Context
}

func newOIDCEnv(t *testing.T) *oidcEnv {
	h := newHarness(t)
	h.serve()
	ti := h.createTenant("acme")
	h.createUser("acme", "alice", "correct horse battery", "--email", "alice@example.com")
	ctx := context.Background()
	p, err := oidc.NewProvider(ctx, ti.Issuer)
	if err != nil {
		t.Fatalf("go-oidc discovery: %v", err)
	}
	return &oidcEnv{h: h, ti: ti, provider: p, ctx: ctx}
}

type rpClient struct {
	cfg      oauth2.Config
	verifier *oidc.IDTokenVerifier
}

func (e *oidcEnv) client(t *testing.T, name string, public bool, redirect string, extra ...string) *rpClient {
	t.Helper()
	var v struct {
		ClientID     string `json:"clientId"`
		ClientSecret string `json:"clientSecret"`
	}
	args := []string{"client", "create", "--tenant", "acme", "--name", name, "--redirect-uri", redirect,
		"--post-logout-redirect-uri", "https://" + strings.ToLower(strings.Fields(name)[0]) + ".example/bye"}
	if public {
		args = append(args, "--public")
	}
	e.h.mustCLI(&v, append(args, extra...)...)
	if len(v.ClientID) != 26 || (public != (v.ClientSecret == "")) {
		t.Fatalf("client create --json = %+v", v)
	}
	return &rpClient{
		cfg: oauth2.Config{
			ClientID: v.ClientID, ClientSecret: v.ClientSecret, Endpoint: e.provider.Endpoint(),
			RedirectURL: redirect, Scopes: []string{oidc.ScopeOpenID, "email", "profile", oidc.ScopeOfflineAccess},
		},
		verifier: e.provider.Verifier(&oidc.Config{ClientID: v.ClientID, Now: e.h.clock.Now}),
	}
}

func random(t *testing.T) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// flow is one authorization request: its state, nonce and PKCE verifier.
type flow struct {
	state, nonce, verifier string
	url                    string
}

func (c *rpClient) start(t *testing.T, opts ...oauth2.AuthCodeOption) flow {
	f := flow{state: random(t), nonce: random(t), verifier: oauth2.GenerateVerifier()}
	f.url = c.cfg.AuthCodeURL(f.state, append(opts, oidc.Nonce(f.nonce), oauth2.S256ChallengeOption(f.verifier))...)
	return f
}

// codeOf checks that a page redirects to the client with a code for f.
func (e *oidcEnv) codeOf(t *testing.T, c *rpClient, f flow, p page) string {
	t.Helper()
	if p.status != http.StatusFound && p.status != http.StatusSeeOther {
		t.Fatalf("status %d, want a redirect to the client; body:\n%s", p.status, p.body)
	}
	q := p.loc.Query()
	if !strings.HasPrefix(p.loc.String(), c.cfg.RedirectURL) || q.Get("code") == "" {
		t.Fatalf("redirect to %s, want %s with a code", p.loc, c.cfg.RedirectURL)
	}
	if q.Get("state") != f.state || q.Get("iss") != e.ti.Issuer {
		t.Fatalf("redirect state %q iss %q, want %q and %q (RFC 9207)", q.Get("state"), q.Get("iss"), f.state, e.ti.Issuer)
	}
	return q.Get("code")
}

// signIn runs a first sign-in through the page and returns the code.
func (e *oidcEnv) signIn(t *testing.T, b *browser, c *rpClient, f flow, user, pw string) string {
	t.Helper()
	p := b.get(f.url)
	if p.status != 200 || !strings.Contains(p.body, "acme") {
		t.Fatalf("authorize: %d, want the sign-in page showing the tenant:\n%s", p.status, p.body)
	}
	return e.codeOf(t, c, f, b.submit(f.url, p, url.Values{"username": {user}, "password": {pw}}))
}

func (e *oidcEnv) exchange(t *testing.T, c *rpClient, f flow, code string) (*oauth2.Token, *oidc.IDToken) {
	t.Helper()
	tok, err := c.cfg.Exchange(e.ctx, code, oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	id, err := c.verifier.Verify(e.ctx, raw)
	if err != nil {
		t.Fatalf("go-oidc refuses the ID token: %v", err)
	}
	if id.Nonce != f.nonce {
		t.Fatalf("nonce = %q, want %q", id.Nonce, f.nonce)
	}
	return tok, id
}

func TestBrowserSignInCodeFlow(t *testing.T) {
	e := newOIDCEnv(t)
	web := e.client(t, "web", false, "https://web.example/cb")
	b := newBrowser(t)
	f := web.start(t)
	code := e.signIn(t, b, web, f, "alice", "correct horse battery")
	tok, id := e.exchange(t, web, f, code)

	var claims map[string]any
	_ = id.Claims(&claims)
	access := claimsOf(t, tok.AccessToken)
	sid := str(claims, "sid")
	if sid == "" || str(claims, "origin_jti") != sid || str(access, "sid") != sid || str(access, "origin_jti") != sid {
		t.Errorf("sid/origin_jti: id %v access %v; want one session id", claims, access)
	}
	if str(access, "client_id") != web.cfg.ClientID || str(claims, "aud") != web.cfg.ClientID {
		t.Errorf("aud %v client_id %v, want the OAuth client's id %s", claims["aud"], access["client_id"], web.cfg.ClientID)
	}
	if tok.TokenType != "Bearer" || tok.RefreshToken == "" || tok.Extra("scope") != "openid email profile offline_access" {
		t.Errorf("token response: type %q refresh %q scope %v", tok.TokenType, tok.RefreshToken, tok.Extra("scope"))
	}

	// userinfo with go-oidc.
	ui, err := e.provider.UserInfo(e.ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	if ui.Subject != id.Subject || ui.Email != "alice@example.com" {
		t.Errorf("userinfo = %+v", ui)
	}

	// The session is ordinary: /auth/token refresh cannot use its
	// refresh token, but the client's refresh grant can.
	e.h.clock.Advance(2 * time.Second)
	ts := web.cfg.TokenSource(e.ctx, &oauth2.Token{RefreshToken: tok.RefreshToken})
	nt, err := ts.Token()
	if err != nil {
		t.Fatalf("refresh grant: %v", err)
	}
	if _, err := web.verifier.Verify(e.ctx, nt.Extra("id_token").(string)); err != nil {
		t.Fatalf("refreshed ID token: %v", err)
	}
	r := e.h.do("POST", "/auth/token", map[string]any{"session": map[string]string{"refreshToken": tok.RefreshToken}}, "X-API-Key", e.ti.APIKey)
	if r.status != 401 {
		t.Errorf("/auth/token refresh with an OAuth client's refresh token: %d, want 401", r.status)
	}

	// A second use of the code is refused and revokes the first's session.
	if _, err := web.cfg.Exchange(e.ctx, code, oauth2.VerifierOption(f.verifier)); !isOAuthError(err, "invalid_grant") {
		t.Fatalf("second exchange: %v, want invalid_grant", err)
	}
	if _, err := e.provider.UserInfo(e.ctx, oauth2.StaticTokenSource(nt)); err == nil {
		t.Fatal("userinfo still accepts the tokens of a reused code's session")
	}
	intro := e.h.do("POST", "/"+e.ti.UserPoolID+"/oauth2/introspect", "token="+nt.AccessToken,
		"X-API-Key", e.ti.APIKey, "Content-Type", "application/x-www-form-urlencoded")
	if !strings.Contains(string(intro.body), `"active":false`) {
		t.Errorf("introspection of a revoked session's token: %s", intro.body)
	}
}

func isOAuthError(err error, code string) bool {
	re, ok := err.(*oauth2.RetrieveError)
	return ok && re.ErrorCode == code
}

func TestBrowserSignInSSOPromptLogout(t *testing.T) {
	e := newOIDCEnv(t)
	web := e.client(t, "web", false, "https://web.example/cb")
	spa := e.client(t, "spa", true, "http://127.0.0.1/callback")
	b := newBrowser(t)

	// prompt=none without a browser session.
	f := web.start(t, oauth2.SetAuthURLParam("prompt", "none"))
	p := b.get(f.url)
	if p.loc == nil || p.loc.Query().Get("error") != "login_required" || p.loc.Query().Get("state") != f.state {
		t.Fatalf("prompt=none without a session: %d %v, want a redirect with login_required", p.status, p.loc)
	}

	f = web.start(t)
	code := e.signIn(t, b, web, f, "alice", "correct horse battery")
	_, id1 := e.exchange(t, web, f, code)
	var c1 map[string]any
	_ = id1.Claims(&c1)

	// SSO: the public client on a loopback port gets a code at once.
	spa.cfg.RedirectURL = "http://127.0.0.1:49152/callback"
	f2 := spa.start(t)
	code2 := e.codeOf(t, spa, f2, b.get(f2.url))
	tok2, id2 := e.exchange(t, spa, f2, code2)
	var c2 map[string]any
	_ = id2.Claims(&c2)
	if c1["sid"] == c2["sid"] || c1["auth_time"] != c2["auth_time"] {
		t.Errorf("SSO: sids %v %v (want two sessions), auth_time %v %v (want one sign-in)", c1["sid"], c2["sid"], c1["auth_time"], c2["auth_time"])
	}
	if tok2.RefreshToken == "" {
		t.Error("offline_access gave no refresh token to the public client")
	}
	// prompt=none with a session: a code.
	f3 := web.start(t, oauth2.SetAuthURLParam("prompt", "none"))
	e.codeOf(t, web, f3, b.get(f3.url))
	// max_age not yet passed: a code; prompt=login and an exceeded
	// max_age (0: always) show the form again.
	f5 := web.start(t, oauth2.SetAuthURLParam("max_age", "3600"))
	e.codeOf(t, web, f5, b.get(f5.url))
	for _, opt := range []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("prompt", "login"), oauth2.SetAuthURLParam("max_age", "0")} {
		f := web.start(t, opt)
		if p := b.get(f.url); p.status != 200 || !strings.Contains(p.body, `name="password"`) {
			t.Errorf("%v: status %d, want the sign-in form", opt, p.status)
		}
	}

	// Logout ends the browser session and every session it gave codes.
	raw := tok2.Extra("id_token").(string)
	lo := b.get(e.ti.Issuer + "/oauth2/logout?" + url.Values{"id_token_hint": {raw},
		"post_logout_redirect_uri": {"https://spa.example/bye"}, "state": {"s1"}}.Encode())
	if lo.loc == nil || lo.loc.String() != "https://spa.example/bye?state=s1" {
		t.Fatalf("logout: %d %v, want a redirect to the registered URI with state", lo.status, lo.loc)
	}
	if _, err := e.provider.UserInfo(e.ctx, oauth2.StaticTokenSource(tok2)); err == nil {
		t.Error("tokens of a signed-out browser session still work")
	}
	f4 := web.start(t, oauth2.SetAuthURLParam("prompt", "none"))
	if p := b.get(f4.url); p.loc == nil || p.loc.Query().Get("error") != "login_required" {
		t.Errorf("after logout prompt=none: %v, want login_required", p.loc)
	}
	// Unregistered post-logout URI: an error page, no redirect.
	if p := b.get(e.ti.Issuer + "/oauth2/logout?" + url.Values{"client_id": {spa.cfg.ClientID},
		"post_logout_redirect_uri": {"https://evil.example/"}}.Encode()); p.status != 400 || p.loc != nil {
		t.Errorf("unregistered post_logout_redirect_uri: %d %v, want a 400 page", p.status, p.loc)
	}
	// Without a redirect: the signed-out page.
	if p := b.get(e.ti.Issuer + "/oauth2/logout"); p.status != 200 || !strings.Contains(p.body, "signed out") {
		t.Errorf("logout without redirect: %d", p.status)
	}
}

func TestBrowserSignInPageSecurity(t *testing.T) {
	e := newOIDCEnv(t)
	web := e.client(t, "web", false, "https://web.example/cb")
	b := newBrowser(t)
	f := web.start(t)
	p := b.get(f.url)
	csp := p.header.Get("Content-Security-Policy")
	for _, want := range []string{"frame-ancestors 'none'", "form-action 'self' https://web.example", "default-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "script-src") || strings.Contains(p.body, "<script") {
		t.Error("the page has script")
	}
	for k, v := range map[string]string{"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"} {
		if p.header.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, p.header.Get(k), v)
		}
	}
	for _, want := range []string{`<html lang="en">`, `<label for="username">`, `<label for="password">`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("page lacks %s", want)
		}
	}

	// Wrong password, unknown user and disabled user: one message, tied
	// to the field.
	e.h.createUser("acme", "bob", "bob's long password")
	e.h.mustCLI(nil, "user", "disable", "--tenant", "acme", "--username", "bob")
	var first string
	for _, c := range [][2]string{{"alice", "wrong password!"}, {"nobody", "whatever pass"}, {"bob", "bob's long password"}} {
		r := b.submit(f.url, b.get(f.url), url.Values{"username": {c[0]}, "password": {c[1]}})
		if r.status != 401 || r.loc != nil {
			t.Fatalf("%s: %d %v, want 401 and the page again", c[0], r.status, r.loc)
		}
		msg := regexp.MustCompile(`<p class="error" id="password-error" role="alert">([^<]*)</p>`).FindStringSubmatch(r.body)
		if msg == nil || !strings.Contains(r.body, `aria-describedby="password-error"`) {
			t.Fatalf("%s: no error tied to the password field:\n%s", c[0], r.body)
		}
		if first == "" {
			first = msg[1]
		} else if msg[1] != first {
			t.Errorf("%s: message %q differs from %q", c[0], msg[1], first)
		}
	}
	// The page sign-ins are audited, right or wrong.
	out, _, _ := e.h.cli("", "audit", "--tenant", "acme", "--json")
	if n := strings.Count(out, `"page_signin"`); n < 3 || !strings.Contains(out, `"subject":"nobody"`) {
		t.Errorf("audit has %d page sign-ins:\n%s", n, out)
	}

	// CSRF: a post without the cookie's token is refused.
	req, _ := http.NewRequest("POST", f.url, strings.NewReader(url.Values{"username": {"alice"}, "password": {"correct horse battery"}, "csrf_token": {"forged"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r := b.do(req); r.status != 403 || r.loc != nil {
		t.Errorf("forged CSRF token: %d %v, want 403 and no redirect", r.status, r.loc)
	}

	// The cookie: attributes, and a new one at every sign-in.
	var cookies []string
	for range 2 {
		f := web.start(t, oauth2.SetAuthURLParam("prompt", "login"))
		p := b.get(f.url)
		res := b.submit(f.url, p, url.Values{"username": {"alice"}, "password": {"correct horse battery"}})
		e.codeOf(t, web, f, res)
		var sc string
		for _, c := range res.header.Values("Set-Cookie") {
			if strings.HasPrefix(c, "actas_session=") {
				sc = c
			}
		}
		for _, attr := range []string{"Path=/" + e.ti.UserPoolID + "/", "HttpOnly", "SameSite=Lax"} {
			if !strings.Contains(sc, attr) {
				t.Errorf("session cookie %q lacks %s", sc, attr)
			}
		}
		if strings.Contains(sc, "Secure") {
			t.Errorf("cookie %q is Secure on an http public URL", sc)
		}
		cookies = append(cookies, sc)
	}
	if cookies[0] == cookies[1] {
		t.Error("the same session cookie was issued at two sign-ins")
	}
}

func TestBrowserSignInMustChangePassword(t *testing.T) {
	e := newOIDCEnv(t)
	web := e.client(t, "web", false, "https://web.example/cb")
	e.h.createUser("acme", "carol", "temporary pass 1", "--must-change-password")
	b := newBrowser(t)
	f := web.start(t)
	p := b.get(f.url)
	p = b.submit(f.url, p, url.Values{"username": {"carol"}, "password": {"temporary pass 1"}})
	if p.status != 200 || !strings.Contains(p.body, `name="new_password"`) {
		t.Fatalf("must_change_password: %d, want the change-password page:\n%s", p.status, p.body)
	}
	for _, c := range []struct{ pw, field string }{
		{"short", "new_password"},
		{"carol", "new_password"},
		{"temporary pass 1", "new_password"},
	} {
		r := b.submit(f.url, p, url.Values{"step": {"password"}, "username": {"carol"}, "password": {"temporary pass 1"},
			"new_password": {c.pw}, "confirm_password": {c.pw}})
		if r.status != 400 || !strings.Contains(r.body, `aria-describedby="`+c.field+`-error"`) {
			t.Errorf("new password %q: %d, want 400 with the error on %s:\n%s", c.pw, r.status, c.field, r.body)
		}
	}
	r := b.submit(f.url, p, url.Values{"step": {"password"}, "username": {"carol"}, "password": {"temporary pass 1"},
		"new_password": {"a much better one"}, "confirm_password": {"a much better one"}})
	code := e.codeOf(t, web, f, r)
	e.exchange(t, web, f, code)
	if res := e.h.do("POST", "/auth/token", map[string]string{"username": "carol", "password": "a much better one"}, "X-API-Key", e.ti.APIKey); res.status != 200 {
		t.Errorf("sign-in with the new password: %d %s", res.status, res.body)
	}
}

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

// The refresh grant applies the tenant's rotation and reuse detection:
// presenting a rotated refresh token (past the grace period) revokes the
// session.
func TestBrowserSignInRefreshRotation(t *testing.T) {
	e := newOIDCEnv(t)
	e.h.mustCLI(nil, "tenant", "set", "acme", "refresh_rotation=true", "rotation_grace=1s")
	web := e.client(t, "web", false, "https://web.example/cb")
	f := web.start(t)
	tok, _ := e.exchange(t, web, f, e.signIn(t, newBrowser(t), web, f, "alice", "correct horse battery"))
	first := tok.RefreshToken
	nt, err := web.cfg.TokenSource(e.ctx, &oauth2.Token{RefreshToken: first}).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if nt.RefreshToken == "" || nt.RefreshToken == first {
		t.Fatalf("rotation on: refresh token %q, want a new one", nt.RefreshToken)
	}
	e.h.clock.Advance(5 * time.Second)
	if _, err := web.cfg.TokenSource(e.ctx, &oauth2.Token{RefreshToken: first}).Token(); !isOAuthError(err, "invalid_grant") {
		t.Fatalf("reuse of a rotated refresh token: %v, want invalid_grant", err)
	}
	if _, err := web.cfg.TokenSource(e.ctx, &oauth2.Token{RefreshToken: nt.RefreshToken}).Token(); !isOAuthError(err, "invalid_grant") {
		t.Fatalf("after reuse the current refresh token still works: %v", err)
	}
	// Another client cannot use this client's refresh token.
	other := e.client(t, "other", false, "https://other.example/cb")
	f = web.start(t)
	tok, _ = e.exchange(t, web, f, e.signIn(t, newBrowser(t), web, f, "alice", "correct horse battery"))
	if _, err := other.cfg.TokenSource(e.ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); !isOAuthError(err, "invalid_grant") {
		t.Fatalf("another client's refresh token: %v, want invalid_grant", err)
	}
}

// Cookies carry Secure when the public URL is https.
func TestBrowserSignInSecureCookies(t *testing.T) {
	h := newHarness(t)
	h.serve("--public-url", "https://auth.example")
	h.createTenant("acme")
	var ti tenantInfo
	h.mustCLI(&ti, "tenant", "show", "acme")
	var c struct {
		ClientID string `json:"clientId"`
	}
	h.mustCLI(&c, "client", "create", "--tenant", "acme", "--name", "web", "--redirect-uri", "https://web.example/cb")
	q := url.Values{"response_type": {"code"}, "client_id": {c.ClientID}, "redirect_uri": {"https://web.example/cb"},
		"scope": {"openid"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"}}
	p := newBrowser(t).get(h.url + "/" + ti.UserPoolID + "/oauth2/authorize?" + q.Encode())
	sc := p.header.Get("Set-Cookie")
	if p.status != 200 || !strings.HasPrefix(sc, "actas_csrf=") || !strings.Contains(sc, "Secure") || !strings.Contains(sc, "HttpOnly") {
		t.Fatalf("status %d, Set-Cookie %q: want a Secure HttpOnly CSRF cookie", p.status, sc)
	}
}
