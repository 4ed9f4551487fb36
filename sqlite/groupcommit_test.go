package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"
)

// Concurrent writes share commits, yet each keeps the outcome of its own
// transaction: a failing fn's changes are rolled back alone, and the
// others commit.
func TestGroupCommitIsolatesMembers(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "gc.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.w.ExecContext(ctx, `CREATE TABLE gc_test (k INTEGER PRIMARY KEY); INSERT INTO gc_test (k) VALUES (-1)`); err != nil {
		t.Fatal(err)
	}
	errMine := errors.New("fn failed")
	const n = 300
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.write(ctx, func(tx *sql.Tx) error {
				k := i
				if i%50 == 7 {
					k = -1 // a duplicate: a constraint error for this member only
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO gc_test (k) VALUES (?)`, k); err != nil {
					return err
				}
				if i%10 == 3 {
					return errMine // after writing: must be rolled back
				}
				return nil
			})
		}()
	}
	wg.Wait()
	want := 1 // the row inserted first
	for i, err := range errs {
		switch {
		case i%10 == 3:
			if !errors.Is(err, errMine) {
				t.Errorf("member %d: err %v, want its own error", i, err)
			}
		case i%50 == 7:
			if err == nil {
				t.Errorf("member %d: duplicate key committed", i)
			}
		default:
			if err != nil {
				t.Errorf("member %d: %v", i, err)
			}
			want++
		}
	}
	var got int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM gc_test`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("%d rows committed, want %d", got, want)
	}
	var bad int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM gc_test WHERE k % 10 = 3`).Scan(&bad); err != nil || bad != 0 {
		t.Fatalf("rows of failed members committed: %d (%v)", bad, err)
	}
}

// A cancelled caller fails alone.
func TestGroupCommitCancelled(t *testing.T) {
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "gc.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := db.write(ctx, func(*sql.Tx) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if err := db.write(context.Background(), func(*sql.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
}
