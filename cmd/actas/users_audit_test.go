package main

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/actas-dev/actas"
)

// Black-box audit of SPEC §7 and §10 over real HTTP: what a test written
// from the spec alone checks and the other end-to-end tests did not.

// POST /user keeps a username in its RFC 8265 canonical form, as the CLI
// does, and refuses a mixed-script name with the reason (SPEC §10).
func TestCreateUserHTTPCanonicalUsername(t *testing.T) {
	h := newHarness(t)
	e := newUserEnv(t, h)
	h.serve()
	e.signIn()
	pw := "Zq8!xkLm#9a"
	r := h.do("POST", "/user", map[string]any{"username": "ＭｉｘｅｄＣａｓｅ", "password": pw}, e.adminHdr...)
	if r.status != 200 || str(r.json(t), "username") != "mixedcase" {
		t.Fatalf("POST /user: %d %s", r.status, r.body)
	}
	id := str(r.json(t), "userId")
	if u := h.do("GET", "/user/"+id, nil, e.adminHdr...); str(u.json(t), "username") != "mixedcase" {
		t.Fatalf("GET /user/%s: %s", id, u.body)
	}
	s := h.do("GET", "/user/search/mixed", nil, e.adminHdr...)
	if !strings.Contains(string(s.body), `"username":"mixedcase"`) {
		t.Fatalf("search: %s", s.body)
	}
	r = h.do("POST", "/user", map[string]any{"username": "pаypal", "password": pw}, e.adminHdr...)
	if r.status != 400 || !strings.Contains(str(r.json(t), "message"), "Latin and Cyrillic") {
		t.Fatalf("mixed scripts: %d %s", r.status, r.body)
	}
}

// The original API types contact and phone as numbers (UserUpdateRequest):
// a v1 client sending 1234567890 gets it stored as its text, not a 400.
func TestUserContactAsNumber(t *testing.T) {
	h := newHarness(t)
	e := newUserEnv(t, h)
	h.serve()
	e.signIn()
	r := h.do("PATCH", "/user/"+e.userID, map[string]any{"contact": 1234567890, "phone": "+1 555"}, e.userHdr...)
	if u := r.json(t); r.status != 200 || str(u, "contact") != "1234567890" || str(u, "phone") != "+1 555" {
		t.Fatalf("PATCH contact number: %d %s", r.status, r.body)
	}
	r = h.do("POST", "/user", map[string]any{"username": "num", "password": "Zq8!xkLm#9a", "phone": 5551234}, e.adminHdr...)
	if r.status != 200 {
		t.Fatalf("POST phone number: %d %s", r.status, r.body)
	}
	if u := h.do("GET", "/user/"+str(r.json(t), "userId"), nil, e.adminHdr...).json(t); str(u, "phone") != "5551234" {
		t.Fatalf("phone = %v", u["phone"])
	}
	wantError(t, h.do("PATCH", "/user/"+e.userID, map[string]any{"contact": true}, e.userHdr...), 400, "Request body is not valid JSON")
}

// GET /audit?subject= takes a username in any form that maps to it, and
// a refused creation is recorded under the canonical name (SPEC §10).
func TestAuditSubjectCanonical(t *testing.T) {
	h := newHarness(t)
	e := newUserEnv(t, h)
	h.serve()
	e.signIn()
	if r := h.do("POST", "/user", map[string]any{"username": "Carol", "password": "Zq8!xkLm#9a"}, e.adminHdr...); r.status != 200 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	wantError(t, h.do("POST", "/user", map[string]any{"username": "CAROL", "password": "Zq8!xkLm#9a"}, e.adminHdr...), 409, "User already exists")
	for _, q := range []string{"carol", "CAROL", "Ｃａｒｏｌ"} {
		r := h.do("GET", "/audit?action=user_create&subject="+url.QueryEscape(q), nil, e.adminHdr...)
		b := string(r.body)
		if r.status != 200 || !strings.Contains(b, `"outcome":"allowed"`) || !strings.Contains(b, `"outcome":"denied"`) ||
			strings.Contains(b, `"subject":"CAROL"`) {
			t.Fatalf("audit subject=%s: %d %s", q, r.status, b)
		}
	}
}

// An expired token is 401 Unauthorized on every form of §7's
// authentication, and on POST /auth/password (SPEC §7, §8).
func TestUsersAPIExpiredToken(t *testing.T) {
	h := newHarness(t)
	e := newUserEnv(t, h)
	h.serve()
	e.signIn()
	key := e.tn.APIKey
	s := sessionOf(t, e.admin)
	h.clock.Advance(61 * time.Minute) // past the default 1h access token lifetime
	for _, hs := range [][]string{
		e.adminHdr,
		{"X-API-Key", key, "Authorization", str(s, "authorization")},
		{"X-API-Key", key, "Authorization", "Bearer " + str(s, "accessToken")},
	} {
		wantError(t, h.do("GET", "/user", nil, hs...), 401, "Unauthorized")
		wantError(t, h.do("GET", "/security/groups", nil, hs...), 401, "Unauthorized")
		wantError(t, h.do("POST", "/auth/password", map[string]any{"previousPassword": adminPW, "proposedPassword": "Zq8!xkLm#9a"}, hs...), 401, "Unauthorized")
	}
}

// Search pages on past a username of 128 characters of two bytes each:
// ?after= takes any username (SPEC §7, §10), not only 128 bytes.
func TestSearchAfterLongUsername(t *testing.T) {
	h := newHarness(t)
	e := newUserEnv(t, h)
	long, next := strings.Repeat("é", 128), strings.Repeat("é", 127)+"ö"
	h.createUser("acme", long, userPW)
	h.createUser("acme", next, userPW)
	h.serve()
	e.signIn()
	r := h.do("GET", "/user/search/"+url.PathEscape("é")+"?limit=1", nil, e.adminHdr...)
	if r.status != 200 || !strings.Contains(string(r.body), `"username":"`+long+`"`) {
		t.Fatalf("first page: %d %s", r.status, r.body)
	}
	r = h.do("GET", "/user/search/"+url.PathEscape("é")+"?limit=1&after="+url.QueryEscape(long), nil, e.adminHdr...)
	if r.status != 200 || !strings.Contains(string(r.body), `"username":"`+next+`"`) {
		t.Fatalf("next page: %d %s", r.status, r.body)
	}
	r = h.do("GET", "/user/search/a?after="+strings.Repeat("a", actas.MaxUsernameBytes+1), nil, e.adminHdr...)
	if r.status != 400 || !strings.Contains(string(r.body), "after") {
		t.Fatalf("an after no username can be: %d %s", r.status, r.body)
	}
}

// A refused impersonation of a name in another form is found by
// GET /audit?subject= of the user's name (SPEC §7 audit, §10 usernames).
func TestAuditSubjectOfRefusedImpersonation(t *testing.T) {
	h := newHarness(t)
	e := newUserEnv(t, h)
	h.createUser("acme", "imp", userPW, "--group", "impersonator")
	h.serve()
	e.signIn()
	key := e.tn.APIKey
	ih := hdr(key, h.signIn(key, "imp", userPW))
	// root holds admin, which imp lacks: 422.
	if r := h.do("POST", "/auth/impersonate", map[string]any{"username": "ROOT"}, ih...); r.status != 422 {
		t.Fatalf("impersonate ROOT: %d %s", r.status, r.body)
	}
	r := h.do("GET", "/audit?action=impersonate&subject=root", nil, e.adminHdr...)
	if !strings.Contains(string(r.body), `"outcome":"denied"`) || !strings.Contains(string(r.body), `"subject":"root"`) {
		t.Fatalf("audit: %d %s", r.status, r.body)
	}
}
