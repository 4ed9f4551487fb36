package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/actas-dev/actas/issuer"
	"golang.org/x/oauth2"
)

// CORS for a single-page application (SPEC §9 "a SPA with PKCE";
// docs/browser-signin.md): * on the public documents, the registered
// origins on token, userinfo and revoke, nothing anywhere else.

const spaOrigin = "https://spa.acme.example"

// corsDo sends one request with an Origin and returns the answer (body
// drained).
func corsDo(t *testing.T, method, u, origin string, hdr map[string]string, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

func preflight(t *testing.T, u, origin, method string) *http.Response {
	t.Helper()
	return corsDo(t, http.MethodOptions, u, origin, map[string]string{
		"Access-Control-Request-Method":  method,
		"Access-Control-Request-Headers": "authorization, content-type",
	}, "")
}

// noCORS fails if an answer carries any Access-Control-* header.
func noCORS(t *testing.T, what string, res *http.Response) {
	t.Helper()
	for k := range res.Header {
		if strings.HasPrefix(k, "Access-Control-") {
			t.Errorf("%s: %s: %q, want no CORS header", what, k, res.Header.Get(k))
		}
	}
}

// allowedPreflight checks a preflight answer for a registered origin.
func allowedPreflight(t *testing.T, what string, res *http.Response, origin, methods string) {
	t.Helper()
	h := res.Header
	if res.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != origin ||
		!strings.Contains(h.Get("Vary"), "Origin") || h.Get("Access-Control-Allow-Methods") != methods ||
		h.Get("Access-Control-Allow-Headers") != "Authorization, Content-Type" {
		t.Fatalf("%s: %d %v, want 204 allowing %s for %s with Vary: Origin", what, res.StatusCode, h, methods, origin)
	}
	if ma := h.Get("Access-Control-Max-Age"); ma == "" || len(ma) > 4 {
		t.Errorf("%s: Access-Control-Max-Age %q, want a bounded number of seconds", what, ma)
	}
	if h.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("%s: Access-Control-Allow-Credentials %q, want none (tokens, not cookies)", what, h.Get("Access-Control-Allow-Credentials"))
	}
}

func TestBrowserCORSPreflight(t *testing.T) {
	e := newOIDCEnv(t)
	e.client(t, "Acme SPA", true, spaOrigin+"/callback")
	e.client(t, "Acme CLI", true, "http://127.0.0.1/callback")
	base := e.ti.Issuer + "/oauth2/"
	for _, c := range []struct{ path, method, methods string }{
		{"token", "POST", "POST"},
		{"userinfo", "GET", "GET, POST"},
		{"userinfo", "POST", "GET, POST"},
		{"revoke", "POST", "POST"},
	} {
		what := "preflight " + c.method + " " + c.path
		allowedPreflight(t, what, preflight(t, base+c.path, spaOrigin, c.method), spaOrigin, c.methods)
		// RFC 8252 §7.3: a loopback redirect URI without a port admits
		// its host on any port.
		allowedPreflight(t, what+" from a loopback port", preflight(t, base+c.path, "http://127.0.0.1:5173", c.method), "http://127.0.0.1:5173", c.methods)
	}
	for _, origin := range []string{
		"https://evil.example",
		"https://spa.acme.example:8443",         // another port
		"http://spa.acme.example",               // another scheme
		"https://spa.acme.example.evil.example", // a suffix
		"http://localhost:5173",                 // not the registered loopback host
		"http://[::1]:5173",                     // nor this one
		"http://127.0.0.1:5173@evil.example",    // not an origin
		"null",                                  // an opaque origin
		"*",
	} {
		res := preflight(t, base+"token", origin, "POST")
		noCORS(t, "preflight from "+origin, res)
		if res.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("preflight from %s: %d, want 405 as without CORS", origin, res.StatusCode)
		}
	}
	// A method the endpoint does not take is not allowed either.
	noCORS(t, "preflight DELETE", preflight(t, base+"token", spaOrigin, "DELETE"))
	// An unknown pool allows nothing.
	noCORS(t, "preflight on an unknown pool", preflight(t, e.h.url+"/eu-west-1_Nosuchpoo/oauth2/token", spaOrigin, "POST"))
	// Navigations and server endpoints send no CORS headers, even from a
	// registered origin.
	for _, u := range []string{base + "authorize", base + "logout", base + "introspect", e.h.url + "/auth/token"} {
		noCORS(t, "preflight "+u, preflight(t, u, spaOrigin, "POST"))
		noCORS(t, "GET "+u, corsDo(t, "GET", u, spaOrigin, nil, ""))
	}
}

// Discovery and JWKS are public: "*" for any origin, without credentials.
func TestBrowserCORSPublicDocuments(t *testing.T) {
	e := newOIDCEnv(t)
	for _, doc := range []string{"/.well-known/openid-configuration", "/.well-known/jwks.json"} {
		u := e.ti.Issuer + doc
		for _, origin := range []string{"https://anyone.example", ""} {
			res := corsDo(t, "GET", u, origin, nil, "")
			if res.StatusCode != 200 || res.Header.Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("GET %s from %q: %d, Access-Control-Allow-Origin %q; want 200 and *", doc, origin, res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
			}
			if res.Header.Get("Access-Control-Allow-Credentials") != "" {
				t.Errorf("GET %s: credentials allowed", doc)
			}
		}
		res := preflight(t, u, "https://anyone.example", "GET")
		if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != "*" ||
			res.Header.Get("Access-Control-Allow-Methods") != "GET, HEAD" || res.Header.Get("Access-Control-Max-Age") == "" {
			t.Errorf("preflight %s: %d %v, want 204 allowing GET from *", doc, res.StatusCode, res.Header)
		}
	}
}

// A SPA's whole flow from its origin: the code exchange, userinfo and
// revocation answers carry its origin; another origin's do not.
func TestBrowserCORSTokenExchange(t *testing.T) {
	e := newOIDCEnv(t)
	c := e.client(t, "Acme SPA", true, spaOrigin+"/callback")
	f := c.start(t)
	code := e.signIn(t, newBrowser(t), c, f, "alice", "correct horse battery")
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {c.cfg.RedirectURL},
		"client_id": {c.cfg.ClientID}, "code_verifier": {f.verifier}}
	req, _ := http.NewRequest("POST", e.ti.Issuer+"/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", spaOrigin)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	if err != nil || res.StatusCode != 200 || tok.AccessToken == "" {
		t.Fatalf("code exchange from the SPA: %d %v", res.StatusCode, err)
	}
	if res.Header.Get("Access-Control-Allow-Origin") != spaOrigin || !strings.Contains(res.Header.Get("Vary"), "Origin") ||
		res.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("code exchange: CORS headers %v, want Access-Control-Allow-Origin %s and Vary: Origin, no credentials", res.Header, spaOrigin)
	}
	bearer := map[string]string{"Authorization": "Bearer " + tok.AccessToken}
	ui := corsDo(t, "GET", e.ti.Issuer+"/oauth2/userinfo", spaOrigin, bearer, "")
	if ui.StatusCode != 200 || ui.Header.Get("Access-Control-Allow-Origin") != spaOrigin {
		t.Fatalf("userinfo from the SPA: %d, Access-Control-Allow-Origin %q", ui.StatusCode, ui.Header.Get("Access-Control-Allow-Origin"))
	}
	// Its 401 lets the SPA read why (RFC 6750 §3).
	ui = corsDo(t, "GET", e.ti.Issuer+"/oauth2/userinfo", spaOrigin, map[string]string{"Authorization": "Bearer x"}, "")
	if ui.StatusCode != 401 || ui.Header.Get("Access-Control-Allow-Origin") != spaOrigin ||
		ui.Header.Get("Access-Control-Expose-Headers") != "WWW-Authenticate" {
		t.Fatalf("userinfo with a bad token from the SPA: %d %v, want 401 exposing WWW-Authenticate", ui.StatusCode, ui.Header)
	}
	// Another origin is answered as ever, without CORS: the browser
	// keeps the answer from that page.
	ui = corsDo(t, "GET", e.ti.Issuer+"/oauth2/userinfo", "https://evil.example", bearer, "")
	if ui.StatusCode != 200 {
		t.Fatalf("userinfo from another origin: %d, want 200 as without CORS", ui.StatusCode)
	}
	noCORS(t, "userinfo from another origin", ui)
	// An error answer from the SPA's origin carries the header too, so the
	// SPA can read the OAuth error.
	res = corsDo(t, "POST", e.ti.Issuer+"/oauth2/token", spaOrigin,
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, form.Encode())
	if res.StatusCode != http.StatusBadRequest || res.Header.Get("Access-Control-Allow-Origin") != spaOrigin {
		t.Fatalf("a reused code from the SPA: %d, Access-Control-Allow-Origin %q; want 400 with the header", res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
	}
	rv := corsDo(t, "POST", e.ti.Issuer+"/oauth2/revoke", spaOrigin,
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "token=x")
	if rv.Header.Get("Access-Control-Allow-Origin") != spaOrigin {
		t.Fatalf("revoke from the SPA: %d, Access-Control-Allow-Origin %q", rv.StatusCode, rv.Header.Get("Access-Control-Allow-Origin"))
	}
	// A server-side exchange (no Origin) is untouched.
	if _, err := c.cfg.Exchange(e.ctx, "nope", oauth2.VerifierOption(f.verifier)); !isOAuthError(err, "invalid_grant") {
		t.Fatalf("exchange without Origin: %v, want invalid_grant", err)
	}
}

// A client deleted with `actas client delete` (another process) stops
// admitting its origin within issuer.CORSOriginsTTL; a new one starts
// within the same bound.
func TestBrowserCORSClientDeleted(t *testing.T) {
	e := newOIDCEnv(t)
	u := e.ti.Issuer + "/oauth2/token"
	const other = "https://other.acme.example"
	allowedPreflight(t, "before", func() *http.Response {
		c := e.client(t, "Acme SPA", true, spaOrigin+"/callback")
		defer func() {
			e.h.mustCLI(nil, "client", "delete", "--tenant", "acme", c.cfg.ClientID)
		}()
		return preflight(t, u, spaOrigin, "POST")
	}(), spaOrigin, "POST")
	noCORS(t, "an origin registered after the cache was filled, before the TTL", preflight(t, u, other, "POST"))
	e.client(t, "Other SPA", true, other+"/cb")
	e.h.clock.Advance(issuer.CORSOriginsTTL)
	noCORS(t, "the deleted client's origin after the TTL", preflight(t, u, spaOrigin, "POST"))
	allowedPreflight(t, "a new client's origin after the TTL", preflight(t, u, other, "POST"), other, "POST")
}
