package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/actas-dev/actas"
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
	db := mustOpen(t, path)
	tn := &actas.Tenant{ID: actas.NewID(), Name: "acme", UserPoolID: "local_abcdefghi",
		ClientID: actas.NewClientID(), Settings: actas.DefaultTenantSettings(), CreatedAt: time.UnixMilli(1e12).UTC()}
	if err := db.CreateTenant(ctx, tn, nil, nil); err != nil {
		t.Fatal(err)
	}
	now := time.UnixMilli(1e12).UTC()
	nfc := &actas.User{ID: actas.NewID(), TenantID: tn.ID, Username: "caf\u00e9", PasswordHash: "x", Status: actas.UserActive, CreatedAt: now, UpdatedAt: now}
	if err := db.CreateUser(ctx, nfc); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// What an older actas could hold, and its version table before 00003.
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	nfd, bob := actas.NewID(), actas.NewID()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO users SELECT ?, tenant_id, ?, ?, email, email_verified, password_hash, status,
			must_change_password, groups_json, created_at, updated_at FROM users WHERE id = ?`,
			[]any{nfd, "cafe\u0301", "cafe\u0301", nfc.ID}},
		{`INSERT INTO users SELECT ?, tenant_id, ?, ?, email, email_verified, password_hash, status,
			must_change_password, groups_json, created_at, updated_at FROM users WHERE id = ?`,
			[]any{bob, "Ｂob", strings.ToLower("Ｂob"), nfc.ID}},
		// Nor the migrations after it (00006), or goose refuses 00003 as out of order.
		{`DROP TABLE write_probe`, nil},
		{`DELETE FROM goose_db_version WHERE version_id >= 3`, nil},
	} {
		if _, err := raw.ExecContext(ctx, q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
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
	if err == nil || !strings.Contains(err.Error(), nfc.ID) || !strings.Contains(err.Error(), nfd) {
		t.Fatalf("open with colliding users: %v; want a refusal naming %s and %s", err, nfc.ID, nfd)
	}

	raw, err = sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, nfd); err != nil {
		t.Fatal(err)
	}
	_ = raw.Close()
	db = mustOpen(t, path)
	defer db.Close()
	for login, id := range map[string]string{"cafe\u0301": nfc.ID, "CAFÉ": nfc.ID, "bob": bob, "ＢＯＢ": bob} {
		u, err := db.UserByUsername(ctx, tn.ID, login)
		if err != nil || u.ID != id {
			t.Errorf("UserByUsername(%q) after the migration: %v, %v; want %s", login, u, err, id)
		}
	}
	if cs, err := sqlite.UsernameCollisions(ctx, path); err != nil || len(cs) != 0 {
		t.Errorf("collisions after the migration: %v, %v", cs, err)
	}
}
