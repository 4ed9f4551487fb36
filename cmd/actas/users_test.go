package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// End-to-end tests of the user administration API (SPEC §7, §8) over
// real HTTP against a real server, on SQLite (here) and PostgreSQL
// (TestUsersAPIPostgres).

const (
	adminPW = "Adm1n-horse-battery"
	userPW  = "Us3r-horse-battery"
)

// userEnv is a tenant with an administrator, an impersonator and a user.
type userEnv struct {
	h                 *harness
	tn                tenantInfo
	adminID, userID   string
	admin, user       map[string]any // sign-in bodies
	adminHdr, userHdr []string
}

func hdr(apiKey string, body map[string]any) []string {
	s := body["session"].(map[string]any)
	return []string{"X-API-Key", apiKey, "Authorization", str(s, "authorization"), "AccessToken", str(s, "accessToken")}
}

func newUserEnv(t *testing.T, h *harness) *userEnv {
	e := &userEnv{h: h, tn: h.createTenant("acme")}
	e.adminID = h.createUser("acme", "root", adminPW, "--group", "admin", "--group", "impersonator")
	e.userID = h.createUser("acme", "bob", userPW, "--email", "bob@example.com", "--first-name", "Bob")
	return e
}

func (e *userEnv) signIn() {
	e.admin = e.h.signIn(e.tn.APIKey, "root", adminPW)
	e.user = e.h.signIn(e.tn.APIKey, "bob", userPW)
	e.adminHdr, e.userHdr = hdr(e.tn.APIKey, e.admin), hdr(e.tn.APIKey, e.user)
}

func TestUsersAPI(t *testing.T) {
	h := newHarness(t)
	e := newUserEnv(t, h)
	h.serve()
	e.signIn()
	runUsersAPI(t, e)
}

func runUsersAPI(t *testing.T, e *userEnv) {
	h := e.h
	key := e.tn.APIKey

	t.Run("authentication", func(t *testing.T) {
		wantError(t, h.do("GET", "/user", nil, "X-API-Key", key), 401, "Unauthorized")
		wantError(t, h.do("GET", "/user", nil, "X-API-Key", "nope", "Authorization", e.userHdr[3]), 403, "Forbidden")
		wantError(t, h.do("GET", "/user", nil, "X-API-Key", key, "Authorization", "garbage"), 401, "Unauthorized")
		// The ID token raw, with Bearer, and the access token alone.
		s := sessionOf(t, e.user)
		for _, hs := range [][]string{
			{"X-API-Key", key, "Authorization", str(s, "authorization")},
			{"X-API-Key", key, "Authorization", "Bearer " + str(s, "authorization")},
			{"X-API-Key", key, "Authorization", "Bearer " + str(s, "accessToken")},
			e.userHdr,
		} {
			r := h.do("GET", "/user", nil, hs...)
			if r.status != 200 || str(r.json(t), "username") != "bob" {
				t.Fatalf("GET /user with %v: %d %s", hs[2:], r.status, r.body)
			}
		}
		// Tokens of two sessions: 401.
		other := sessionOf(t, h.signIn(key, "bob", userPW))
		wantError(t, h.do("GET", "/user", nil, "X-API-Key", key, "Authorization", str(s, "authorization"),
			"AccessToken", str(other, "accessToken")), 401, "Unauthorized")
	})

	t.Run("user object", func(t *testing.T) {
		r := h.do("GET", "/user", nil, e.userHdr...)
		u := r.json(t)
		for _, k := range []string{"userId", "customerId", "username", "emailId", "emailVerified", "firstName", "lastName",
			"friendlyName", "company", "country", "contact", "phone", "status", "groups", "groupNames",
			"mustChangePassword", "createdAt", "updatedAt"} {
			if _, ok := u[k]; !ok {
				t.Errorf("User has no %q: %s", k, r.body)
			}
		}
		if str(u, "userId") != e.userID || str(u, "customerId") != e.tn.UserPoolID || str(u, "emailId") != "bob@example.com" ||
			str(u, "status") != "enabled" || str(u, "firstName") != "Bob" || str(u, "lastName") != "" {
			t.Errorf("User = %s", r.body)
		}
		if strings.Contains(string(r.body), "argon2") || strings.Contains(string(r.body), "password\"") {
			t.Errorf("User shows a password: %s", r.body)
		}
		if c := claimsOf(t, str(sessionOf(t, e.user), "authorization")); c["given_name"] != "Bob" {
			t.Errorf("ID token given_name = %v", c["given_name"])
		}
	})

	t.Run("get user privileges", func(t *testing.T) {
		wantError(t, h.do("GET", "/user/"+e.adminID, nil, e.userHdr...), 403, "Do not have the required role privileges")
		if r := h.do("GET", "/user/"+e.userID, nil, e.userHdr...); r.status != 200 {
			t.Fatalf("own id: %d %s", r.status, r.body)
		}
		if r := h.do("GET", "/user/"+e.userID, nil, e.adminHdr...); r.status != 200 {
			t.Fatalf("admin: %d %s", r.status, r.body)
		}
		wantError(t, h.do("GET", "/user/00000000-0000-4000-8000-000000000000", nil, e.adminHdr...), 404, "User not found")
		wantError(t, h.do("GET", "/user/not-a-uuid", nil, e.adminHdr...), 404, "User not found")
	})

	var carolID string
	t.Run("create user", func(t *testing.T) {
		body := map[string]any{"username": "carol", "password": "Car0l-horse-battery", "email": "carol@example.com",
			"firstName": "Carol", "lastName": "Smith", "friendlyName": "cs", "groups": []string{"impersonator"}, "extra": 1}
		wantError(t, h.do("POST", "/user", body, e.userHdr...), 403, "Do not have the required role privileges")
		r := h.do("POST", "/user", body, e.adminHdr...)
		if r.status != 200 {
			t.Fatalf("POST /user: %d %s", r.status, r.body)
		}
		v := r.json(t)
		carolID = str(v, "userId")
		if str(v, "status") != "success" || str(v, "username") != "carol" || carolID == "" {
			t.Fatalf("POST /user = %s", r.body)
		}
		body["username"] = "CAROL"
		wantError(t, h.do("POST", "/user", body, e.adminHdr...), 409, "User already exists")
		for pw, msg := range map[string]string{
			"short1!":     "Password must be at least 8 characters",
			"password123": "Password is too common: it is one of the 10,000 most common passwords",
			"Dave-Smith":  "Password must not be the username",
			// The username's identity, not its spelling: fullwidth letters
			// map to the same PRECIS form (SPEC §10).
			"ｄａｖｅ-ｓｍｉｔｈ": "Password must not be the username",
		} {
			wantError(t, h.do("POST", "/user", map[string]any{"username": "dave-smith", "password": pw}, e.adminHdr...), 400, msg)
		}
		wantError(t, h.do("POST", "/user", map[string]any{"username": "erin", "password": "Er1n-horse-battery",
			"company": strings.Repeat("x", 257)}, e.adminHdr...), 400, "company is longer than 256 bytes")
		wantError(t, h.do("POST", "/user", map[string]any{"username": "erin", "password": "Er1n-horse-battery",
			"groups": []string{"nosuch"}}, e.adminHdr...), 404, "Group not found")
		wantError(t, h.do("POST", "/user", `{"username":`, e.adminHdr...), 400, "")
		wantError(t, h.do("POST", "/user", "{\"username\":\"\xff\"}", e.adminHdr...), 400, "")
		wantError(t, h.do("POST", "/user", strings.Repeat(" ", 70<<10), e.adminHdr...), 413, "")
		// Nothing half-written: erin does not exist.
		if r := h.do("GET", "/user/search/erin", nil, e.adminHdr...); !strings.Contains(string(r.body), `"data":[]`) {
			t.Errorf("refused creations wrote a user: %s", r.body)
		}
		// A new user must change the password by default.
		wantError(t, h.do("POST", "/auth/token", map[string]string{"username": "carol", "password": "Car0l-horse-battery"},
			"X-API-Key", key), 422, "Password change required")
		r = h.do("POST", "/auth/token", map[string]string{"username": "carol", "password": "Car0l-horse-battery",
			"newPassword": "Car0l-horse-battery"}, "X-API-Key", key)
		wantError(t, r, 400, "Password must differ from the previous password")
		r = h.do("POST", "/auth/token", map[string]string{"username": "carol", "password": "Car0l-horse-battery",
			"newPassword": "Car0l-new-battery"}, "X-API-Key", key)
		if r.status != 200 {
			t.Fatalf("sign-in with newPassword: %d %s", r.status, r.body)
		}
		if c := claimsOf(t, str(sessionOf(t, r.json(t)), "authorization")); c["family_name"] != "Smith" || c["nickname"] != "cs" {
			t.Errorf("ID token profile claims = %v", c)
		}
		h.signIn(key, "carol", "Car0l-new-battery")
	})

	t.Run("search", func(t *testing.T) {
		wantError(t, h.do("GET", "/user/search/b", nil, e.userHdr...), 403, "Do not have the required role privileges")
		r := h.do("GET", "/user/search/CAR", nil, e.adminHdr...)
		if r.status != 200 || !strings.Contains(string(r.body), `"username":"carol"`) || strings.Contains(string(r.body), `"bob"`) {
			t.Fatalf("search CAR: %d %s", r.status, r.body)
		}
		r = h.do("GET", "/user/search/bob@", nil, e.adminHdr...)
		if !strings.Contains(string(r.body), `"username":"bob"`) {
			t.Fatalf("search by email: %s", r.body)
		}
		// Paging: everyone whose name starts with "" is not a route; use
		// the letters of the three users.
		for _, n := range []string{"cat1", "cat2", "cat3"} {
			if r := h.do("POST", "/user", map[string]any{"username": n, "password": "Cat-horse-battery-9"}, e.adminHdr...); r.status != 200 {
				t.Fatalf("create %s: %d %s", n, r.status, r.body)
			}
		}
		r = h.do("GET", "/user/search/cat?limit=2", nil, e.adminHdr...)
		if s := string(r.body); !strings.Contains(s, "cat1") || !strings.Contains(s, "cat2") || strings.Contains(s, "cat3") {
			t.Fatalf("limit=2: %s", s)
		}
		r = h.do("GET", "/user/search/cat?limit=2&after=cat2", nil, e.adminHdr...)
		if s := string(r.body); strings.Contains(s, "cat2") || !strings.Contains(s, "cat3") {
			t.Fatalf("after=cat2: %s", s)
		}
		wantError(t, h.do("GET", "/user/search/cat?limit=101", nil, e.adminHdr...), 400, "limit must be between 1 and 100")
		// Bytes that are not UTF-8 name nobody; PostgreSQL would refuse them.
		wantError(t, h.do("GET", "/user/search/ca%FF", nil, e.adminHdr...), 400, "searchText must be UTF-8")
		wantError(t, h.do("GET", "/user/search/cat?after=c%FF", nil, e.adminHdr...), 400, "after must be UTF-8")
	})

	t.Run("patch", func(t *testing.T) {
		r := h.do("PATCH", "/user/"+e.userID, map[string]any{"lastName": "Builder", "company": "ACME"}, e.userHdr...)
		if r.status != 200 || str(r.json(t), "lastName") != "Builder" {
			t.Fatalf("self profile patch: %d %s", r.status, r.body)
		}
		// A whole User sent back is not a change of the admin-only fields.
		me := h.do("GET", "/user", nil, e.userHdr...).json(t)
		me["phone"] = "+1 555"
		if r := h.do("PATCH", "/user/"+e.userID, me, e.userHdr...); r.status != 200 {
			t.Fatalf("whole user back: %d %s", r.status, r.body)
		}
		wantError(t, h.do("PATCH", "/user/"+e.userID, map[string]any{"status": "disabled"}, e.userHdr...), 403, "Do not have the required role privileges")
		wantError(t, h.do("PATCH", "/user/"+e.adminID, map[string]any{"firstName": "x"}, e.userHdr...), 403, "Do not have the required role privileges")
		wantError(t, h.do("PATCH", "/user/"+e.userID, map[string]any{"phone": strings.Repeat("1", 300)}, e.userHdr...), 400, "phone is longer than 256 bytes")
		wantError(t, h.do("PATCH", "/user/"+e.userID, map[string]any{"status": "gone"}, e.adminHdr...), 400, "status must be enabled or disabled")
	})

	t.Run("groups", func(t *testing.T) {
		wantError(t, h.do("GET", "/security/groups", nil, e.userHdr...), 403, "Do not have the required role privileges")
		r := h.do("GET", "/security/groups", nil, e.adminHdr...)
		if s := string(r.body); r.status != 200 || !strings.Contains(s, `"groupName":"admin","members":1`) ||
			!strings.Contains(s, `"groupName":"impersonator"`) {
			t.Fatalf("GET /security/groups: %d %s", r.status, s)
		}
		r = h.do("POST", "/security/groups", map[string]any{"groupName": "Sales Team"}, e.adminHdr...)
		if r.status != 200 {
			t.Fatalf("POST group: %d %s", r.status, r.body)
		}
		gid := str(r.json(t), "groupId")
		wantError(t, h.do("POST", "/security/groups", map[string]any{"groupName": "sales team"}, e.adminHdr...), 409, "Group already exists")
		wantError(t, h.do("POST", "/security/groups", map[string]any{"groupName": strings.Repeat("g", 65)}, e.adminHdr...), 400, "")
		ok := `{"status":"success","message":"User Profile update was successful"}`
		if r := h.do("PATCH", "/user/"+e.userID+"/add-to-group", map[string]any{"userGroupId": gid}, e.adminHdr...); r.status != 200 || strings.TrimSpace(string(r.body)) != ok {
			t.Fatalf("add-to-group: %d %s", r.status, r.body)
		}
		wantError(t, h.do("PATCH", "/user/"+e.userID+"/add-to-group", map[string]any{"userGroupName": "nosuch"}, e.adminHdr...), 404, "Group not found")
		wantError(t, h.do("PATCH", "/user/"+e.userID+"/add-to-group", map[string]any{"userGroupName": "admin"}, e.userHdr...), 403, "Do not have the required role privileges")
		u := h.do("GET", "/user/"+e.userID, nil, e.adminHdr...).json(t)
		if fmt.Sprint(u["groupNames"]) != "[Sales Team]" || fmt.Sprint(u["groups"]) != "["+gid+"]" {
			t.Fatalf("groups after add: %v %v", u["groups"], u["groupNames"])
		}
		wantError(t, h.do("DELETE", "/security/groups/"+adminGroupID(t, e), nil, e.adminHdr...), 422, "The admin and impersonator groups cannot be deleted")
		if r := h.do("DELETE", "/security/groups/"+gid, nil, e.adminHdr...); r.status != 200 {
			t.Fatalf("delete group: %d %s", r.status, r.body)
		}
		if u := h.do("GET", "/user/"+e.userID, nil, e.adminHdr...).json(t); fmt.Sprint(u["groupNames"]) != "[]" {
			t.Fatalf("deleted group still on the user: %v", u["groupNames"])
		}
		wantError(t, h.do("DELETE", "/security/groups/"+gid, nil, e.adminHdr...), 404, "Group not found")
	})

	t.Run("last admin", func(t *testing.T) {
		wantError(t, h.do("PATCH", "/user/"+e.adminID+"/remove-from-group", map[string]any{"userGroupName": "admin"}, e.adminHdr...),
			422, "Cannot remove, disable or delete the tenant's last administrator")
		wantError(t, h.do("PATCH", "/user/"+e.adminID, map[string]any{"status": "disabled"}, e.adminHdr...),
			422, "Cannot remove, disable or delete the tenant's last administrator")
		wantError(t, h.do("DELETE", "/user/"+e.adminID, nil, e.adminHdr...),
			422, "Cannot remove, disable or delete the tenant's last administrator")
	})

	t.Run("impersonated", func(t *testing.T) {
		r := h.do("POST", "/auth/impersonate", map[string]any{"username": "bob"}, e.adminHdr...)
		if r.status != 200 {
			t.Fatalf("impersonate: %d %s", r.status, r.body)
		}
		ih := hdr(key, r.json(t))
		r = h.do("GET", "/user", nil, ih...)
		if r.status != 200 || !strings.Contains(string(r.body), `"impersonatedBy":{"userId":"`+e.adminID+`","username":"root"}`) {
			t.Fatalf("impersonated GET /user: %d %s", r.status, r.body)
		}
		const msg = "Impersonated sessions cannot perform administrative operations"
		wantError(t, h.do("GET", "/user/"+e.userID, nil, ih...), 403, msg)
		wantError(t, h.do("GET", "/security/groups", nil, ih...), 403, msg)
		wantError(t, h.do("PATCH", "/user/"+e.userID, map[string]any{"firstName": "x"}, ih...), 403, msg)
		wantError(t, h.do("POST", "/auth/password", map[string]any{"previousPassword": userPW, "proposedPassword": "x-horse-battery-2"}, ih...), 403, msg)
	})

	t.Run("sessions", func(t *testing.T) {
		r := h.do("GET", "/user/"+e.userID+"/sessions", nil, e.userHdr...)
		if r.status != 200 || !strings.Contains(string(r.body), `"sessionId":"`+str(claimsOf(t, e.userHdr[3]), "origin_jti")+`"`) {
			t.Fatalf("own sessions: %d %s", r.status, r.body)
		}
		wantError(t, h.do("GET", "/user/"+e.adminID+"/sessions", nil, e.userHdr...), 403, "Do not have the required role privileges")
		// A user agent of any bytes is stored as valid UTF-8 (PostgreSQL's
		// text refuses invalid bytes), cut at a character boundary.
		ua := "curl\xff/" + strings.Repeat("é", 400)
		if r := h.do("POST", "/auth/token", map[string]string{"username": "bob", "password": userPW}, "X-API-Key", key, "User-Agent", ua); r.status != 200 {
			t.Fatalf("sign-in with a user agent of invalid UTF-8: %d %s", r.status, r.body)
		}
		r = h.do("GET", "/user/"+e.userID+"/sessions", nil, e.userHdr...)
		var listed struct{ Data []struct{ UserAgent string } }
		if err := json.Unmarshal(r.body, &listed); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, x := range listed.Data {
			if strings.HasPrefix(x.UserAgent, "curl\uFFFD/é") {
				found = true
				if !utf8.ValidString(x.UserAgent) || len(x.UserAgent) > 512 || len(x.UserAgent) < 510 {
					t.Errorf("stored user agent: %d bytes, valid UTF-8 %v", len(x.UserAgent), utf8.ValidString(x.UserAgent))
				}
			}
		}
		if !found {
			t.Errorf("the session with the odd user agent is not listed: %s", r.body)
		}
		extra := hdr(key, h.signIn(key, "bob", userPW))
		r = h.do("DELETE", "/user/"+e.userID+"/sessions", nil, e.adminHdr...)
		if r.status != 200 || !strings.Contains(string(r.body), `"status":"success"`) || strings.Contains(string(r.body), `"revoked":0`) {
			t.Fatalf("revoke sessions: %d %s", r.status, r.body)
		}
		// Before the 200: the tokens are refused at once, and introspection agrees.
		wantError(t, h.do("GET", "/user", nil, extra...), 401, "Unauthorized")
		wantError(t, h.do("GET", "/user", nil, e.userHdr...), 401, "Unauthorized")
		ir := h.do("POST", "/"+e.tn.UserPoolID+"/oauth2/introspect", "token="+extra[5], "X-API-Key", key, "Content-Type", "application/x-www-form-urlencoded")
		if !strings.Contains(string(ir.body), `"active":false`) {
			t.Fatalf("introspection after revocation: %s", ir.body)
		}
		e.user = h.signIn(key, "bob", userPW)
		e.userHdr = hdr(key, e.user)
	})

	t.Run("set password", func(t *testing.T) {
		wantError(t, h.do("POST", "/user/"+e.userID+"/password", map[string]any{"password": "x"}, e.userHdr...), 403, "Do not have the required role privileges")
		wantError(t, h.do("POST", "/user/"+e.userID+"/password", map[string]any{"password": "qwerty123"}, e.adminHdr...), 400, "Password is too common: it is one of the 10,000 most common passwords")
		r := h.do("POST", "/user/"+e.userID+"/password", map[string]any{"password": "Bob-new-battery-7", "mustChangePassword": false}, e.adminHdr...)
		if r.status != 200 || strings.TrimSpace(string(r.body)) != `{"status":"success"}` {
			t.Fatalf("set password: %d %s", r.status, r.body)
		}
		wantError(t, h.do("GET", "/user", nil, e.userHdr...), 401, "Unauthorized")
		e.user = h.signIn(key, "bob", "Bob-new-battery-7")
		e.userHdr = hdr(key, e.user)
	})

	t.Run("own password", func(t *testing.T) {
		other := hdr(key, h.signIn(key, "bob", "Bob-new-battery-7"))
		wantError(t, h.do("POST", "/auth/password", map[string]any{"previousPassword": "wrong-one-here", "proposedPassword": "Bob-newer-battery-8"}, e.userHdr...),
			401, "Incorrect username or password")
		wantError(t, h.do("POST", "/auth/password", map[string]any{"previousPassword": "Bob-new-battery-7", "proposedPassword": "bob"}, e.userHdr...),
			400, "Password must be at least 8 characters")
		r := h.do("POST", "/auth/password", map[string]any{"previousPassword": "Bob-new-battery-7", "proposedPassword": "Bob-newer-battery-8"}, e.userHdr...)
		if r.status != 200 {
			t.Fatalf("POST /auth/password: %d %s", r.status, r.body)
		}
		if r := h.do("GET", "/user", nil, e.userHdr...); r.status != 200 {
			t.Fatalf("the caller's own session was revoked: %d", r.status)
		}
		wantError(t, h.do("GET", "/user", nil, other...), 401, "Unauthorized")
		h.signIn(key, "bob", "Bob-newer-battery-8")
	})

	t.Run("disable and delete", func(t *testing.T) {
		ch := hdr(key, h.signIn(key, "carol", "Car0l-new-battery"))
		r := h.do("PATCH", "/user/"+carolID, map[string]any{"status": "disabled"}, e.adminHdr...)
		if r.status != 200 || str(r.json(t), "status") != "disabled" {
			t.Fatalf("disable: %d %s", r.status, r.body)
		}
		wantError(t, h.do("GET", "/user", nil, ch...), 401, "Unauthorized")
		wantError(t, h.do("DELETE", "/user/"+carolID, nil, e.userHdr...), 403, "Do not have the required role privileges")
		if r := h.do("DELETE", "/user/"+carolID, nil, e.adminHdr...); r.status != 200 || strings.TrimSpace(string(r.body)) != `{"status":"success"}` {
			t.Fatalf("delete: %d %s", r.status, r.body)
		}
		wantError(t, h.do("GET", "/user/"+carolID, nil, e.adminHdr...), 404, "User not found")
	})

	t.Run("tenant isolation", func(t *testing.T) {
		other := h.createTenant("globex")
		h.createUser("globex", "gadmin", adminPW, "--group", "admin")
		gh := hdr(other.APIKey, h.signIn(other.APIKey, "gadmin", adminPW))
		wantError(t, h.do("GET", "/user/"+e.userID, nil, gh...), 404, "User not found")
		wantError(t, h.do("PATCH", "/user/"+e.userID, map[string]any{"firstName": "x"}, gh...), 404, "User not found")
		wantError(t, h.do("DELETE", "/user/"+e.userID, nil, gh...), 404, "User not found")
		// acme's tokens with globex's API key: not this tenant's.
		wantError(t, h.do("GET", "/user", nil, "X-API-Key", other.APIKey, "Authorization", e.adminHdr[3]), 401, "Unauthorized")
	})

	t.Run("audit", func(t *testing.T) {
		wantError(t, h.do("GET", "/audit", nil, e.userHdr...), 403, "Do not have the required role privileges")
		r := h.do("GET", "/audit?action=user_create&limit=2", nil, e.adminHdr...)
		v := r.json(t)
		data, _ := v["data"].([]any)
		if r.status != 200 || len(data) != 2 || str(v, "next") == "" {
			t.Fatalf("GET /audit: %d %s", r.status, r.body)
		}
		r2 := h.do("GET", "/audit?action=user_create&limit=2&cursor="+str(v, "next"), nil, e.adminHdr...)
		if r2.status != 200 || strings.Contains(string(r2.body), str(data[0].(map[string]any), "time")+`","action`) && false {
			t.Fatalf("page 2: %s", r2.body)
		}
		// Refused changes are recorded too.
		if r := h.do("GET", "/audit?action=user_create&subject=dave-smith", nil, e.adminHdr...); !strings.Contains(string(r.body), `"outcome":"denied"`) {
			t.Fatalf("no denied event: %s", r.body)
		}
		wantError(t, h.do("GET", "/audit?subject=d%FF", nil, e.adminHdr...), 400, "subject must be UTF-8")
		wantError(t, h.do("GET", "/audit?action=user%FF", nil, e.adminHdr...), 400, "action must be UTF-8")
		wantError(t, h.do("GET", "/audit?action="+strings.Repeat("a", 65), nil, e.adminHdr...), 400, "action is longer than 64 bytes")
		if r := h.do("GET", "/audit?action=user_delete", nil, e.adminHdr...); !strings.Contains(string(r.body), `"outcome":"allowed"`) {
			t.Fatalf("no delete event: %s", r.body)
		}
	})
}

func adminGroupID(t *testing.T, e *userEnv) string {
	t.Helper()
	var v struct {
		Groups []struct {
			GroupID   string `json:"groupId"`
			GroupName string `json:"groupName"`
		} `json:"groups"`
	}
	e.h.mustCLI(&v, "group", "list", "--tenant", "acme", "--json")
	for _, g := range v.Groups {
		if g.GroupName == "admin" {
			return g.GroupID
		}
	}
	t.Fatal("no admin group")
	return ""
}

func TestUsersAPIPostgres(t *testing.T) {
	h := pgHarness(t)
	e := newUserEnv(t, h)
	r := h.serveReplica("a", h.db)
	h.url = "http://" + r.addr
	e.signIn()
	runUsersAPI(t, e)
}

// TestUsersAPIRules: the rules that hold whatever the route (SPEC §7) and
// the password flows of §8, one by one.
func TestUsersAPIRules(t *testing.T) {
	h := newHarness(t)
	e := newUserEnv(t, h)
	h.createUser("acme", "plainadmin", adminPW, "--group", "admin")
	h.createUser("acme", "imp", userPW, "--group", "impersonator")
	h.createUser("acme", "fresh", userPW, "--must-change-password")
	h.serve()
	e.signIn()
	key := e.tn.APIKey
	plain := hdr(key, h.signIn(key, "plainadmin", adminPW))
	const noPriv = "Do not have the required role privileges"

	t.Run("no escalation", func(t *testing.T) {
		wantError(t, h.do("PATCH", "/user/"+e.userID+"/add-to-group", map[string]any{"userGroupName": "impersonator"}, plain...), 403, noPriv)
		wantError(t, h.do("POST", "/user", map[string]any{"username": "x1", "password": "X1-horse-battery", "groups": []string{"impersonator"}}, plain...), 403, noPriv)
		wantError(t, h.do("PATCH", "/user/"+e.userID, map[string]any{"groups": []string{"impersonator"}}, plain...), 403, noPriv)
		// An admin may grant admin.
		if r := h.do("PATCH", "/user/"+e.userID, map[string]any{"groups": []string{"admin"}}, plain...); r.status != 200 {
			t.Fatalf("grant admin: %d %s", r.status, r.body)
		}
		if r := h.do("PATCH", "/user/"+e.userID, map[string]any{"groups": []string{}}, plain...); r.status != 200 || !strings.Contains(string(r.body), `"groupNames":[]`) {
			t.Fatalf("replace groups: %d %s", r.status, r.body)
		}
		r := h.do("GET", "/audit?action=user_group_add", nil, e.adminHdr...)
		if !strings.Contains(string(r.body), `"outcome":"denied"`) || !strings.Contains(string(r.body), noPriv) {
			t.Fatalf("the refused grant is not audited: %s", r.body)
		}
	})

	t.Run("removing impersonator revokes impersonations", func(t *testing.T) {
		ih := hdr(key, h.signIn(key, "imp", userPW))
		r := h.do("POST", "/auth/impersonate", map[string]any{"username": "bob"}, ih...)
		if r.status != 200 {
			t.Fatalf("impersonate: %d %s", r.status, r.body)
		}
		child := hdr(key, r.json(t))
		if r := h.do("GET", "/user", nil, child...); r.status != 200 {
			t.Fatalf("child: %d", r.status)
		}
		impID := str(h.do("GET", "/user", nil, ih...).json(t), "userId")
		if r := h.do("PATCH", "/user/"+impID+"/remove-from-group", map[string]any{"userGroupName": "IMPERSONATOR"}, e.adminHdr...); r.status != 200 {
			t.Fatalf("remove impersonator: %d %s", r.status, r.body)
		}
		wantError(t, h.do("GET", "/user", nil, child...), 401, "Unauthorized")
		if r := h.do("GET", "/user", nil, ih...); r.status != 200 {
			t.Fatalf("the impersonator's own session was revoked: %d", r.status)
		}
	})

	t.Run("profile reaches the refreshed ID token", func(t *testing.T) {
		if r := h.do("PATCH", "/user/"+e.userID, map[string]any{"firstName": "Robert", "friendlyName": "Rob"}, e.userHdr...); r.status != 200 {
			t.Fatalf("patch: %d %s", r.status, r.body)
		}
		r := h.do("POST", "/auth/token", e.user, "X-API-Key", key)
		if r.status != 200 {
			t.Fatalf("refresh: %d %s", r.status, r.body)
		}
		c := claimsOf(t, str(sessionOf(t, r.json(t)), "authorization"))
		if c["given_name"] != "Robert" || c["nickname"] != "Rob" {
			t.Fatalf("refreshed ID token: %v", c)
		}
	})

	t.Run("required change at sign-in", func(t *testing.T) {
		signIn := func(body map[string]string) response { return h.do("POST", "/auth/token", body, "X-API-Key", key) }
		wantError(t, signIn(map[string]string{"username": "fresh", "password": "wrong-password", "newPassword": "Fresh-new-battery"}), 401, "Incorrect username or password")
		wantError(t, signIn(map[string]string{"username": "fresh", "password": userPW, "newPassword": "12345678"}), 400,
			"Password is too common: it is one of the 10,000 most common passwords")
		wantError(t, signIn(map[string]string{"username": "fresh", "password": userPW}), 422, "Password change required")
		if r := signIn(map[string]string{"username": "fresh", "password": userPW, "newPassword": "Fresh-new-battery"}); r.status != 200 {
			t.Fatalf("finish: %d %s", r.status, r.body)
		}
		// Flag cleared; newPassword of a user without it is ignored.
		if r := signIn(map[string]string{"username": "fresh", "password": "Fresh-new-battery", "newPassword": "Other-new-battery"}); r.status != 200 {
			t.Fatalf("after: %d %s", r.status, r.body)
		}
		wantError(t, signIn(map[string]string{"username": "fresh", "password": "Other-new-battery"}), 401, "Incorrect username or password")
	})

	t.Run("own password change is throttled", func(t *testing.T) {
		fh := hdr(key, h.signIn(key, "fresh", "Fresh-new-battery"))
		var last response
		for range 8 {
			last = h.do("POST", "/auth/password", map[string]any{"previousPassword": "not-it-at-all", "proposedPassword": "Fresh-newer-battery"}, fh...)
			if last.status == 429 {
				break
			}
			wantError(t, last, 401, "Incorrect username or password")
		}
		if last.status != 429 || last.header.Get("Retry-After") == "" {
			t.Fatalf("repeated wrong previous passwords: %d %s", last.status, last.body)
		}
	})

	t.Run("own sessions", func(t *testing.T) {
		r := h.do("DELETE", "/user/"+e.userID+"/sessions", nil, e.userHdr...)
		if r.status != 200 || !strings.Contains(string(r.body), `"revoked":`) {
			t.Fatalf("own sessions: %d %s", r.status, r.body)
		}
		wantError(t, h.do("GET", "/user", nil, e.userHdr...), 401, "Unauthorized")
	})

	t.Run("bad input", func(t *testing.T) {
		wantError(t, h.do("POST", "/user", map[string]any{"username": strings.Repeat("u", 129), "password": "X1-horse-battery"}, e.adminHdr...), 400, "")
		wantError(t, h.do("POST", "/user", map[string]any{"username": "ok1", "password": "X1-horse-battery", "email": strings.Repeat("e", 257)}, e.adminHdr...), 400, "email is longer than 256 bytes")
		r := h.do("POST", "/security/groups", `{"groupName":"x"}`, append(slices.Clone(e.adminHdr), "Content-Type", "text/plain")...)
		wantError(t, r, 400, "Content-Type must be application/json")
		wantError(t, h.do("PATCH", "/user/"+e.userID, `[1,2]`, e.adminHdr...), 400, "")
		wantError(t, h.do("DELETE", "/security/groups/not-a-uuid", nil, e.adminHdr...), 404, "Group not found")
		wantError(t, h.do("PATCH", "/user/nope/add-to-group", map[string]any{"userGroupName": "admin"}, e.adminHdr...), 404, "User not found")
		wantError(t, h.do("PATCH", "/user/"+e.userID+"/add-to-group", map[string]any{}, e.adminHdr...), 400, "userGroupId or userGroupName is required")
		r = h.do("PUT", "/user/"+e.userID, map[string]any{}, e.adminHdr...)
		wantError(t, r, 405, "Method Not Allowed")
		if r.header.Get("Allow") != "GET, PATCH, DELETE" {
			t.Errorf("Allow = %q", r.header.Get("Allow"))
		}
		wantError(t, h.do("POST", "/user/"+e.userID+"/sessions", nil, e.adminHdr...), 405, "Method Not Allowed")
		wantError(t, h.do("GET", "/user/"+e.userID+"/nothing", nil, e.adminHdr...), 404, "")
		wantError(t, h.do("GET", "/audit?cursor=x", nil, e.adminHdr...), 400, "")
		wantError(t, h.do("GET", "/audit?limit=1001", nil, e.adminHdr...), 400, "")
	})
}
