package main

import (
	"encoding/base64"
	"fmt"
	"html"
	"net/url"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"golang.org/x/oauth2"

	"github.com/actas-dev/actas"
)

func init() {
	// The sign-in pages and their stylesheet are text: their bodies are
	// checked against their schemas ({type: string}) and their headers
	// like any other answer's.
	for _, ct := range []string{"text/html", "text/css", "image/svg+xml"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.PlainBodyDecoder)
	}
}

// contractBrowser runs browser sign-in (SPEC §9) through the contract over
// real HTTP: the authorization endpoint and its sign-in form, the
// authorization_code and refresh_token grants of the token endpoint,
// userinfo, logout and the pages' stylesheet, each with its main
// refusals. The browser keeps cookies and follows no redirect, so every
// redirect is itself an answer checked against openapi.yaml.
func contractBrowser(t *testing.T, c *contract, h *harness, ten tenantInfo) {
	pool := "/" + ten.UserPoolID
	var web, spa struct {
		ClientID     string `json:"clientId"`
		ClientSecret string `json:"clientSecret"`
	}
	h.mustCLI(&web, "client", "create", "--tenant", "acme", "--name", "Web", "--redirect-uri", "https://web.example/cb",
		"--post-logout-redirect-uri", "https://web.example/bye")
	h.mustCLI(&spa, "client", "create", "--tenant", "acme", "--name", "SPA", "--public", "--redirect-uri", "http://127.0.0.1/callback")
	h.createUser("acme", "bea", "bea-temporary-1", "--must-change-password")

	b := newBrowser(t)
	bc := *c // the same coverage, through the browser
	bc.client = b.c
	form := func(f url.Values) []byte { return []byte(f.Encode()) }
	const formType = "application/x-www-form-urlencoded"
	basic := func(id, secret string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
	}
	// authorize returns an authorization request's path and its PKCE
	// verifier; extra are query parameters to set (an empty value deletes).
	authorize := func(clientID, redirect string, extra ...string) (string, string) {
		verifier := oauth2.GenerateVerifier()
		q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirect},
			"scope": {"openid email profile offline_access"}, "state": {"st"}, "nonce": {"n1"},
			"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}
		for i := 0; i+1 < len(extra); i += 2 {
			if extra[i+1] == "" {
				q.Del(extra[i])
			} else {
				q.Set(extra[i], extra[i+1])
			}
		}
		return pool + "/oauth2/authorize?" + q.Encode(), verifier
	}
	// back checks a redirect to the client and returns its query.
	back := func(r response, status int, prefix string) url.Values {
		t.Helper()
		want(t, r, status)
		loc, err := url.Parse(r.header.Get("Location"))
		if err != nil || !strings.HasPrefix(loc.String(), prefix) {
			t.Fatalf("redirect to %q, want %s…", r.header.Get("Location"), prefix)
		}
		q := loc.Query()
		if strings.HasPrefix(prefix, "https://web.example/cb") || strings.HasPrefix(prefix, "http://127.0.0.1") {
			if q.Get("state") != "st" || q.Get("iss") != ten.Issuer {
				t.Fatalf("redirect %s: want state and iss (RFC 9207)", loc)
			}
		}
		return q
	}
	// page returns the action and CSRF token of a page's form.
	page := func(r response) (string, string) {
		t.Helper()
		a, tok := formAction.FindSubmatch(r.body), csrfInput.FindSubmatch(r.body)
		if a == nil || tok == nil {
			t.Fatalf("no form on the page (status %d):\n%s", r.status, r.body)
		}
		return html.UnescapeString(string(a[1])), html.UnescapeString(string(tok[1]))
	}

	// The authorization endpoint: the page, and its refusals.
	webAuth, webVerifier := authorize(web.ClientID, "https://web.example/cb")
	signInPage := bc.check(true, "GET", webAuth, "", nil)
	want(t, signInPage, 200)
	action, csrf := page(signInPage)
	if action != webAuth {
		t.Fatalf("the form posts to %s, want %s", action, webAuth)
	}
	unknown, _ := authorize("aaaaaaaaaaaaaaaaaaaaaaaaaa", "https://web.example/cb")
	want(t, bc.check(true, "GET", unknown, "", nil), 400)
	unregistered, _ := authorize(web.ClientID, "https://evil.example/cb")
	if r := bc.check(true, "GET", unregistered, "", nil); r.status != 400 || r.header.Get("Location") != "" {
		t.Fatalf("unregistered redirect_uri: %d to %q, want the 400 page and no redirect", r.status, r.header.Get("Location"))
	}
	want(t, bc.check(true, "GET", strings.Replace(webAuth, pool, "/local_notapool1", 1), "", nil), 404)
	noPKCE, _ := authorize(web.ClientID, "https://web.example/cb", "code_challenge", "")
	if q := back(bc.check(false, "GET", noPKCE, "", nil), 302, "https://web.example/cb?"); q.Get("error") != "invalid_request" {
		t.Errorf("no code_challenge: error %q, want invalid_request", q.Get("error"))
	}
	none, _ := authorize(web.ClientID, "https://web.example/cb", "prompt", "none")
	if q := back(bc.check(true, "GET", none, "", nil), 302, "https://web.example/cb?"); q.Get("error") != "login_required" {
		t.Errorf("prompt=none without a session: error %q, want login_required", q.Get("error"))
	}

	// The sign-in form: its refusals, then a sign-in.
	signInForm := func(user, pw string) url.Values {
		return url.Values{"csrf_token": {csrf}, "step": {"signin"}, "username": {user}, "password": {pw}}
	}
	want(t, bc.check(true, "POST", webAuth, formType, form(with(signInForm("alice", "alice-password"), "csrf_token", "forged"))), 403)
	want(t, bc.check(true, "POST", webAuth, formType, form(signInForm("alice", "wrong password"))), 401)
	want(t, bc.check(false, "POST", webAuth, formType, form(without(signInForm("alice", ""), "password"))), 400)
	want(t, bc.check(true, "POST", webAuth, formType, form(signInForm("mallory", "guess"))), 429) // throttled above
	code := back(bc.check(true, "POST", webAuth, formType, form(signInForm("alice", "alice-password"))), 303, "https://web.example/cb?").Get("code")

	// The required password change, on a browser of its own.
	b2 := newBrowser(t)
	bc2 := *c
	bc2.client = b2.c
	beaAuth, _ := authorize(web.ClientID, "https://web.example/cb")
	_, csrf2 := page(bc2.check(true, "GET", beaAuth, "", nil))
	change := bc2.check(true, "POST", beaAuth, formType, form(url.Values{"csrf_token": {csrf2}, "username": {"bea"}, "password": {"bea-temporary-1"}}))
	want(t, change, 200)
	if !strings.Contains(string(change.body), `name="new_password"`) {
		t.Fatalf("must_change_password: want the change-password page:\n%s", change.body)
	}
	step := url.Values{"csrf_token": {csrf2}, "step": {"password"}, "username": {"bea"}, "password": {"bea-temporary-1"},
		"new_password": {"bea-better-password"}, "confirm_password": {"bea-other-password"}}
	want(t, bc2.check(true, "POST", beaAuth, formType, form(step)), 400)
	back(bc2.check(true, "POST", beaAuth, formType, form(with(step, "confirm_password", "bea-better-password"))), 303, "https://web.example/cb?")

	// The token endpoint's authorization_code grant.
	tokenPath := pool + "/oauth2/token"
	exchange := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"https://web.example/cb"},
		"code_verifier": {webVerifier}}
	want(t, c.form(true, tokenPath, exchange, "Authorization", basic(web.ClientID, "wrong")), 401)
	want(t, c.form(false, tokenPath, without(exchange, "code_verifier"), "Authorization", basic(web.ClientID, web.ClientSecret)), 400)
	tok := c.form(true, tokenPath, exchange, "Authorization", basic(web.ClientID, web.ClientSecret))
	want(t, tok, 200)
	tokens := tok.json(t)
	if str(tokens, "refresh_token") == "" || str(tokens, "scope") != "openid email profile offline_access" {
		t.Errorf("code exchange: %s, want a refresh token and the granted scope", tok.body)
	}
	// Unsupported grant_type, once the client is authenticated without an
	// API key.
	if r := c.form(false, tokenPath, url.Values{"grant_type": {"password"}}, "Authorization", basic(web.ClientID, web.ClientSecret)); r.status != 400 || str(r.json(t), "error") != "unsupported_grant_type" {
		t.Errorf("grant_type=password from an OAuth client: %d %s", r.status, r.body)
	}

	// Single sign-on: the public client on a loopback port gets a code at
	// once, and exchanges it with its client_id alone.
	spaAuth, spaVerifier := authorize(spa.ClientID, "http://127.0.0.1:49152/callback")
	spaCode := back(bc.check(true, "GET", spaAuth, "", nil), 302, "http://127.0.0.1:49152/callback?").Get("code")
	spaTok := c.form(true, tokenPath, url.Values{"grant_type": {"authorization_code"}, "code": {spaCode},
		"redirect_uri": {"http://127.0.0.1:49152/callback"}, "code_verifier": {spaVerifier}, "client_id": {spa.ClientID}})
	want(t, spaTok, 200)
	// A second use of a code is refused, and revokes the session of the
	// first exchange.
	spaExchange := url.Values{"grant_type": {"authorization_code"}, "code": {spaCode},
		"redirect_uri": {"http://127.0.0.1:49152/callback"}, "code_verifier": {spaVerifier}, "client_id": {spa.ClientID}}
	if r := c.form(true, tokenPath, spaExchange); r.status != 400 || str(r.json(t), "error") != "invalid_grant" {
		t.Errorf("a second use of the code: %d %s, want 400 invalid_grant", r.status, r.body)
	}
	want(t, c.check(true, "GET", pool+"/oauth2/userinfo", "", nil, "Authorization", "Bearer "+str(spaTok.json(t), "access_token")), 401)

	// The refresh_token grant, with client_secret_post.
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {str(tokens, "refresh_token")},
		"client_id": {web.ClientID}, "client_secret": {web.ClientSecret}}
	want(t, c.form(true, tokenPath, refresh), 200)
	if r := c.form(true, tokenPath, with(refresh, "refresh_token", strings.Repeat("A", 43))); r.status != 400 || str(r.json(t), "error") != "invalid_grant" {
		t.Errorf("unknown refresh token: %d %s", r.status, r.body)
	}
	// The refresh token of another client.
	if r := c.form(true, tokenPath, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {str(tokens, "refresh_token")},
		"client_id": {spa.ClientID}}); r.status != 400 || str(r.json(t), "error") != "invalid_grant" {
		t.Errorf("another client's refresh token: %d %s", r.status, r.body)
	}

	// userinfo, by GET and POST, and its refusals.
	access := str(tokens, "access_token")
	info := c.check(true, "GET", pool+"/oauth2/userinfo", "", nil, "Authorization", "Bearer "+access)
	want(t, info, 200)
	if claims := info.json(t); str(claims, "username") != "alice" || str(claims, "email") != "alice@acme.example" {
		t.Errorf("userinfo: %s", info.body)
	}
	want(t, c.check(true, "POST", pool+"/oauth2/userinfo", formType, form(url.Values{"access_token": {access}})), 200)
	want(t, c.check(true, "POST", pool+"/oauth2/userinfo", "", nil, "Authorization", "Bearer "+access), 200)
	want(t, c.check(false, "GET", pool+"/oauth2/userinfo", "", nil), 401)
	want(t, c.check(true, "POST", pool+"/oauth2/userinfo", "", nil, "Authorization", "Bearer x.y.z"), 401)
	want(t, c.check(true, "GET", "/local_notapool1/oauth2/userinfo", "", nil, "Authorization", "Bearer "+access), 404)

	// Logout: its refusals (before anything is ended), then by the hint
	// with a redirect, which ends the code's session too.
	logout := pool + "/oauth2/logout?"
	want(t, bc.check(true, "GET", logout+url.Values{"client_id": {web.ClientID}, "post_logout_redirect_uri": {"https://evil.example/"}}.Encode(), "", nil), 400)
	want(t, bc.check(true, "GET", "/local_notapool1/oauth2/logout", "", nil), 404)
	lo := bc.check(true, "GET", logout+url.Values{"id_token_hint": {str(tokens, "id_token")},
		"post_logout_redirect_uri": {"https://web.example/bye"}, "state": {"s1"}}.Encode(), "", nil)
	want(t, lo, 302)
	if lo.header.Get("Location") != "https://web.example/bye?state=s1" {
		t.Errorf("logout redirects to %q", lo.header.Get("Location"))
	}
	want(t, c.check(true, "GET", pool+"/oauth2/userinfo", "", nil, "Authorization", "Bearer "+access), 401)
	want(t, bc.check(true, "GET", pool+"/oauth2/logout", "", nil), 200)
	want(t, bc.check(true, "POST", pool+"/oauth2/logout", formType, form(url.Values{"client_id": {web.ClientID}})), 200)
	want(t, bc.check(true, "POST", pool+"/oauth2/logout", formType, form(url.Values{"client_id": {web.ClientID},
		"post_logout_redirect_uri": {"https://web.example/bye"}})), 303)
	want(t, bc.check(false, "POST", pool+"/oauth2/logout", "text/plain", []byte("x")), 400)

	// The pages' stylesheet.
	want(t, bc.check(true, "GET", pool+"/oauth2/static/signin.css", "", nil), 200)
	want(t, bc.check(true, "GET", pool+"/oauth2/static/nosuch.css", "", nil), 404)
}

// TestOpenAPIBrowserUnavailable: a sign-in through the page while the
// store refuses writes answers the description's 503 page, with
// Retry-After as every other 503 (SPEC §2), and the next sign-in after
// the fault clears succeeds.
func TestOpenAPIBrowserUnavailable(t *testing.T) {
	doc := loadOpenAPI(t)
	h := newHarness(t)
	fs := &faultStore{}
	h.wrap = func(s actas.Store) actas.Store { fs.Store = s; return fs }
	h.serve()
	ten := h.createTenant("acme")
	h.createUser("acme", "alice", "alice-password")
	var web struct {
		ClientID string `json:"clientId"`
	}
	h.mustCLI(&web, "client", "create", "--tenant", "acme", "--name", "Web", "--redirect-uri", "https://web.example/cb")
	b := newBrowser(t)
	c := &contract{t: t, h: h, router: routerFor(t, doc, h), covered: map[string]bool{}, statuses: map[string]bool{}, client: b.c}
	q := url.Values{"response_type": {"code"}, "client_id": {web.ClientID}, "redirect_uri": {"https://web.example/cb"},
		"scope": {"openid"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"}}
	path := "/" + ten.UserPoolID + "/oauth2/authorize?" + q.Encode()
	p := c.check(true, "GET", path, "", nil)
	want(t, p, 200)
	tok := csrfInput.FindSubmatch(p.body)
	if tok == nil {
		t.Fatalf("no CSRF token on the page:\n%s", p.body)
	}
	body := []byte(url.Values{"csrf_token": {html.UnescapeString(string(tok[1]))}, "username": {"alice"}, "password": {"alice-password"}}.Encode())

	fs.mode.Store(&faultMode{err: fmt.Errorf("%w: database or disk is full (SQLITE_FULL)", actas.ErrUnavailable)})
	r := c.check(true, "POST", path, "application/x-www-form-urlencoded", body)
	if r.status != 503 || r.header.Get("Retry-After") == "" {
		t.Errorf("page sign-in while writes fail: %d with Retry-After %q, want 503 with Retry-After", r.status, r.header.Get("Retry-After"))
	}
	fs.mode.Store(nil)
	want(t, c.check(true, "POST", path, "application/x-www-form-urlencoded", body), 303)
}
