package postgres_test

import (
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
)

// TestMigrationKeepsGroups: see the SQLite test of the same name.
func TestMigrationKeepsGroups(t *testing.T) {
	dsn := freshSchema(t)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	raw := stdlib.OpenDB(*cfg)
	p, err := goose.NewProvider(goose.DialectPostgres, raw, os.DirFS("migrations"), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(t.Context(), 2); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO tenants VALUES ('t1', 'acme', 'local_aaaaaaaaa', 'c', '', '{}', 1), ('t2', 'globex', 'local_bbbbbbbbb', 'c', '', '{}', 1)`,
		`INSERT INTO users VALUES ('u1', 't1', 'alice', 'alice', 'A@x.org', false, 'h', 'active', false, '["admin","ops"]', 1, 1),
			('u2', 't1', 'bob', 'bob', '', false, 'h', 'active', false, '["ops","team:blue"]', 1, 1),
			('u3', 't2', 'carl', 'carl', '', false, 'h', 'active', false, '[]', 1, 1)`,
	} {
		if _, err := raw.ExecContext(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()

	db := mustOpen(t, dsn)
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
	if !slices.Equal(u.Groups, []string{"ops", "team:blue"}) {
		t.Errorf("user after migration: %+v", u)
	}
	if us, err := db.SearchUsers(t.Context(), "t1", "a@x", "", 10); err != nil || len(us) != 1 || us[0].ID != "u1" {
		t.Errorf("search by an email written before the migration: %v, %v", us, err)
	}
}
