package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/actas-dev/actas/httpapi"
)

// The OpenAPI description (httpapi/openapi.yaml) is kept true by
// validating real answers: a scripted flow runs over the real server and
// every request/response pair is checked against the description (status
// documented, headers, body schema). Requests meant to be valid are
// validated too; deliberately broken ones are not. At the end, every
// operation of the description must have been exercised.

type contract struct {
	t        *testing.T
	h        *harness
	router   routers.Router
	covered  map[string]bool // "METHOD path-template"
	statuses map[string]bool // "METHOD path-template status"
	// client sends the requests; nil is http.DefaultClient. The browser
	// flow (openapi_browser_test.go) uses a browser's: cookies kept, no
	// redirect followed.
	client *http.Client
}

func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(httpapi.OpenAPI)
	if err != nil {
		t.Fatalf("openapi.yaml does not load: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("openapi.yaml is not a valid OpenAPI 3 document: %v", err)
	}
	return doc
}

// routerFor routes requests to the harness server: the description's
// server is relative ("/"), so it is pointed at the harness address.
func routerFor(t *testing.T, doc *openapi3.T, h *harness) routers.Router {
	t.Helper()
	doc.Servers = openapi3.Servers{{URL: h.url}}
	r, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// check sends one request and validates the pair. headers alternate name,
// value. validRequest says whether the request itself must conform.
func (c *contract) check(validRequest bool, method, path, contentType string, body []byte, headers ...string) response {
	c.t.Helper()
	req, err := http.NewRequest(method, c.h.url+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	client := c.client
	if client == nil {
		client = http.DefaultClient
	}
	res, err := client.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	resBody, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		c.t.Fatal(err)
	}

	// Validate against a fresh copy of the request (its body was sent).
	vreq := req.Clone(context.Background())
	vreq.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := c.router.FindRoute(vreq)
	if err != nil {
		c.t.Fatalf("%s %s: not in openapi.yaml: %v", method, path, err)
	}
	key := method + " " + route.Path
	c.covered[key] = true
	c.statuses[key+" "+res.Status[:3]] = true
	in := &openapi3filter.RequestValidationInput{
		Request: vreq, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	}
	if validRequest {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			c.t.Errorf("%s %s: the request does not conform: %v", method, path, err)
		}
	}
	err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 res.StatusCode,
		Header:                 res.Header,
		Body:                   io.NopCloser(bytes.NewReader(resBody)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	})
	if err != nil {
		c.t.Errorf("%s %s → %d: the response does not conform: %v\nbody: %.300s", method, path, res.StatusCode, err, resBody)
	}
	return response{status: res.StatusCode, header: res.Header, body: resBody}
}

func (c *contract) json(valid bool, method, path string, body any, headers ...string) response {
	c.t.Helper()
	var b []byte
	switch v := body.(type) {
	case nil:
	case string:
		b = []byte(v)
	default:
		b = mustJSON(v)
	}
	ct := ""
	if body != nil {
		ct = "application/json"
	}
	return c.check(valid, method, path, ct, b, headers...)
}

func (c *contract) form(valid bool, path string, form url.Values, headers ...string) response {
	c.t.Helper()
	return c.check(valid, "POST", path, "application/x-www-form-urlencoded", []byte(form.Encode()), headers...)
}

func want(t *testing.T, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
}

func TestOpenAPIContract(t *testing.T) {
	doc := loadOpenAPI(t)
	h, ten := setup(t) // alice
	router := routerFor(t, doc, h)
	h.createUser("acme", "op", "op-password", "--group", "impersonator")
	h.createUser("acme", "adm", "adm-password", "--group", "admin")
	h.createUser("acme", "carol", "carol-password", "--must-change-password")
	c := &contract{t: t, h: h, router: router, covered: map[string]bool{}, statuses: map[string]bool{}}
	key := "X-API-Key"
	pool := "/" + ten.UserPoolID

	// Operations endpoints.
	want(t, c.check(true, "GET", "/healthz", "", nil), 200)
	want(t, c.check(true, "GET", "/readyz", "", nil), 200)
	want(t, c.check(true, "GET", "/metrics", "", nil), 200)
	want(t, c.check(true, "GET", "/openapi.yaml", "", nil), 200)

	// Sign-in and its errors.
	signIn := c.json(true, "POST", "/auth/token", map[string]string{"username": "alice", "password": "alice-password"}, key, ten.APIKey)
	want(t, signIn, 200)
	alice := signIn.json(t)
	want(t, c.json(true, "POST", "/auth/token", map[string]string{"username": "alice", "password": "nope"}, key, ten.APIKey), 401)
	want(t, c.json(false, "POST", "/auth/token", map[string]string{"username": "alice", "password": "alice-password"}), 403)
	want(t, c.json(true, "POST", "/auth/token", map[string]string{"username": "alice"}, key, ten.APIKey), 400)
	want(t, c.json(false, "POST", "/auth/token", `{"username":`, key, ten.APIKey), 400)
	want(t, c.json(false, "POST", "/auth/token", strings.Repeat(" ", 70<<10)+"{}", key, ten.APIKey), 413)
	want(t, c.json(true, "POST", "/auth/token", map[string]string{"username": "carol", "password": "carol-password"}, key, ten.APIKey), 422)
	for range 6 {
		c.json(true, "POST", "/auth/token", map[string]string{"username": "mallory", "password": "guess"}, key, ten.APIKey)
	}
	want(t, c.json(true, "POST", "/auth/token", map[string]string{"username": "mallory", "password": "guess"}, key, ten.APIKey), 429)

	// Refresh: the whole previous answer posted back.
	want(t, c.json(true, "POST", "/auth/token", alice, key, ten.APIKey), 200)
	want(t, c.json(true, "POST", "/auth/token", map[string]any{"session": map[string]string{"refreshToken": strings.Repeat("x", 43)}}, key, ten.APIKey), 401)

	// Impersonation: allowed, not permitted (403), target not allowed (422).
	op := h.signIn(ten.APIKey, "op", "op-password")
	opS := sessionOf(t, op)
	imp := c.json(true, "POST", "/auth/impersonate", map[string]string{"username": "alice", "reason": "TICKET-1"},
		key, ten.APIKey, "Authorization", str(opS, "authorization"), "AccessToken", str(opS, "accessToken"))
	want(t, imp, 200)
	aS := sessionOf(t, alice)
	want(t, c.json(true, "POST", "/auth/impersonate", map[string]string{"username": "op"},
		key, ten.APIKey, "Authorization", str(aS, "authorization"), "AccessToken", str(aS, "accessToken")), 403)
	want(t, c.json(true, "POST", "/auth/impersonate", map[string]string{"username": "adm"},
		key, ten.APIKey, "Authorization", str(opS, "authorization"), "AccessToken", str(opS, "accessToken")), 422)
	want(t, c.json(true, "POST", "/auth/impersonate", map[string]string{"username": "alice"},
		key, ten.APIKey, "Authorization", "x.y.z", "AccessToken", str(opS, "accessToken")), 401)

	// Discovery and keys.
	want(t, c.check(true, "GET", pool+"/.well-known/openid-configuration", "", nil), 200)
	want(t, c.check(true, "GET", pool+"/.well-known/jwks.json", "", nil), 200)
	want(t, c.check(true, "GET", "/local_notapool1/.well-known/jwks.json", "", nil), 404)
	want(t, c.check(true, "GET", "/local_notapool1/.well-known/openid-configuration", "", nil), 404)

	// Token exchange, introspection, revocation, the feed.
	opAccess := str(opS, "accessToken")
	want(t, c.form(true, pool+"/oauth2/token", url.Values{
		"grant_type":         {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"actor_token":        {opAccess},
		"actor_token_type":   {"urn:ietf:params:oauth:token-type:access_token"},
		"subject_token":      {"alice"},
		"subject_token_type": {"urn:actas:params:oauth:token-type:username"},
	}, key, ten.APIKey), 200)
	// An unsupported grant_type is no request the description allows; its
	// answer is still checked.
	want(t, c.form(false, pool+"/oauth2/token", url.Values{"grant_type": {"password"}}, key, ten.APIKey), 400)
	want(t, c.form(false, pool+"/oauth2/token", url.Values{"grant_type": {"password"}}), 401)
	want(t, c.form(true, pool+"/oauth2/token", url.Values{
		"grant_type":         {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"actor_token":        {str(aS, "accessToken")},
		"actor_token_type":   {"urn:ietf:params:oauth:token-type:access_token"},
		"subject_token":      {"op"},
		"subject_token_type": {"urn:actas:params:oauth:token-type:username"},
	}, key, ten.APIKey), 403)
	want(t, c.form(true, pool+"/oauth2/introspect", url.Values{"token": {str(aS, "accessToken")}}, key, ten.APIKey), 200)
	want(t, c.form(false, pool+"/oauth2/introspect", url.Values{}, key, ten.APIKey), 400)
	want(t, c.form(true, "/local_notapool1/oauth2/introspect", url.Values{"token": {"x"}}, key, ten.APIKey), 404)
	want(t, c.check(true, "GET", pool+"/revocations?after=0&wait=0", "", nil, key, ten.APIKey), 200)
	want(t, c.check(false, "GET", pool+"/revocations?after=-1", "", nil, key, ten.APIKey), 400)
	want(t, c.check(false, "GET", pool+"/revocations", "", nil), 401)

	// Expire: 200, idempotent, and a token of another session is refused.
	want(t, c.json(true, "DELETE", "/auth/token", alice, key, ten.APIKey, "AccessToken", str(aS, "accessToken")), 200)
	want(t, c.json(true, "DELETE", "/auth/token", alice, key, ten.APIKey, "AccessToken", str(aS, "accessToken")), 200)
	want(t, c.json(true, "DELETE", "/auth/token", alice, key, ten.APIKey, "AccessToken", opAccess), 401)
	want(t, c.json(false, "DELETE", "/auth/token", alice, "AccessToken", opAccess), 403)
	want(t, c.form(true, pool+"/oauth2/revoke", url.Values{"token": {opAccess}}, key, ten.APIKey), 200)
	want(t, c.form(true, pool+"/oauth2/introspect", url.Values{"token": {opAccess}}, key, ten.APIKey), 200)
	want(t, c.form(false, pool+"/oauth2/revoke", url.Values{}, key, ten.APIKey), 400)
	want(t, c.json(true, "POST", "/auth/token", alice, key, ten.APIKey), 401) // refresh of an expired session

	contractBrowser(t, c, h, ten) // openapi_browser_test.go
	contractUsers(t, c, h, ten)   // openapi_users_test.go

	// Every operation of the description was exercised.
	var missing []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !c.covered[method+" "+path] {
				missing = append(missing, method+" "+path)
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("operations of openapi.yaml the contract flow never exercised: %v", missing)
	}
}

// TestOpenAPIOpsErrors validates the 503 of /readyz (the database file
// is gone) and the 404 of /metrics when metrics are off.
func TestOpenAPIOpsErrors(t *testing.T) {
	doc := loadOpenAPI(t)
	h := newHarness(t)
	h.serve("--metrics=false")
	router := routerFor(t, doc, h)
	c := &contract{t: t, h: h, router: router, covered: map[string]bool{}, statuses: map[string]bool{}}
	want(t, c.check(true, "GET", "/metrics", "", nil), 404)
	if err := removeDB(h); err != nil {
		t.Fatal(err)
	}
	r := waitReady(t, h, 503)
	c.check(true, "GET", "/readyz", "", nil)
	wantError(t, r, 503, "")
}
