package main

import (
	"database/sql"
	"encoding/json"
	"strings"
	"testing"
)

// TestDoctorListsCollisions: on a database an older actas left with two
// users that are one account under RFC 8265, doctor lists both (exit 1),
// and every command that migrates refuses, naming them.
func TestDoctorListsCollisions(t *testing.T) {
	h := newHarness(t)
	h.createTenant("acme")
	sub := h.createUser("acme", "café", "cafe-password")
	out, errOut, code := h.cli("", "doctor", "--json")
	if code != 0 || strings.TrimSpace(out) != `{"collisions":[]}` {
		t.Fatalf("doctor on a clean database: exit %d, %q %q", code, out, errOut)
	}

	raw, err := sql.Open("sqlite", strings.TrimPrefix(h.db, "sqlite:"))
	if err != nil {
		t.Fatal(err)
	}
	const other = "00000000-0000-4000-8000-000000000001"
	for _, q := range []string{
		`INSERT INTO users SELECT '` + other + `', tenant_id, 'cafe` + "\u0301" + `', 'cafe` + "\u0301" + `', email, email_verified,
			password_hash, status, must_change_password, groups_json, created_at, updated_at FROM users WHERE id = '` + sub + `'`,
		// An older database has neither 00003 nor the later 00006.
		`DROP TABLE write_probe`,
		`DELETE FROM goose_db_version WHERE version_id >= 3`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()

	out, _, code = h.cli("", "doctor", "--json")
	var v struct {
		Collisions []struct {
			Tenant, Canonical string
			Users             []struct{ Sub, Username string }
		}
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || code != 1 {
		t.Fatalf("doctor with a collision: exit %d, %v, %q", code, err, out)
	}
	if len(v.Collisions) != 1 || v.Collisions[0].Tenant != "acme" || v.Collisions[0].Canonical != "café" ||
		len(v.Collisions[0].Users) != 2 || v.Collisions[0].Users[0].Sub != other && v.Collisions[0].Users[1].Sub != other {
		t.Fatalf("doctor --json = %+v", v)
	}
	out, _, code = h.cli("", "doctor")
	if code != 1 || !strings.Contains(out, `"cafe\u0301"`) || !strings.Contains(out, sub) {
		t.Errorf("doctor: exit %d, %q", code, out)
	}
	_, errOut, code = h.cli("", "user", "list", "--tenant", "acme")
	if code != 1 || !strings.Contains(errOut, sub) || !strings.Contains(errOut, other) {
		t.Errorf("a command on the unmigrated database: exit %d, %q; want 1 naming both users", code, errOut)
	}
}
