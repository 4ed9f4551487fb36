package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestGroupCLI: actas group list|create|delete and the user additions of
// SPEC §10, with their --json shapes.
func TestGroupCLI(t *testing.T) {
	h := newHarness(t)
	h.createTenant("acme")

	var created map[string]any
	h.mustCLI(&created, "group", "create", "--tenant", "acme", "Sales Team", "--json")
	if len(created) != 2 || created["groupName"] != "Sales Team" || len(str(created, "groupId")) != 36 {
		t.Fatalf("group create --json = %v", created)
	}
	if _, errOut, code := h.cli("", "group", "create", "--tenant", "acme", "sales team"); code != 1 || !strings.Contains(errOut, "Group already exists") {
		t.Fatalf("duplicate group: exit %d %q", code, errOut)
	}
	if _, _, code := h.cli("", "group", "create", "acme"); code != 2 {
		t.Fatalf("group create without --tenant: exit %d, want 2", code)
	}

	var u map[string]any
	h.mustCLI(&u, "user", "create", "--tenant", "acme", "--username", "alice", "--password", "alice-password",
		"--first-name", "Alice", "--last-name", "Liddell", "--must-change-password", "--group", "sales team", "--json")
	if len(u) != 3 || u["username"] != "alice" || strings.Join(toStrings(u["groups"]), ",") != "Sales Team" {
		t.Fatalf("user create --json = %v", u)
	}
	// user groups add of a missing group creates it.
	h.mustCLI(nil, "user", "groups", "add", "--tenant", "acme", "--username", "alice", "ops")

	out, _, code := h.cli("", "group", "list", "--tenant", "acme", "--json")
	if code != 0 {
		t.Fatalf("group list: exit %d", code)
	}
	var list struct {
		Groups []map[string]any `json:"groups"`
	}
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&list); err != nil {
		t.Fatalf("group list --json: %v: %s", err, out)
	}
	var names []string
	for _, g := range list.Groups {
		if len(g) != 3 || len(str(g, "groupId")) != 36 {
			t.Errorf("group entry %v: want groupId, groupName, members", g)
		}
		names = append(names, str(g, "groupName")+":"+jsonNumber(g["members"]))
	}
	if got := strings.Join(names, ","); got != "admin:0,impersonator:0,ops:1,Sales Team:1" {
		t.Fatalf("group list = %s", got)
	}

	h.mustCLI(nil, "group", "delete", "--tenant", "acme", "ops")
	if _, errOut, code := h.cli("", "group", "delete", "--tenant", "acme", "admin"); code != 1 || !strings.Contains(errOut, "cannot be deleted") {
		t.Fatalf("delete admin: exit %d %q", code, errOut)
	}
	if _, _, code := h.cli("", "group", "delete", "--tenant", "acme", "nosuch"); code != 1 {
		t.Fatalf("delete unknown group: exit %d, want 1", code)
	}
	var shown map[string]any
	h.mustCLI(&shown, "user", "show", "--tenant", "acme", "--username", "alice", "--json")
	if strings.Join(toStrings(shown["groups"]), ",") != "Sales Team" || shown["mustChangePassword"] != true || shown["firstName"] != "Alice" || shown["lastName"] != "Liddell" {
		t.Fatalf("user show after group delete: %v", shown)
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func jsonNumber(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
