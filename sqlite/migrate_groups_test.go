package sqlite_test

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/internal/oldschema"
)

// TestMigrationKeepsGroups: migration 00004 gives every tenant admin and
// impersonator records and one record for each group name its users
// hold, and leaves every user's groups as they were.
func TestMigrationKeepsGroups(t *testing.T) {
	path := filepath.Join(t.TempDir(), "actas.db")
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t1 := &actas.Tenant{ID: "t1", Name: "acme", UserPoolID: "local_aaaaaaaaa", ClientID: "c", CreatedAt: time.UnixMilli(1)}
	t2 := &actas.Tenant{ID: "t2", Name: "globex", UserPoolID: "local_bbbbbbbbb", ClientID: "c", CreatedAt: time.UnixMilli(1)}
	user := func(id, tenant, name, email string, groups ...string) *actas.User {
		return &actas.User{ID: id, TenantID: tenant, Username: name, Email: email, PasswordHash: "h",
			Status: actas.UserActive, Groups: groups, CreatedAt: time.UnixMilli(1), UpdatedAt: time.UnixMilli(1)}
	}
	if err := oldschema.Before00003(t.Context(), goose.DialectSQLite3, raw, "migrations", t1,
		user("u1", "t1", "alice", "A@x.org", "admin", "ops"), user("u2", "t1", "bob", "", "ops", "team:blue")); err != nil {
		t.Fatal(err)
	}
	if err := oldschema.AddTenants(t.Context(), goose.DialectSQLite3, raw, t2); err != nil {
		t.Fatal(err)
	}
	if err := oldschema.AddUsers(t.Context(), goose.DialectSQLite3, raw, user("u3", "t2", "carl", "")); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	db := mustOpen(t, path) // applies the rest
	defer db.Close()
	for tenant, want := range map[string][]string{
		"t1": {"admin:1", "impersonator:0", "ops:2", "team:blue:1"},
		"t2": {"admin:0", "impersonator:0"},
	} {
		gs, err := db.Groups(t.Context(), tenant)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, g := range gs {
			if len(g.ID) != 36 || g.ID[14] != '4' {
				t.Errorf("group %s has id %q, want a v4 UUID", g.Name, g.ID)
			}
			got = append(got, fmt.Sprintf("%s:%d", g.Name, g.Members))
		}
		if !slices.Equal(got, want) {
			t.Errorf("tenant %s groups = %v, want %v", tenant, got, want)
		}
	}
	u, err := db.User(t.Context(), "t1", "u2")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(u.Groups, []string{"ops", "team:blue"}) || u.FirstName != "" {
		t.Errorf("user after migration: %+v", u)
	}
	if us, err := db.SearchUsers(t.Context(), "t1", "a@x", "", 10); err != nil || len(us) != 1 || us[0].ID != "u1" {
		t.Errorf("search by an email written before the migration: %v, %v", us, err)
	}
}
