package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/internal/oldschema"
	"github.com/actas-dev/actas/sqlite"
)

// TestMigration00003 builds a database as an older actas left it
// (usernames keyed by strings.ToLower, so "café" composed and decomposed
// are two users), checks that doctor lists the collision and the
// migration refuses naming both users, then that it rekeys once the
// operator has removed one.
func TestMigration00003(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "actas.db")
	now := time.UnixMilli(1e12).UTC()
	tn := &actas.Tenant{ID: actas.NewID(), Name: "acme", UserPoolID: "local_abcdefghi",
		ClientID: actas.NewClientID(), Settings: actas.DefaultTenantSettings(), CreatedAt: now}
	user := func(name string) *actas.User {
		return &actas.User{ID: actas.NewID(), TenantID: tn.ID, Username: name, PasswordHash: "x",
			Status: actas.UserActive, CreatedAt: now, UpdatedAt: now}
	}
	nfc, nfd, bob := user("caf\u00e9"), user("cafe\u0301"), user("Ｂob")
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if err := oldschema.Before00003(ctx, goose.DialectSQLite3, raw, "migrations", tn, nfc, nfd, bob); err != nil {
		t.Fatal(err)
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}

	cs, err := sqlite.UsernameCollisions(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].Tenant != "acme" || cs[0].Key != "caf\u00e9" || len(cs[0].UserIDs) != 2 {
		t.Fatalf("collisions = %+v, want café's two users", cs)
	}
	_, err = sqlite.Open(ctx, path)
	if err == nil || !strings.Contains(err.Error(), nfc.ID) || !strings.Contains(err.Error(), nfd.ID) {
		t.Fatalf("open with colliding users: %v; want a refusal naming %s and %s", err, nfc.ID, nfd.ID)
	}

	raw, err = sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, nfd.ID); err != nil {
		t.Fatal(err)
	}
	_ = raw.Close()
	db := mustOpen(t, path)
	defer db.Close()
	for login, id := range map[string]string{"cafe\u0301": nfc.ID, "CAFÉ": nfc.ID, "bob": bob.ID, "ＢＯＢ": bob.ID} {
		u, err := db.UserByUsername(ctx, tn.ID, login)
		if err != nil || u.ID != id {
			t.Errorf("UserByUsername(%q) after the migration: %v, %v; want %s", login, u, err, id)
		}
	}
	if cs, err := sqlite.UsernameCollisions(ctx, path); err != nil || len(cs) != 0 {
		t.Errorf("collisions after the migration: %v, %v", cs, err)
	}
}
