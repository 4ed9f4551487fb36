package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"github.com/actas-dev/actas/password"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

// setup serves a fresh instance with tenant "acme", user alice and a
// disabled user bob; it returns the harness and the tenant.
func setup(t *testing.T) (*harness, tenantInfo) {
	t.Helper()
	h := newHarness(t)
	h.serve()
	ten := h.createTenant("acme")
	h.createUser("acme", "alice", "alice-password", "--email", "alice@acme.example", "--email-verified", "--group", "staff")
	return h, ten
}

var (
	jwtRE     = regexp.MustCompile(`^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$`)
	refreshRE = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)
)

func TestSignInResponseShapeGolden(t *testing.T) {
	h, ten := setup(t)
	r := h.do("POST", "/auth/token", map[string]string{"username": "ALICE", "password": "alice-password", "clientId": ten.ClientID}, "X-API-Key", ten.APIKey)
	if r.status != 200 {
		t.Fatalf("sign in: %d %s", r.status, r.body)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	body := r.json(t)
	s := sessionOf(t, body)
	if !jwtRE.MatchString(str(s, "authorization")) || !jwtRE.MatchString(str(s, "accessToken")) {
		t.Fatalf("tokens are not JWTs: %v", s)
	}
	if !refreshRE.MatchString(str(s, "refreshToken")) {
		t.Fatalf("refresh token %q is not 43 base64url characters (256 bits)", str(s, "refreshToken"))
	}
	access := claimsOf(t, str(s, "accessToken"))
	if got, want := int64(s["expireEpoch"].(float64)), int64(access["exp"].(float64))*1000; got != want {
		t.Errorf("expireEpoch = %d, want access token exp in ms %d", got, want)
	}
	if body["userPoolId"] != ten.UserPoolID || body["clientId"] != ten.ClientID || body["endpointUrl"] != ten.EndpointURL {
		t.Errorf("tenant fields = %v / %v / %v", body["userPoolId"], body["clientId"], body["endpointUrl"])
	}
	if body["username"] != "alice" {
		t.Errorf("username = %v, want the canonical alice", body["username"])
	}

	// The shape, with volatile values replaced, must match the golden file
	// byte for byte: field names, order and types are the wire contract.
	norm := string(r.body)
	for _, v := range []string{str(s, "authorization"), str(s, "accessToken"), str(s, "refreshToken"), ten.ClientID, ten.UserPoolID} {
		norm = strings.ReplaceAll(norm, v, "<"+kind(v, ten)+">")
	}
	norm = regexp.MustCompile(`"expireEpoch":\d+`).ReplaceAllString(norm, `"expireEpoch":<ms>`)
	golden(t, "signin.golden", norm)
}

func kind(v string, ten tenantInfo) string {
	switch {
	case v == ten.ClientID:
		return "clientId"
	case v == ten.UserPoolID:
		return "userPoolId"
	case jwtRE.MatchString(v):
		return "jwt"
	}
	return "refresh"
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\ngot  %s\nwant %s", name, got, want)
	}
}

func TestTokenClaims(t *testing.T) {
	h, ten := setup(t)
	s := sessionOf(t, h.signIn(ten.APIKey, "alice", "alice-password"))
	idTok, accTok := str(s, "authorization"), str(s, "accessToken")
	id, acc := claimsOf(t, idTok), claimsOf(t, accTok)

	wantKeys := func(name string, c map[string]any, keys ...string) {
		t.Helper()
		var got []string
		for k := range c {
			got = append(got, k)
		}
		sort.Strings(got)
		sort.Strings(keys)
		if !slices.Equal(got, keys) {
			t.Errorf("%s claims = %v, want %v", name, got, keys)
		}
	}
	wantKeys("ID token", id, "sub", "aud", "email", "email_verified", "event_id", "token_use", "auth_time", "iss",
		"cognito:username", "exp", "iat", "jti", "origin_jti", "cognito:groups")
	wantKeys("access token", acc, "sub", "event_id", "token_use", "scope", "auth_time", "iss", "exp", "iat", "jti",
		"origin_jti", "client_id", "username", "cognito:groups")

	iss := h.url + "/" + ten.UserPoolID
	checks := []struct {
		name      string
		got, want any
	}{
		{"id iss", id["iss"], iss},
		{"access iss", acc["iss"], iss},
		{"id aud", id["aud"], ten.ClientID},
		{"access client_id", acc["client_id"], ten.ClientID},
		{"id token_use", id["token_use"], "id"},
		{"access token_use", acc["token_use"], "access"},
		{"id cognito:username", id["cognito:username"], "alice"},
		{"access username", acc["username"], "alice"},
		{"id email", id["email"], "alice@acme.example"},
		{"id email_verified", id["email_verified"], true},
		{"same sub", id["sub"], acc["sub"]},
		{"same origin_jti", id["origin_jti"], acc["origin_jti"]},
		{"same event_id", id["event_id"], acc["event_id"]},
		{"id lifetime", id["exp"].(float64) - id["iat"].(float64), 3600.0},
		{"access lifetime", acc["exp"].(float64) - acc["iat"].(float64), 3600.0},
		{"iat is the clock", int64(id["iat"].(float64)), h.clock.Now().Unix()},
		{"auth_time", id["auth_time"], id["iat"]},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if id["jti"] == acc["jti"] {
		t.Error("ID and access token share a jti")
	}
	if g, ok := id["cognito:groups"].([]any); !ok || len(g) != 1 || g[0] != "staff" {
		t.Errorf("cognito:groups = %v", id["cognito:groups"])
	}
	ih, ah := headerOf(t, idTok), headerOf(t, accTok)
	if ih["alg"] != "RS256" || ah["alg"] != "RS256" || ih["kid"] == "" || ih["kid"] == ah["kid"] {
		t.Errorf("headers: id %v access %v; want RS256 with different kids", ih, ah)
	}
	if len(ih) != 2 {
		t.Errorf("ID token header %v, want exactly kid and alg", ih)
	}
}

func TestSignInErrors(t *testing.T) {
	h, ten := setup(t)
	h.createUser("acme", "bob", "bob-password")
	h.mustCLI(nil, "user", "disable", "--tenant", "acme", "--username", "bob")
	h.createUser("acme", "carol", "carol-password", "--must-change-password")
	other := h.createTenant("other")
	var revoked struct{ ID, APIKey string }
	h.mustCLI(&revoked, "apikey", "create", "--tenant", "acme")
	h.mustCLI(nil, "apikey", "revoke", revoked.ID)

	cred := func(u, p string) map[string]string { return map[string]string{"username": u, "password": p} }
	big := `{"username":"alice","password":"` + strings.Repeat("x", 70<<10) + `"}`
	cases := []struct {
		name    string
		body    any
		headers []string
		status  int
		msg     string
	}{
		{"no API key", cred("alice", "alice-password"), nil, 403, "Forbidden"},
		{"unknown API key", cred("alice", "alice-password"), []string{"X-API-Key", "actas_" + strings.Repeat("a", 48)}, 403, "Forbidden"},
		{"garbage API key", cred("alice", "alice-password"), []string{"X-API-Key", "nope"}, 403, "Forbidden"},
		{"revoked API key", cred("alice", "alice-password"), []string{"X-API-Key", revoked.APIKey}, 403, "Forbidden"},
		{"other tenant's key", cred("alice", "alice-password"), []string{"X-API-Key", other.APIKey}, 401, "Incorrect username or password"},
		{"missing username", map[string]string{"password": "x"}, []string{"X-API-Key", ten.APIKey}, 400, "Invalid Authentication Parameters"},
		{"empty body object", map[string]string{}, []string{"X-API-Key", ten.APIKey}, 400, "Invalid Authentication Parameters"},
		{"missing password", map[string]string{"username": "alice"}, []string{"X-API-Key", ten.APIKey}, 400, "Missing required parameter PASSWORD"},
		{"wrong clientId", map[string]string{"username": "alice", "password": "alice-password", "clientId": "x"}, []string{"X-API-Key", ten.APIKey}, 400, "clientId does not match the client of this API key"},
		{"wrong password", cred("alice", "wrong-password"), []string{"X-API-Key", ten.APIKey}, 401, "Incorrect username or password"},
		{"unknown user", cred("mallory", "wrong-password"), []string{"X-API-Key", ten.APIKey}, 401, "Incorrect username or password"},
		{"disabled user, wrong password", cred("bob", "wrong-password"), []string{"X-API-Key", ten.APIKey}, 401, "Incorrect username or password"},
		{"disabled user, right password", cred("bob", "bob-password"), []string{"X-API-Key", ten.APIKey}, 401, "User is disabled"},
		{"must change password", cred("carol", "carol-password"), []string{"X-API-Key", ten.APIKey}, 422, "Password change required"},
		{"malformed JSON", `{"username":`, []string{"X-API-Key", ten.APIKey}, 400, "Request body is not valid JSON"},
		{"wrong type", `{"username":42,"password":"x"}`, []string{"X-API-Key", ten.APIKey}, 400, "Request body is not valid JSON"},
		{"duplicate keys", `{"username":"alice","username":"bob","password":"x"}`, []string{"X-API-Key", ten.APIKey}, 400, "Request body is not valid JSON"},
		{"duplicate keys differing in case", `{"username":"nobody","password":"x","USERNAME":"alice","PASSWORD":"alice-password"}`, []string{"X-API-Key", ten.APIKey}, 400, "Request body is not valid JSON"},
		{"trailing data", `{"username":"alice","password":"x"} {}`, []string{"X-API-Key", ten.APIKey}, 400, "Request body is not valid JSON"},
		{"invalid UTF-8", "{\"username\":\"\xff\",\"password\":\"x\"}", []string{"X-API-Key", ten.APIKey}, 400, "Request body is not valid JSON"},
		{"deep nesting", strings.Repeat("[", 100) + strings.Repeat("]", 100), []string{"X-API-Key", ten.APIKey}, 400, "Request body is not valid JSON"},
		{"form content type", cred("alice", "alice-password"), []string{"X-API-Key", ten.APIKey, "Content-Type", "application/x-www-form-urlencoded"}, 400, "Content-Type must be application/json"},
		{"latin1 charset", cred("alice", "alice-password"), []string{"X-API-Key", ten.APIKey, "Content-Type", "application/json; charset=latin1"}, 400, "Content-Type must be application/json"},
		{"too large", big, []string{"X-API-Key", ten.APIKey}, 413, "Request body too large"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, h.do("POST", "/auth/token", c.body, c.headers...), c.status, c.msg)
		})
	}

	t.Run("charset and lower-case header names are accepted", func(t *testing.T) {
		r := h.do("POST", "/auth/token", cred("alice", "alice-password"), "x-api-key", ten.APIKey, "content-type", "application/json; charset=UTF-8")
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("unknown fields are ignored", func(t *testing.T) {
		r := h.do("POST", "/auth/token", map[string]any{"username": "alice", "password": "alice-password", "userPoolId": "https://nonsense", "extra": []int{1}}, "X-API-Key", ten.APIKey)
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("HTTP Basic credentials", func(t *testing.T) {
		basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:alice-password"))
		r := h.do("POST", "/auth/token", map[string]string{}, "X-API-Key", ten.APIKey, "Authorization", basic)
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		// With no body at all.
		r = h.do("POST", "/auth/token", nil, "X-API-Key", ten.APIKey, "Authorization", basic)
		if r.status != 200 {
			t.Fatalf("Basic without a body: %d %s", r.status, r.body)
		}
	})
	t.Run("413 from the header alone, before any body is sent", func(t *testing.T) {
		// A raw connection: announce 1 GiB, send nothing, and read the
		// answer. A server that waited for the body would time out.
		conn, err := net.Dial("tcp", strings.TrimPrefix(h.url, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(conn, "POST /auth/token HTTP/1.1\r\nHost: x\r\nX-API-Key: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", ten.APIKey, 1<<30)
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no answer before the body: %v", err)
		}
		res.Body.Close()
		if res.StatusCode != 413 {
			t.Fatalf("status %d, want 413", res.StatusCode)
		}
	})
}

func TestErrorsCarryRequestID(t *testing.T) {
	h, _ := setup(t)
	r := h.do("POST", "/auth/token", map[string]string{}, "X-Request-Id", "client-id-123")
	if got := r.header.Get("X-Request-Id"); got != "client-id-123" {
		t.Errorf("sane client request id not echoed: %q", got)
	}
	r = h.do("POST", "/auth/token", map[string]string{}, "X-Request-Id", "bad id\twith spaces")
	if got := r.header.Get("X-Request-Id"); got == "" || strings.ContainsAny(got, " \t") {
		t.Errorf("insane request id handled badly: %q", got)
	}
	wantError(t, h.do("GET", "/nope", nil), 404, "Not Found")
	r = h.do("PUT", "/auth/token", "{}")
	wantError(t, r, 405, "Method Not Allowed")
	if r.header.Get("Allow") == "" {
		t.Error("405 without Allow")
	}
}

func TestRefresh(t *testing.T) {
	h, ten := setup(t)
	first := h.signIn(ten.APIKey, "alice", "alice-password")
	fs := sessionOf(t, first)

	h.clock.Advance(10 * time.Minute)
	// A whole previous response posted back.
	r := h.do("POST", "/auth/token", first, "X-API-Key", ten.APIKey)
	if r.status != 200 {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	body := r.json(t)
	s := sessionOf(t, body)
	if str(s, "refreshToken") != str(fs, "refreshToken") {
		t.Error("refresh token changed without rotation")
	}
	if str(s, "accessToken") == str(fs, "accessToken") || str(s, "authorization") == str(fs, "authorization") {
		t.Error("refresh returned the old tokens")
	}
	old, acc := claimsOf(t, str(fs, "accessToken")), claimsOf(t, str(s, "accessToken"))
	if acc["origin_jti"] != old["origin_jti"] || acc["auth_time"] != old["auth_time"] {
		t.Error("refresh changed the session or auth_time")
	}
	if acc["iat"].(float64) != float64(h.clock.Now().Unix()) {
		t.Error("refreshed token not issued now")
	}
	if body["username"] != "alice" || body["password"] != "" || body["clientId"] != ten.ClientID {
		t.Errorf("refresh body = %v", body)
	}

	// Only the refresh token.
	r = h.do("POST", "/auth/token", map[string]any{"session": map[string]string{"refreshToken": str(fs, "refreshToken")}}, "X-API-Key", ten.APIKey)
	if r.status != 200 {
		t.Fatalf("refresh with refreshToken only: %d %s", r.status, r.body)
	}

	// An expired access token of the same session is fine.
	h.clock.Advance(2 * time.Hour)
	r = h.do("POST", "/auth/token", first, "X-API-Key", ten.APIKey)
	if r.status != 200 {
		t.Fatalf("refresh with an expired access token: %d %s", r.status, r.body)
	}

	other := h.signIn(ten.APIKey, "alice", "alice-password")
	otherTen := h.createTenant("other")
	h.createUser("other", "alice", "alice-password")
	foreign := h.signIn(otherTen.APIKey, "alice", "alice-password")
	refreshWith := func(refresh, access string) map[string]any {
		return map[string]any{"session": map[string]string{"refreshToken": refresh, "accessToken": access}}
	}
	cases := []struct {
		name   string
		body   any
		key    string
		status int
		msg    string
	}{
		{"access token of another session", refreshWith(str(fs, "refreshToken"), str(sessionOf(t, other), "accessToken")), ten.APIKey, 401, "Tokens do not belong to the same session"},
		{"ID token as access token", refreshWith(str(fs, "refreshToken"), str(fs, "authorization")), ten.APIKey, 401, "Tokens do not belong to the same session"},
		{"garbage access token", refreshWith(str(fs, "refreshToken"), "a.b.c"), ten.APIKey, 401, "Tokens do not belong to the same session"},
		{"unknown refresh token", refreshWith(strings.Repeat("A", 43), ""), ten.APIKey, 401, "Invalid Refresh Token"},
		{"malformed refresh token", refreshWith("short", ""), ten.APIKey, 401, "Invalid Refresh Token"},
		{"refresh token of another tenant", refreshWith(str(sessionOf(t, foreign), "refreshToken"), ""), ten.APIKey, 401, "Invalid Refresh Token"},
		{"empty refresh token", map[string]any{"session": map[string]string{"accessToken": str(fs, "accessToken")}}, ten.APIKey, 400, "Missing required parameter REFRESH_TOKEN"},
		{"wrong clientId", map[string]any{"clientId": "nope", "session": map[string]string{"refreshToken": str(fs, "refreshToken")}}, ten.APIKey, 400, ""},
		{"no API key", first, "", 403, "Forbidden"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, h.do("POST", "/auth/token", c.body, "X-API-Key", c.key), c.status, c.msg)
		})
	}

	t.Run("disabled user cannot refresh", func(t *testing.T) {
		h.mustCLI(nil, "user", "disable", "--tenant", "acme", "--username", "alice")
		wantError(t, h.do("POST", "/auth/token", first, "X-API-Key", ten.APIKey), 401, "")
	})
}

func TestSessionLimits(t *testing.T) {
	h, ten := setup(t)
	first := h.signIn(ten.APIKey, "alice", "alice-password")
	start := h.clock.Now()

	// Refresh on day 29 still works, and the new tokens do not outlive the
	// session (30 days from sign-in).
	h.clock.Advance(30*24*time.Hour - 30*time.Minute)
	r := h.do("POST", "/auth/token", first, "X-API-Key", ten.APIKey)
	if r.status != 200 {
		t.Fatalf("refresh on the last day: %d %s", r.status, r.body)
	}
	acc := claimsOf(t, str(sessionOf(t, r.json(t)), "accessToken"))
	if got, want := int64(acc["exp"].(float64)), start.Add(30*24*time.Hour).Unix(); got != want {
		t.Errorf("last-day token exp = %d, want the session end %d", got, want)
	}
	// Past 30 days: refused, the refresh never extended the session.
	h.clock.Advance(31 * time.Minute)
	wantError(t, h.do("POST", "/auth/token", first, "X-API-Key", ten.APIKey), 401, "Refresh Token has expired")
}

func TestExpire(t *testing.T) {
	h, ten := setup(t)
	first := h.signIn(ten.APIKey, "alice", "alice-password")
	fs := sessionOf(t, first)
	second := h.signIn(ten.APIKey, "alice", "alice-password")

	// Tokens of two sessions: refused, and nothing is revoked.
	r := h.do("DELETE", "/auth/token", first, "X-API-Key", ten.APIKey, "AccessToken", str(sessionOf(t, second), "accessToken"))
	wantError(t, r, 401, "Tokens do not belong to the same session")
	wantError(t, h.do("DELETE", "/auth/token", first), 403, "Forbidden")
	wantError(t, h.do("DELETE", "/auth/token", nil, "X-API-Key", ten.APIKey), 400, "Missing AccessToken")
	wantError(t, h.do("DELETE", "/auth/token", nil, "X-API-Key", ten.APIKey, "AccessToken", "x.y.z"), 401, "")
	if r := h.do("POST", "/auth/token", first, "X-API-Key", ten.APIKey); r.status != 200 {
		t.Fatalf("a refused expire revoked the session: %d", r.status)
	}

	h.clock.Advance(time.Minute)
	at := h.clock.Now()
	r = h.do("DELETE", "/auth/token", first, "X-API-Key", ten.APIKey, "AccessToken", str(fs, "accessToken"))
	if r.status != 200 {
		t.Fatalf("expire: %d %s", r.status, r.body)
	}
	body := r.json(t)
	s := sessionOf(t, body)
	for _, k := range []string{"authorization", "accessToken", "refreshToken"} {
		if v, ok := s[k].(string); !ok || v != "" {
			t.Errorf("session.%s = %v, want \"\"", k, s[k])
		}
	}
	if got := int64(s["expireEpoch"].(float64)); got != at.UnixMilli() {
		t.Errorf("expireEpoch = %d, want the revocation time %d", got, at.UnixMilli())
	}
	if body["username"] != "alice" || body["userPoolId"] != ten.UserPoolID || body["password"] != "" {
		t.Errorf("expire body = %v", body)
	}

	// The refresh token is dead; the other session lives.
	wantError(t, h.do("POST", "/auth/token", first, "X-API-Key", ten.APIKey), 401, "Refresh Token has been revoked")
	if r := h.do("POST", "/auth/token", second, "X-API-Key", ten.APIKey); r.status != 200 {
		t.Fatalf("expiring one session hurt another: %d", r.status)
	}

	// Idempotent: the same answer, the original time.
	h.clock.Advance(time.Minute)
	r2 := h.do("DELETE", "/auth/token", first, "X-API-Key", ten.APIKey, "AccessToken", str(fs, "accessToken"))
	if r2.status != 200 || string(r2.body) != string(r.body) {
		t.Fatalf("repeat expire: %d %s, want the first answer %s", r2.status, r2.body, r.body)
	}

	// By header alone, and by body alone.
	third := h.signIn(ten.APIKey, "alice", "alice-password")
	if r := h.do("DELETE", "/auth/token", nil, "X-API-Key", ten.APIKey, "AccessToken", str(sessionOf(t, third), "accessToken")); r.status != 200 {
		t.Fatalf("expire by header only: %d %s", r.status, r.body)
	} else if u := r.json(t)["username"]; u != "alice" {
		t.Errorf("expire by header only: username %v, want the session's user alice", u)
	}
	wantError(t, h.do("POST", "/auth/token", third, "X-API-Key", ten.APIKey), 401, "")
	if r := h.do("DELETE", "/auth/token", second, "X-API-Key", ten.APIKey); r.status != 200 {
		t.Fatalf("expire by body only: %d %s", r.status, r.body)
	}
	wantError(t, h.do("POST", "/auth/token", second, "X-API-Key", ten.APIKey), 401, "")

	// Another tenant's key cannot expire it.
	other := h.createTenant("other")
	fourth := h.signIn(ten.APIKey, "alice", "alice-password")
	wantError(t, h.do("DELETE", "/auth/token", fourth, "X-API-Key", other.APIKey, "AccessToken", str(sessionOf(t, fourth), "accessToken")), 401, "")
	if r := h.do("POST", "/auth/token", fourth, "X-API-Key", ten.APIKey); r.status != 200 {
		t.Fatalf("foreign expire revoked the session: %d", r.status)
	}
}

func TestRefreshRotation(t *testing.T) {
	h, ten := setup(t)
	h.mustCLI(nil, "tenant", "set", "acme", "refresh_rotation=true", "rotation_grace=10s")
	time.Sleep(0) // settings are read through a cache; the CLI wrote to the store and the server re-reads within 5 s of its clock
	h.clock.Advance(6 * time.Second)

	first := h.signIn(ten.APIKey, "alice", "alice-password")
	r := h.do("POST", "/auth/token", first, "X-API-Key", ten.APIKey)
	if r.status != 200 {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	second := r.json(t)
	if str(sessionOf(t, second), "refreshToken") == str(sessionOf(t, first), "refreshToken") {
		t.Fatal("rotation on, but the refresh token did not change")
	}
	// Within the grace period, the immediately previous token still works
	// (a retry whose answer was lost) and does not end the session.
	h.clock.Advance(2 * time.Second)
	r = h.do("POST", "/auth/token", first, "X-API-Key", ten.APIKey)
	if r.status != 200 {
		t.Fatalf("retry of the previous token in grace: %d %s", r.status, r.body)
	}
	// The newest generation moves on.
	r = h.do("POST", "/auth/token", second, "X-API-Key", ten.APIKey)
	if r.status != 200 {
		t.Fatalf("refresh with the current token: %d %s", r.status, r.body)
	}
	third := r.json(t)
	// The first token is now two generations old: reuse. The whole session
	// is revoked, including the newest token.
	wantError(t, h.do("POST", "/auth/token", first, "X-API-Key", ten.APIKey), 401, "Refresh Token has been revoked")
	wantError(t, h.do("POST", "/auth/token", third, "X-API-Key", ten.APIKey), 401, "Refresh Token has been revoked")

	out, _, code := h.cli("", "audit", "--tenant", "acme", "--action", "refresh_reuse", "--json")
	if code != 0 || !strings.Contains(out, `"action":"refresh_reuse"`) {
		t.Errorf("no refresh_reuse audit event: %d %s", code, out)
	}

	t.Run("previous token after the grace period", func(t *testing.T) {
		a := h.signIn(ten.APIKey, "alice", "alice-password")
		r := h.do("POST", "/auth/token", a, "X-API-Key", ten.APIKey)
		b := r.json(t)
		h.clock.Advance(11 * time.Second)
		wantError(t, h.do("POST", "/auth/token", a, "X-API-Key", ten.APIKey), 401, "Refresh Token has been revoked")
		wantError(t, h.do("POST", "/auth/token", b, "X-API-Key", ten.APIKey), 401, "Refresh Token has been revoked")
	})
}

// decodeJSONLines decodes JSON Lines output.
func decodeJSONLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var list []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("not JSON Lines: %v: %q", err, line)
		}
		list = append(list, v)
	}
	return list
}

func TestSignInThrottled(t *testing.T) {
	h, ten := setup(t)
	bad := map[string]string{"username": "alice", "password": "wrong-password"}
	for i := 0; i < 5; i++ {
		wantError(t, h.do("POST", "/auth/token", bad, "X-API-Key", ten.APIKey), 401, "Incorrect username or password")
	}
	r := h.do("POST", "/auth/token", map[string]string{"username": "alice", "password": "alice-password"}, "X-API-Key", ten.APIKey)
	wantError(t, r, 429, "Too many failed attempts, try again later")
	if r.header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After = %q, want 1", r.header.Get("Retry-After"))
	}
	// Unknown users are throttled alike (no enumeration through 429s).
	for i := 0; i < 6; i++ {
		h.do("POST", "/auth/token", map[string]string{"username": "ghost", "password": "x-password"}, "X-API-Key", ten.APIKey)
	}
	wantError(t, h.do("POST", "/auth/token", map[string]string{"username": "ghost", "password": "x"}, "X-API-Key", ten.APIKey), 429, "")
	// The delay passes; the right password works and clears the count.
	h.clock.Advance(2 * time.Second)
	h.signIn(ten.APIKey, "alice", "alice-password")
	wantError(t, h.do("POST", "/auth/token", bad, "X-API-Key", ten.APIKey), 401, "")
}

// TestSignInOverloadIs503: with every hash slot busy and no queue, a
// sign-in is refused at once with 503, Retry-After and the envelope,
// and the refused attempts do not count against the throttle.
func TestSignInOverloadIs503(t *testing.T) {
	h := newHarness(t)
	h.hash = &password.Params{Memory: 32 * 1024, Time: 4, Threads: 1, SaltLen: 16, KeyLen: 32} // ~100 ms a hash
	h.serve("--hash-concurrency", "1", "--hash-queue", "0")
	ten := h.createTenant("acme")
	h.createUser("acme", "alice", "alice-password")

	const n = 8
	var wg sync.WaitGroup
	start := make(chan struct{})
	rs := make([]response, n)
	for i := range n {
		wg.Go(func() {
			<-start
			rs[i] = h.do("POST", "/auth/token", map[string]string{"username": "alice", "password": "alice-password"}, "X-API-Key", ten.APIKey)
		})
	}
	close(start)
	wg.Wait()
	ok, busy := 0, 0
	for _, r := range rs {
		switch r.status {
		case 200:
			ok++
		case 503:
			busy++
			wantError(t, r, 503, "Too many sign-ins in progress, try again later")
			if r.header.Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
		default: // never 429: failures are counted, not attempts

			t.Fatalf("unexpected %d %s", r.status, r.body)
		}
	}
	if ok == 0 || busy == 0 {
		t.Fatalf("%d ok, %d busy: want both (one hash slot, no queue)", ok, busy)
	}
	// Shed on purpose: logged as a warning, not as a failure.
	logs := h.logs.String()
	if got := strings.Count(logs, `msg="request shed"`); got != busy || !strings.Contains(logs, "level=WARN") {
		t.Errorf("%d 503s logged as shed requests, want %d at WARN:\n%s", got, busy, logs)
	}
	if strings.Contains(logs, `msg="request failed"`) {
		t.Errorf("a shed sign-in was logged as a failed request:\n%s", logs)
	}
	// The refused attempts were never checked: they must not throttle.
	h.signIn(ten.APIKey, "alice", "alice-password")
}
