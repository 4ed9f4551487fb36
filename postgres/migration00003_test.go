package postgres_test

import (
	"database/sql"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/internal/oldschema"
	"github.com/actas-dev/actas/postgres"
)

// TestMigration00003 is sqlite's test of the same name on PostgreSQL: a
// database as an older actas left it, with "café" composed and
// decomposed as two users, is refused naming both; once one is deleted,
// the migration rekeys and the other spellings find the user.
func TestMigration00003(t *testing.T) {
	dsn := freshSchema(t)
	ctx := t.Context()
	now := time.UnixMilli(1e12).UTC()
	tn := &actas.Tenant{ID: actas.NewID(), Name: "acme", UserPoolID: "local_abcdefghi",
		ClientID: actas.NewClientID(), Settings: actas.DefaultTenantSettings(), CreatedAt: now}
	user := func(name string) *actas.User {
		return &actas.User{ID: actas.NewID(), TenantID: tn.ID, Username: name, PasswordHash: "x",
			Status: actas.UserActive, CreatedAt: now, UpdatedAt: now}
	}
	nfc, nfd, bob := user("caf\u00e9"), user("cafe\u0301"), user("Ｂob")
	raw, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := oldschema.Before00003(ctx, goose.DialectPostgres, raw, "migrations", tn, nfc, nfd, bob); err != nil {
		t.Fatal(err)
	}
	defer raw.Close()

	cs, err := postgres.UsernameCollisions(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].Key != "caf\u00e9" || len(cs[0].UserIDs) != 2 {
		t.Fatalf("collisions = %+v, want café's two users", cs)
	}
	if _, err := postgres.Open(ctx, dsn); err == nil || !strings.Contains(err.Error(), nfc.ID) || !strings.Contains(err.Error(), nfd.ID) {
		t.Fatalf("open with colliding users: %v; want a refusal naming %s and %s", err, nfc.ID, nfd.ID)
	}
	if _, err := raw.ExecContext(ctx, `DELETE FROM users WHERE id = $1`, nfd.ID); err != nil {
		t.Fatal(err)
	}
	db := mustOpen(t, dsn)
	defer db.Close()
	for login, id := range map[string]string{"cafe\u0301": nfc.ID, "CAFÉ": nfc.ID, "bob": bob.ID, "ＢＯＢ": bob.ID} {
		u, err := db.UserByUsername(ctx, tn.ID, login)
		if err != nil || u.ID != id {
			t.Errorf("UserByUsername(%q) after the migration: %v, %v; want %s", login, u, err, id)
		}
	}
}
