package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/postgres"
)

// TestMigration00003 is sqlite's test of the same name on PostgreSQL: a
// database as an older actas left it, with "café" composed and
// decomposed as two users, is refused naming both; once one is deleted,
// the migration rekeys and the other spellings find the user.
func TestMigration00003(t *testing.T) {
	dsn := freshSchema(t)
	ctx := t.Context()
	db := mustOpen(t, dsn)
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
	db.Close()

	exec := func(sql string, args ...any) {
		t.Helper()
		c, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(c, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(c)
		if _, err := conn.Exec(c, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	nfd, bob := actas.NewID(), actas.NewID()
	const copyUser = `INSERT INTO users SELECT $1, tenant_id, $2, $3, email, email_verified, password_hash, status,
		must_change_password, groups_json, created_at, updated_at FROM users WHERE id = $4`
	exec(copyUser, nfd, "cafe\u0301", "cafe\u0301", nfc.ID)
	exec(copyUser, bob, "Ｂob", strings.ToLower("Ｂob"), nfc.ID)
	exec(`DROP TABLE throttle_failures`)
	exec(`DROP TABLE write_probe`) // 00006, after 00003: an older database has neither
	exec(`DELETE FROM goose_db_version WHERE version_id >= 3`)

	cs, err := postgres.UsernameCollisions(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].Key != "caf\u00e9" || len(cs[0].UserIDs) != 2 {
		t.Fatalf("collisions = %+v, want café's two users", cs)
	}
	if _, err := postgres.Open(ctx, dsn); err == nil || !strings.Contains(err.Error(), nfc.ID) || !strings.Contains(err.Error(), nfd) {
		t.Fatalf("open with colliding users: %v; want a refusal naming %s and %s", err, nfc.ID, nfd)
	}
	exec(`DELETE FROM users WHERE id = $1`, nfd)
	db = mustOpen(t, dsn)
	defer db.Close()
	for login, id := range map[string]string{"cafe\u0301": nfc.ID, "CAFÉ": nfc.ID, "bob": bob, "ＢＯＢ": bob} {
		u, err := db.UserByUsername(ctx, tn.ID, login)
		if err != nil || u.ID != id {
			t.Errorf("UserByUsername(%q) after the migration: %v, %v; want %s", login, u, err, id)
		}
	}
}
