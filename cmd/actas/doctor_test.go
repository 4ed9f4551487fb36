package main

import (
	"database/sql"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/internal/oldschema"
)

// TestDoctorListsCollisions: on a database an older actas left with two
// users that are one account under RFC 8265, doctor lists both (exit 1),
// and every command that migrates refuses, naming them.
func TestDoctorListsCollisions(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	now := time.UnixMilli(1e12).UTC()
	tn := &actas.Tenant{ID: actas.NewID(), Name: "acme", UserPoolID: "local_abcdefghi", ClientID: actas.NewClientID(),
		EndpointURL: "https://api.acme.example/v1", Settings: actas.DefaultTenantSettings(), CreatedAt: now}
	user := func(id, name string) *actas.User {
		return &actas.User{ID: id, TenantID: tn.ID, Username: name, PasswordHash: "x",
			Status: actas.UserActive, CreatedAt: now, UpdatedAt: now}
	}
	const other = "00000000-0000-4000-8000-000000000001"
	sub := actas.NewID()
	raw, err := sql.Open("sqlite", strings.TrimPrefix(h.db, "sqlite:"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if err := oldschema.Before00003(ctx, goose.DialectSQLite3, raw, "../../sqlite/migrations", tn, user(sub, "café")); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := h.cli("", "doctor", "--json")
	if code != 0 || strings.TrimSpace(out) != `{"collisions":[]}` {
		t.Fatalf("doctor on a clean database: exit %d, %q %q", code, out, errOut)
	}
	if err := oldschema.AddUsers(ctx, goose.DialectSQLite3, raw, user(other, "cafe\u0301")); err != nil {
		t.Fatal(err)
	}

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
