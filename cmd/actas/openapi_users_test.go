package main

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// contractUsers runs every route of the user administration API (SPEC
// §7, §8) through the contract: each answer, allowed or refused, is
// validated against openapi.yaml.
func contractUsers(t *testing.T, c *contract, h *harness, ten tenantInfo) {
	h.createUser("acme", "boss", "boss-password", "--group", "admin", "--group", "impersonator")
	h.createUser("acme", "boss2", "boss2-password", "--group", "admin")
	admin := hdr(ten.APIKey, h.signIn(ten.APIKey, "boss", "boss-password"))
	alice := hdr(ten.APIKey, h.signIn(ten.APIKey, "alice", "alice-password"))
	key := ten.APIKey

	me := c.json(true, "GET", "/user", nil, admin...)
	want(t, me, 200)
	want(t, c.json(true, "GET", "/user", nil, "X-API-Key", key, "Authorization", "Bearer "+alice[5]), 200)
	want(t, c.json(false, "GET", "/user", nil, "X-API-Key", key), 401)
	want(t, c.json(true, "GET", "/user", nil, "X-API-Key", "nope", "Authorization", alice[3]), 403)

	created := c.json(true, "POST", "/user", map[string]any{"username": "dana", "password": "dana-password",
		"firstName": "Dana", "groups": []string{"staff"}}, admin...)
	want(t, created, 200)
	dana := created.json(t)["userId"].(string)
	want(t, c.json(true, "POST", "/user", map[string]any{"username": "DANA", "password": "dana-password"}, admin...), 409)
	want(t, c.json(true, "POST", "/user", map[string]any{"username": "erin", "password": "password"}, admin...), 400)
	want(t, c.json(true, "POST", "/user", map[string]any{"username": "erin", "password": "erin-password"}, alice...), 403)
	want(t, c.json(true, "POST", "/user", map[string]any{"username": "erin", "password": "erin-password", "groups": []string{"nosuch"}}, admin...), 404)
	want(t, c.json(false, "POST", "/user", `{"username":`, admin...), 400)

	want(t, c.json(true, "GET", "/user/"+dana, nil, admin...), 200)
	want(t, c.json(true, "GET", "/user/"+dana, nil, alice...), 403)
	want(t, c.json(true, "GET", "/user/00000000-0000-4000-8000-000000000000", nil, admin...), 404)
	want(t, c.json(true, "GET", "/user/search/da?limit=10", nil, admin...), 200)
	want(t, c.json(true, "GET", "/user/search/da", nil, alice...), 403)
	want(t, c.json(false, "GET", "/user/search/da?limit=0", nil, admin...), 400)

	want(t, c.json(true, "PATCH", "/user/"+dana, map[string]any{"lastName": "Doe", "status": "enabled"}, admin...), 200)
	want(t, c.json(true, "PATCH", "/user/"+dana, map[string]any{"firstName": "x"}, alice...), 403)
	want(t, c.json(true, "PATCH", "/user/00000000-0000-4000-8000-000000000000", map[string]any{"firstName": "x"}, admin...), 404)
	want(t, c.json(false, "PATCH", "/user/"+dana, map[string]any{"status": "gone"}, admin...), 400)

	groups := c.json(true, "GET", "/security/groups", nil, admin...)
	want(t, groups, 200)
	var gs []struct {
		GroupID   string `json:"groupId"`
		GroupName string `json:"groupName"`
	}
	if err := json.Unmarshal(groups.body, &gs); err != nil {
		t.Fatal(err)
	}
	var adminGroup string
	for _, g := range gs {
		if g.GroupName == "admin" {
			adminGroup = g.GroupID
		}
	}
	want(t, c.json(true, "GET", "/security/groups", nil, alice...), 403)
	ng := c.json(true, "POST", "/security/groups", map[string]any{"groupName": "auditors"}, admin...)
	want(t, ng, 200)
	gid := ng.json(t)["groupId"].(string)
	want(t, c.json(true, "POST", "/security/groups", map[string]any{"groupName": "Auditors"}, admin...), 409)
	want(t, c.json(false, "POST", "/security/groups", map[string]any{"groupName": ""}, admin...), 400)

	want(t, c.json(true, "PATCH", "/user/"+dana+"/add-to-group", map[string]any{"userGroupId": gid}, admin...), 200)
	want(t, c.json(true, "PATCH", "/user/"+dana+"/add-to-group", map[string]any{"userGroupName": "nosuch"}, admin...), 404)
	want(t, c.json(true, "PATCH", "/user/"+dana+"/remove-from-group", map[string]any{"userGroupName": "auditors"}, admin...), 200)
	want(t, c.json(true, "PATCH", "/user/"+dana+"/remove-from-group", map[string]any{"userGroupName": "auditors"}, alice...), 403)

	want(t, c.json(true, "POST", "/user/"+dana+"/password", map[string]any{"password": "dana-password-2", "mustChangePassword": false}, admin...), 200)
	want(t, c.json(true, "POST", "/user/"+dana+"/password", map[string]any{"password": "dana"}, admin...), 400)
	want(t, c.json(true, "GET", "/user/"+dana+"/sessions", nil, admin...), 200)
	want(t, c.json(true, "DELETE", "/user/"+dana+"/sessions", nil, admin...), 200)
	want(t, c.json(true, "GET", "/user/"+dana+"/sessions", nil, alice...), 403)

	want(t, c.json(true, "GET", "/audit?limit=5&action=user_create", nil, admin...), 200)
	want(t, c.json(true, "GET", "/audit", nil, alice...), 403)
	want(t, c.json(false, "GET", "/audit?since=yesterday", nil, admin...), 400)

	want(t, c.json(true, "DELETE", "/security/groups/"+adminGroup, nil, admin...), 422)
	want(t, c.json(true, "DELETE", "/security/groups/"+gid, nil, admin...), 200)
	want(t, c.json(true, "DELETE", "/security/groups/"+gid, nil, admin...), 404)

	// The last admin, then a deletion.
	boss2 := hdr(key, h.signIn(key, "boss2", "boss2-password"))
	want(t, c.json(true, "PATCH", "/user/"+str(me.json(t), "userId")+"/remove-from-group", map[string]any{"userGroupName": "admin"}, boss2...), 200)
	adm := c.json(true, "GET", "/user/search/adm", nil, boss2...).json(t)["data"].([]any)[0].(map[string]any)
	want(t, c.json(true, "PATCH", "/user/"+str(adm, "userId")+"/remove-from-group", map[string]any{"userGroupName": "admin"}, boss2...), 200)
	want(t, c.json(true, "DELETE", "/user/"+str(c.json(true, "GET", "/user", nil, boss2...).json(t), "userId"), nil, boss2...), 422)
	want(t, c.json(true, "DELETE", "/user/"+dana, nil, boss2...), 200)

	want(t, c.json(true, "POST", "/auth/password", map[string]any{"previousPassword": "wrong", "proposedPassword": "alice-password-2"}, alice...), 401)
	want(t, c.json(true, "POST", "/auth/password", map[string]any{"previousPassword": "alice-password", "proposedPassword": "alice-password-2"}, alice...), 200)
	want(t, c.json(false, "POST", "/auth/password", map[string]any{}, alice...), 400)
}

// TestUsersCompatibleWithReference: actas's answers to GET /user and
// POST /user validate against the original's own schemas (User,
// UserResponse).
func TestUsersCompatibleWithReference(t *testing.T) {
	file := filepath.Join("..", "..", "..", "shared", "reference", "tenovos-v1.oas.yaml")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Skipf("reference description not found (%v); skipping", err)
	}
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = true
	loader.ReadFromURIFunc = func(*openapi3.Loader, *url.URL) ([]byte, error) { return []byte("{}"), nil }
	ref, err := loader.LoadFromDataWithPath(b, &url.URL{Path: file})
	if err != nil {
		t.Fatal(err)
	}
	h, ten := setup(t)
	h.createUser("acme", "boss", "boss-password", "--group", "admin")
	admin := hdr(ten.APIKey, h.signIn(ten.APIKey, "boss", "boss-password"))
	for _, c := range []struct {
		schema, method, path string
		body                 any
	}{
		{"User", "GET", "/user", nil},
		{"UserResponse", "POST", "/user", map[string]any{"username": "dana", "password": "dana-password", "email": "dana@example.com"}},
	} {
		r := h.do(c.method, c.path, c.body, admin...)
		if r.status != 200 {
			t.Fatalf("%s %s: %d %s", c.method, c.path, r.status, r.body)
		}
		var v any
		if err := json.Unmarshal(r.body, &v); err != nil {
			t.Fatal(err)
		}
		sch := ref.Components.Schemas[c.schema]
		if sch == nil {
			t.Fatalf("the reference has no schema %s", c.schema)
		}
		if err := sch.Value.VisitJSON(v); err != nil {
			t.Errorf("%s %s does not validate against the original's %s: %v\n%s", c.method, c.path, c.schema, err, r.body)
		}
	}
}
