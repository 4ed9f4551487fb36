package sqlite

import (
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/actas-dev/actas"
)

// TestMapErrBusy: when another connection holds the write lock past the
// busy timeout, the caller gets ErrUnavailable (503), by result code.
func TestMapErrBusy(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "busy.db")
	open := func() *sql.DB {
		db, err := sql.Open("sqlite", path+"?_txlock=immediate&_pragma=busy_timeout(0)&_pragma=journal_mode(WAL)")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	a, b := open(), open()
	tx, err := a.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	_, err = b.BeginTx(ctx, nil)
	if err == nil {
		t.Fatal("second BEGIN IMMEDIATE succeeded while the first holds the lock")
	}
	if err := mapErr(err); !errors.Is(err, actas.ErrUnavailable) {
		t.Errorf("mapErr(%v) = %v, want ErrUnavailable", err, err)
	}
}

func TestMapErrPassesOthers(t *testing.T) {
	other := errors.New("other")
	if got := mapErr(other); got != other {
		t.Errorf("mapErr(other) = %v", got)
	}
	if got := mapErr(sql.ErrNoRows); !errors.Is(got, actas.ErrNotFound) {
		t.Errorf("mapErr(ErrNoRows) = %v", got)
	}
	if mapErr(nil) != nil {
		t.Error("mapErr(nil) != nil")
	}
}
