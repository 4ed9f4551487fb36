package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/actas-dev/actas"
)

// TestUnavailableCodes: every result code of a storage fault that may
// pass maps to ErrUnavailable (503 with Retry-After), by code, in its
// primary and extended forms; faults of the data or of actas stay
// internal errors.
func TestUnavailableCodes(t *testing.T) {
	for _, c := range []struct {
		name string
		code int
		want bool
	}{
		{"BUSY", sqlite3.SQLITE_BUSY, true},
		{"BUSY_TIMEOUT", sqlite3.SQLITE_BUSY_TIMEOUT, true},
		{"LOCKED", sqlite3.SQLITE_LOCKED, true},
		{"FULL", sqlite3.SQLITE_FULL, true},
		{"READONLY", sqlite3.SQLITE_READONLY, true},
		{"READONLY_DBMOVED", sqlite3.SQLITE_READONLY_DBMOVED, true},
		{"READONLY_RECOVERY", sqlite3.SQLITE_READONLY_RECOVERY, true},
		{"IOERR", sqlite3.SQLITE_IOERR, true},
		{"IOERR_WRITE", sqlite3.SQLITE_IOERR_WRITE, true},
		{"IOERR_FSYNC", sqlite3.SQLITE_IOERR_FSYNC, true},
		{"IOERR_SHORT_READ", sqlite3.SQLITE_IOERR_SHORT_READ, true},
		{"NOMEM", sqlite3.SQLITE_NOMEM, true},
		{"CORRUPT", sqlite3.SQLITE_CORRUPT, false},
		{"CONSTRAINT_CHECK", sqlite3.SQLITE_CONSTRAINT_CHECK, false},
		{"ERROR", sqlite3.SQLITE_ERROR, false},
		{"MISUSE", sqlite3.SQLITE_MISUSE, false},
	} {
		if got := unavailableCode(c.code); got != c.want {
			t.Errorf("unavailableCode(SQLITE_%s = %d) = %v, want %v", c.name, c.code, got, c.want)
		}
	}
}

// openFaultDB opens a store on a new file and returns it with a tenant's
// id to write users under.
func openFaultDB(t *testing.T) (*DB, string) {
	t.Helper()
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "fault.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ten := &actas.Tenant{ID: actas.NewID(), Name: "t", UserPoolID: "local_abcdefghi", ClientID: actas.NewClientID(),
		CreatedAt: time.Now()}
	key := &actas.APIKey{ID: "k0000000000000000", TenantID: ten.ID, Hash: []byte("h"), CreatedAt: time.Now()}
	if err := db.CreateTenant(t.Context(), ten, key, nil); err != nil {
		t.Fatal(err)
	}
	return db, ten.ID
}

func writeUser(ctx context.Context, db *DB, tenantID string, n int) error {
	now := time.Now()
	return db.CreateUser(ctx, &actas.User{ID: actas.NewID(), TenantID: tenantID, Username: "u" + actas.NewID(),
		Email: string(make([]byte, 2000)) + "@x", PasswordHash: "$argon2id$x", Status: actas.UserActive,
		CreatedAt: now, UpdatedAt: now})
}

// TestFullDatabaseIsUnavailable: a real SQLITE_FULL (the database may
// grow no more, as on a full disk) fails writes, and the probe, with
// ErrUnavailable while reads go on; once it may grow again, writes work.
func TestFullDatabaseIsUnavailable(t *testing.T) {
	ctx := t.Context()
	db, tid := openFaultDB(t)
	var pages int
	if err := db.w.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := db.w.ExecContext(ctx, `PRAGMA max_page_count = `+strconv.Itoa(pages+2)); err != nil {
		t.Fatal(err)
	}
	var err error
	for n := 0; n < 200 && err == nil; n++ {
		err = writeUser(ctx, db, tid, n)
	}
	if !errors.Is(err, actas.ErrUnavailable) {
		t.Fatalf("write to a full database = %v, want ErrUnavailable", err)
	}
	if err := db.ProbeWrite(ctx, time.Now()); err != nil && !errors.Is(err, actas.ErrUnavailable) {
		t.Errorf("probe write on a full database = %v, want nil or ErrUnavailable", err)
	}
	if _, err := db.Tenants(ctx); err != nil {
		t.Errorf("read from a full database: %v", err)
	}
	if _, err := db.w.ExecContext(ctx, `PRAGMA max_page_count = 1073741823`); err != nil {
		t.Fatal(err)
	}
	if err := writeUser(ctx, db, tid, 0); err != nil {
		t.Errorf("write after space came back: %v", err)
	}
}

// TestReadOnlyDatabaseIsUnavailable: a real SQLITE_READONLY fails writes
// and the probe write with ErrUnavailable.
func TestReadOnlyDatabaseIsUnavailable(t *testing.T) {
	ctx := t.Context()
	db, tid := openFaultDB(t)
	if _, err := db.w.ExecContext(ctx, `PRAGMA query_only = 1`); err != nil {
		t.Fatal(err)
	}
	if err := writeUser(ctx, db, tid, 0); !errors.Is(err, actas.ErrUnavailable) {
		t.Errorf("write to a read-only database = %v, want ErrUnavailable", err)
	}
	if err := db.ProbeWrite(ctx, time.Now()); !errors.Is(err, actas.ErrUnavailable) {
		t.Errorf("probe write to a read-only database = %v, want ErrUnavailable", err)
	}
	if _, err := db.w.ExecContext(ctx, `PRAGMA query_only = 0`); err != nil {
		t.Fatal(err)
	}
	if err := db.ProbeWrite(ctx, time.Now()); err != nil {
		t.Errorf("probe write once writable again: %v", err)
	}
}
