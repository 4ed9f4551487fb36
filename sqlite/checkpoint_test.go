package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actas-dev/actas"
)

func mustOpenDB(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// mustSessionOwner stores a tenant and a user for sessions to belong to.
func mustSessionOwner(t *testing.T, db *DB) (tenantID, userID string) {
	t.Helper()
	now := time.UnixMilli(1e12).UTC()
	tn := &actas.Tenant{ID: actas.NewID(), Name: "ckpt", UserPoolID: "local_ckptckptc", Settings: actas.DefaultTenantSettings(), CreatedAt: now}
	if err := db.CreateTenant(t.Context(), tn, nil, nil); err != nil {
		t.Fatal(err)
	}
	u := &actas.User{ID: actas.NewID(), TenantID: tn.ID, Username: "u", Status: actas.UserActive, CreatedAt: now}
	if err := db.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	return tn.ID, u.ID
}

func walSize(t *testing.T, path string) int64 {
	fi, err := os.Stat(path + "-wal")
	if errors.Is(err, os.ErrNotExist) {
		return 0
	} else if err != nil {
		t.Error(err)
		return 0
	}
	return fi.Size()
}

// Commits do not checkpoint: that is the checkpointer's job.
func TestWriterDoesNotCheckpoint(t *testing.T) {
	db := mustOpenDB(t, filepath.Join(t.TempDir(), "actas.db"))
	defer db.Close()
	var n int
	if err := db.w.QueryRowContext(t.Context(), "PRAGMA wal_autocheckpoint").Scan(&n); err != nil || n != 0 {
		t.Fatalf("writer's wal_autocheckpoint = %d, %v; want 0", n, err)
	}
	var sync int
	if err := db.w.QueryRowContext(t.Context(), "PRAGMA synchronous").Scan(&sync); err != nil || sync != 2 {
		t.Fatalf("writer's synchronous = %d, %v; want 2 (FULL)", sync, err)
	}
}

// Under continuous writes, with readers reading throughout, the WAL stays
// bounded although many times its bound is written through it, and no
// reader ever sees half of a transaction.
func TestCheckpointsUnderLoad(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "actas.db")
	db := mustOpenDB(t, path)
	defer db.Close()
	// 256 rows of about a page each, rewritten 16 at a time; and two
	// rows on pages of their own that every write of the last writer
	// sets to the same number: a reader that sees them differ saw a torn
	// state.
	if _, err := db.w.ExecContext(ctx, `CREATE TABLE ckpt_churn (k INTEGER PRIMARY KEY, v BLOB NOT NULL);
		WITH RECURSIVE n(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM n WHERE k < 255)
		INSERT INTO ckpt_churn (k, v) SELECT k, randomblob(3000) FROM n;
		CREATE TABLE ckpt_a (n INTEGER NOT NULL); INSERT INTO ckpt_a (n) VALUES (0);
		CREATE TABLE ckpt_b (n INTEGER NOT NULL); INSERT INTO ckpt_b (n) VALUES (0);`); err != nil {
		t.Fatal(err)
	}

	// 1 MiB of WAL at 4 KiB pages, so that the test need not write
	// gigabytes; what a round of ckptEvery adds under this load comes on
	// top.
	db.gc.ckpt.restartFrames.Store(256)
	const (
		bound   = 4 << 20
		through = 4 * bound // written through the WAL before the test ends
		minTime = 2 * time.Second
		maxTime = 60 * time.Second
	)
	var (
		written  atomic.Int64 // bytes of rows written
		maxWAL   int64
		stop     = make(chan struct{})
		wg       sync.WaitGroup
		failOnce sync.Once
	)
	fail := func(format string, args ...any) {
		failOnce.Do(func() { t.Errorf(format, args...) })
	}
	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}
	// Every writer is paced, so that what comes on top of restartFrames in
	// one round of ckptEvery does not depend on how fast the machine
	// commits: the churn writes at most 4 × 16 pages every 20 ms (about
	// 13 MB/s of WAL), the pair writer at most 3 pages every 2 ms (6 MB/s).
	// Unpaced, the pair writer alone wrote 40 MB/s of WAL on a machine with
	// a fast fsync, and one round then added 5 MiB.
	for w := range 4 {
		wg.Go(func() {
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for i := w; !stopped(); i += 4 {
				<-tick.C
				err := db.write(ctx, func(tx *sql.Tx) error {
					_, err := tx.ExecContext(ctx, `UPDATE ckpt_churn SET v = randomblob(3000) WHERE k % 16 = ?`, i%16)
					return err
				})
				if err != nil {
					fail("churn: %v", err)
					return
				}
				written.Add(16 * 3000)
			}
		})
	}
	wg.Go(func() {
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for n := 1; !stopped(); n++ {
			<-tick.C
			err := db.write(ctx, func(tx *sql.Tx) error {
				if _, err := tx.ExecContext(ctx, `UPDATE ckpt_a SET n = ?`, n); err != nil {
					return err
				}
				_, err := tx.ExecContext(ctx, `UPDATE ckpt_b SET n = ?`, n)
				return err
			})
			if err != nil {
				fail("pair: %v", err)
				return
			}
		}
	})
	var reads atomic.Int64
	for range 2 {
		wg.Go(func() {
			for !stopped() {
				var a, b int
				err := db.r.QueryRowContext(ctx, `SELECT (SELECT n FROM ckpt_a), (SELECT n FROM ckpt_b)`).Scan(&a, &b)
				if err != nil {
					fail("read: %v", err)
					return
				}
				if a != b {
					fail("torn read: %d and %d", a, b)
					return
				}
				reads.Add(1)
				time.Sleep(100 * time.Microsecond) // leave the CPUs to the writers
			}
		})
	}
	target := int64(through)
	if raceEnabled {
		target = 0 // too slow to write that much: check the reads only
	}
	start := time.Now()
	for time.Since(start) < minTime || written.Load() < target {
		if time.Since(start) > maxTime {
			t.Errorf("wrote only %d MiB in %v", written.Load()>>20, maxTime)
			break
		}
		maxWAL = max(maxWAL, walSize(t, path))
		if t.Failed() {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	t.Logf("%d MiB written in %v, %d reads; largest WAL %.1f MiB", written.Load()>>20,
		time.Since(start).Round(time.Millisecond), reads.Load(), float64(maxWAL)/(1<<20))
	if maxWAL > bound {
		t.Errorf("WAL grew to %d bytes; want at most %d", maxWAL, bound)
	}
	if reads.Load() == 0 {
		t.Error("no reads")
	}

	// Idle, the WAL is truncated.
	deadline := time.Now().Add(idleAfter + 5*time.Second)
	for walSize(t, path) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("WAL still %d bytes after %v idle", walSize(t, path), idleAfter+5*time.Second)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Close stops the checkpointer and leaves the database whole, with no WAL.
func TestCloseLeavesCleanFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "actas.db")
	db := mustOpenDB(t, path)
	tenantID, userID := mustSessionOwner(t, db)
	now := time.UnixMilli(1e12).UTC()
	var ids []string
	for range 50 {
		s := &actas.Session{ID: actas.NewID(), TenantID: tenantID, UserID: userID, AuthTime: now,
			ExpiresAt: now.Add(time.Hour), CreatedAt: now}
		if err := db.CreateSession(ctx, s, nil, nil); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.ID)
	}
	if walSize(t, path) == 0 {
		t.Fatal("no WAL after writes: the test does not test Close")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := os.Stat(path + "-wal"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("WAL left after Close: %v", err)
	}

	db = mustOpenDB(t, path)
	defer db.Close()
	var check string
	if err := db.r.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q, %v", check, err)
	}
	for _, id := range ids {
		if _, err := db.Session(ctx, id); err != nil {
			t.Fatalf("session after reopening: %v", err)
		}
	}
}
