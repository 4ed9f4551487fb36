package sqlite_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/sqlite"
	"github.com/actas-dev/actas/storetest"
)

func mustOpen(t testing.TB, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	return db
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) actas.Store {
		return mustOpen(t, filepath.Join(t.TempDir(), "actas.db"))
	})
}

// TestReopen checks that committed data survives closing and reopening
// the file, and that migrating an up-to-date database changes nothing.
func TestReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "actas.db")
	db := mustOpen(t, path)
	current, err := db.MigrationsCurrent(ctx)
	if err != nil || !current {
		t.Fatalf("MigrationsCurrent after Open: %v, %v; want true", current, err)
	}
	tn := &actas.Tenant{ID: actas.NewID(), Name: "acme", UserPoolID: "local_abcdefghi",
		ClientID: actas.NewClientID(), Settings: actas.DefaultTenantSettings(), CreatedAt: time.UnixMilli(1e12).UTC()}
	if err := db.CreateTenant(ctx, tn, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.AppendAudit(ctx, &actas.AuditEvent{Time: tn.CreatedAt, TenantID: tn.ID, Action: "test"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = mustOpen(t, path)
	defer db.Close()
	for range 2 {
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("Migrate on an up-to-date database: %v", err)
		}
	}
	if current, err := db.MigrationsCurrent(ctx); err != nil || !current {
		t.Fatalf("MigrationsCurrent after reopening: %v, %v; want true", current, err)
	}
	got, err := db.TenantByName(ctx, "acme")
	if err != nil {
		t.Fatalf("tenant after reopening: %v", err)
	}
	if got.ID != tn.ID || !got.CreatedAt.Equal(tn.CreatedAt) || got.Settings != tn.Settings {
		t.Errorf("tenant after reopening: got %+v, want %+v", got, tn)
	}
	evs, err := db.AuditEvents(ctx, actas.AuditFilter{})
	if err != nil || len(evs) != 1 {
		t.Errorf("audit events after reopening: %d, %v; want 1", len(evs), err)
	}
}

func TestOpenRefusesNonFiles(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file:x.db?mode=memory", filepath.Join(t.TempDir(), "a.db?_pragma=x")} {
		if db, err := sqlite.Open(t.Context(), path); err == nil {
			db.Close()
			t.Errorf("Open(%q): no error", path)
		}
	}
}
