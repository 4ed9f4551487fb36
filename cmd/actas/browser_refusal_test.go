package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// Every refusal of SPEC §9's authorization and token endpoints.

func TestBrowserSignInAuthorizeRefusals(t *testing.T) {
	e := newOIDCEnv(t)
	web := e.client(t, "web", false, "https://web.example/cb")
	b := newBrowser(t)
	good := func() url.Values {
		return url.Values{
			"response_type": {"code"}, "client_id": {web.cfg.ClientID}, "redirect_uri": {"https://web.example/cb"},
			"scope": {"openid"}, "state": {"st"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())},
			"code_challenge_method": {"S256"},
		}
	}
	authz := e.ti.Issuer + "/oauth2/authorize?"

	// The client or its redirect URI cannot be trusted: an HTML page.
	for name, change := range map[string]func(url.Values){
		"no client_id":        func(q url.Values) { q.Del("client_id") },
		"unknown client":      func(q url.Values) { q.Set("client_id", "aaaaaaaaaaaaaaaaaaaaaaaaaa") },
		"no redirect_uri":     func(q url.Values) { q.Del("redirect_uri") },
		"other port":          func(q url.Values) { q.Set("redirect_uri", "https://web.example:444/cb") },
		"extra path":          func(q url.Values) { q.Set("redirect_uri", "https://web.example/cb/x") },
		"userinfo @":          func(q url.Values) { q.Set("redirect_uri", "https://web.example@evil.example/cb") },
		"backslash":           func(q url.Values) { q.Set("redirect_uri", `https://evil.example\@web.example/cb`) },
		"encoded":             func(q url.Values) { q.Set("redirect_uri", "https://web.example/%63b") },
		"fragment":            func(q url.Values) { q.Set("redirect_uri", "https://web.example/cb#x") },
		"repeated client_id":  func(q url.Values) { q.Add("client_id", web.cfg.ClientID) },
		"another tenant pool": nil,
	} {
		q := good()
		u := authz
		if change == nil {
			u = e.h.url + "/local_notapool1/oauth2/authorize?"
		} else {
			change(q)
		}
		p := b.get(u + q.Encode())
		if p.loc != nil || (p.status != 400 && p.status != 404) || !strings.HasPrefix(p.header.Get("Content-Type"), "text/html") {
			t.Errorf("%s: %d %v %q, want an HTML error page and no redirect", name, p.status, p.loc, p.header.Get("Content-Type"))
		}
	}

	// Anything else: a redirect with error, error_description, state, iss.
	for _, c := range []struct {
		name, code string
		change     func(url.Values)
	}{
		{"no response_type", "invalid_request", func(q url.Values) { q.Del("response_type") }},
		{"token response_type", "unsupported_response_type", func(q url.Values) { q.Set("response_type", "token") }},
		{"no openid", "invalid_scope", func(q url.Values) { q.Set("scope", "email") }},
		{"only unknown scopes", "invalid_scope", func(q url.Values) { q.Set("scope", "admin phone") }},
		{"no challenge", "invalid_request", func(q url.Values) { q.Del("code_challenge") }},
		{"no method", "invalid_request", func(q url.Values) { q.Del("code_challenge_method") }},
		{"plain", "invalid_request", func(q url.Values) { q.Set("code_challenge_method", "plain") }},
		{"short challenge", "invalid_request", func(q url.Values) { q.Set("code_challenge", "abc") }},
		{"bad prompt", "invalid_request", func(q url.Values) { q.Set("prompt", "bogus") }},
		{"prompt none with login", "invalid_request", func(q url.Values) { q.Set("prompt", "none login") }},
		{"bad max_age", "invalid_request", func(q url.Values) { q.Set("max_age", "-1") }},
		{"long nonce", "invalid_request", func(q url.Values) { q.Set("nonce", strings.Repeat("n", 513)) }},
		{"nonce not UTF-8", "invalid_request", func(q url.Values) { q.Set("nonce", "n\xff") }},
		{"repeated scope", "invalid_request", func(q url.Values) { q.Add("scope", "openid") }},
		{"request object", "request_not_supported", func(q url.Values) { q.Set("request", "x") }},
		{"prompt none", "login_required", func(q url.Values) { q.Set("prompt", "none") }},
	} {
		q := good()
		c.change(q)
		p := b.get(authz + q.Encode())
		if p.loc == nil {
			t.Errorf("%s: %d, want a redirect", c.name, p.status)
			continue
		}
		rq := p.loc.Query()
		if !strings.HasPrefix(p.loc.String(), "https://web.example/cb?") || rq.Get("error") != c.code ||
			rq.Get("error_description") == "" || rq.Get("state") != "st" || rq.Get("iss") != e.ti.Issuer {
			t.Errorf("%s: redirect %s, want error=%s with description, state and iss", c.name, p.loc, c.code)
		}
	}
}

func TestBrowserSignInTokenRefusals(t *testing.T) {
	e := newOIDCEnv(t)
	web := e.client(t, "web", false, "https://web.example/cb")
	spa := e.client(t, "spa", true, "https://spa.example/cb")
	tokenURL := e.ti.Issuer + "/oauth2/token"
	post := func(form url.Values, basic ...string) (int, string, http.Header) {
		req, _ := http.NewRequest("POST", tokenURL, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if len(basic) == 2 {
			req.SetBasicAuth(url.QueryEscape(basic[0]), url.QueryEscape(basic[1]))
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body struct {
			Error string `json:"error"`
		}
		_ = jsonDecode(res.Body, &body)
		return res.StatusCode, body.Error, res.Header
	}
	// A fresh code for web each time.
	newCode := func(c *rpClient) (string, flow) {
		b := newBrowser(t)
		f := c.start(t)
		return e.signIn(t, b, c, f, "alice", "correct horse battery"), f
	}
	code, f := newCode(web)
	base := func() url.Values {
		return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"https://web.example/cb"},
			"code_verifier": {f.verifier}}
	}
	cases := []struct {
		name   string
		form   url.Values
		basic  []string
		status int
		code   string
	}{
		{"no client auth", base(), nil, 401, "invalid_client"},
		{"wrong secret", base(), []string{web.cfg.ClientID, "wrong"}, 401, "invalid_client"},
		{"unknown client", base(), []string{"zzzzzzzzzzzzzzzzzzzzzzzzzz", "x"}, 401, "invalid_client"},
		{"public without secret for a confidential client", with(base(), "client_id", web.cfg.ClientID), nil, 401, "invalid_client"},
		{"two methods", with(base(), "client_secret", web.cfg.ClientSecret), []string{web.cfg.ClientID, web.cfg.ClientSecret}, 400, "invalid_request"},
		{"no code", without(base(), "code"), []string{web.cfg.ClientID, web.cfg.ClientSecret}, 400, "invalid_request"},
		{"no verifier", without(base(), "code_verifier"), []string{web.cfg.ClientID, web.cfg.ClientSecret}, 400, "invalid_request"},
		{"no redirect_uri", without(base(), "redirect_uri"), []string{web.cfg.ClientID, web.cfg.ClientSecret}, 400, "invalid_request"},
		{"another client's code", with(base(), "client_id", spa.cfg.ClientID), nil, 400, "invalid_grant"},
	}
	for _, c := range cases {
		st, code, h := post(c.form, c.basic...)
		if st != c.status || code != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, st, code, c.status, c.code)
		}
		if st == 401 && !strings.HasPrefix(h.Get("WWW-Authenticate"), "Basic") {
			t.Errorf("%s: WWW-Authenticate %q", c.name, h.Get("WWW-Authenticate"))
		}
	}
	// Each of these consumes a fresh code.
	for _, c := range []struct {
		name   string
		change func(url.Values)
		before func()
	}{
		{"wrong verifier", func(q url.Values) { q.Set("code_verifier", oauth2.GenerateVerifier()) }, nil},
		{"other redirect_uri", func(q url.Values) { q.Set("redirect_uri", "https://web.example/other") }, nil},
		{"expired", func(url.Values) {}, func() { e.h.clock.Advance(61 * time.Second) }},
		{"unknown code", func(q url.Values) { q.Set("code", strings.Repeat("A", 43)) }, nil},
	} {
		code, f = newCode(web)
		q := base()
		c.change(q)
		if c.before != nil {
			c.before()
		}
		if st, ec, _ := post(q, web.cfg.ClientID, web.cfg.ClientSecret); st != 400 || ec != "invalid_grant" {
			t.Errorf("%s: %d %s, want 400 invalid_grant", c.name, st, ec)
		}
	}
	// client_secret_post works; the public client needs no secret.
	code, f = newCode(web)
	if st, ec, _ := post(with(with(base(), "client_id", web.cfg.ClientID), "client_secret", web.cfg.ClientSecret)); st != 200 {
		t.Errorf("client_secret_post: %d %s", st, ec)
	}
	sc, sf := newCode(spa)
	if st, ec, _ := post(url.Values{"grant_type": {"authorization_code"}, "code": {sc}, "redirect_uri": {"https://spa.example/cb"},
		"code_verifier": {sf.verifier}, "client_id": {spa.cfg.ClientID}}); st != 200 {
		t.Errorf("public client: %d %s", st, ec)
	}
	// Refresh with another client's credentials, or a bad token.
	if st, ec, _ := post(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {strings.Repeat("A", 43)}}, web.cfg.ClientID, web.cfg.ClientSecret); st != 400 || ec != "invalid_grant" {
		t.Errorf("unknown refresh token: %d %s", st, ec)
	}
	// userinfo without a valid token.
	for _, h := range []string{"", "Bearer nope"} {
		req, _ := http.NewRequest("GET", e.ti.Issuer+"/oauth2/userinfo", nil)
		if h != "" {
			req.Header.Set("Authorization", h)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 401 || !strings.Contains(res.Header.Get("WWW-Authenticate"), `Bearer error="invalid_token"`) {
			t.Errorf("userinfo %q: %d %q", h, res.StatusCode, res.Header.Get("WWW-Authenticate"))
		}
	}
}

func with(v url.Values, k, val string) url.Values {
	out := url.Values{}
	for kk, vv := range v {
		out[kk] = append([]string(nil), vv...)
	}
	out.Set(k, val)
	return out
}

func without(v url.Values, k string) url.Values {
	out := with(v, k, "")
	out.Del(k)
	return out
}
