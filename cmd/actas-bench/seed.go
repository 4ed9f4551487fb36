package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/actas-dev/actas"
)

// seedMain fills the database with many live sessions of the bench
// tenant's users, written directly in large transactions (PostgreSQL:
// COPY), so that refresh and expire can be measured against a big table.
func seedMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("actas-bench seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		dbSpec    = fs.String("db", os.Getenv("ACTAS_DB"), "the server's --db (sqlite:PATH or postgres://…)")
		statePath = fs.String("state", "", "state file of -setup (default: bench-state.json beside a SQLite database; required on PostgreSQL)")
		n         = fs.Int("sessions", 100000, "number of sessions to add")
		batch     = fs.Int("batch", 500000, "sessions per transaction")
		cacheMiB  = fs.Int("cache-mib", 4096, "SQLite: page cache of the seeding connection, MiB (allocated as used)")
		durable   = fs.Bool("durable", false, "seed durably (default: SQLite synchronous=OFF, PostgreSQL synchronous_commit=off; a crash loses the seed)")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 1 || *n > 100_000_000 {
		return errors.New("-sessions must be between 1 and 1e8")
	}
	if *batch < 1 || *batch > 1_000_000 {
		return errors.New("-batch must be between 1 and 1e6")
	}
	t0 := time.Now()
	done, st, err := seed(ctx, *dbSpec, *statePath, *n, *batch, !*durable, *cacheMiB, stderr)
	if err != nil {
		return err
	}
	el := time.Since(t0)
	fmt.Fprintf(stdout, "seeded %d sessions for tenant %s in %s (%.0f sessions/s)\n",
		done, st.Tenant, el.Round(time.Millisecond), float64(done)/el.Seconds())
	return nil
}

// seed adds n sessions to the bench tenant of the state file, batch per
// transaction, and returns how many it added.
//
// On SQLite, every commit copies each page it changed into the WAL and a
// checkpoint copies it back. Ids and hashes are random, so a batch
// touches nearly every leaf page of the id and hash indexes once they
// hold a few million entries: the cost of a commit grows with the table,
// not the batch. Large batches in a page cache that holds those indexes
// keep the cost per row from growing with the table (100,000-row batches
// in a 1 GiB cache fell from 19,000 to 10,000 rows/s by 1.5M sessions).
func seed(ctx context.Context, dbSpec, statePath string, n, batch int, fast bool, cacheMiB int, progress io.Writer) (int, *state, error) {
	tg, err := parseTarget(dbSpec)
	if err != nil {
		return 0, nil, err
	}
	if statePath == "" {
		if statePath, err = defaultState(tg); err != nil {
			return 0, nil, err
		}
	}
	st, err := loadState(statePath)
	if err != nil {
		return 0, nil, err
	}
	// Open the store once: it migrates, and it reads the tenant and users.
	db, err := openStore(ctx, tg)
	if err != nil {
		return 0, nil, err
	}
	t, err := db.TenantByName(ctx, st.Tenant)
	if err != nil {
		db.Close()
		return 0, nil, fmt.Errorf("tenant %s: %w", st.Tenant, err)
	}
	t.Settings = t.Settings.WithDefaults()
	users, err := db.Users(ctx, t.ID)
	db.Close()
	if err != nil || len(users) == 0 {
		return 0, nil, fmt.Errorf("users of %s: %v", st.Tenant, err)
	}
	w, err := openWriter(ctx, tg, fast, cacheMiB)
	if err != nil {
		return 0, nil, err
	}
	defer w.Close()

	t0 := time.Now()
	rows := make([]seedRow, batch)
	var rnd [32 * 1024]byte
	done := 0
	for done < n {
		if ctx.Err() != nil {
			return done, st, ctx.Err()
		}
		k := min(batch, n-done)
		for i := range k {
			if i%1024 == 0 {
				_, _ = rand.Read(rnd[:])
			}
			h := sha256.Sum256(rnd[(i%1024)*32 : (i%1024+1)*32])
			rows[i] = seedRow{id: actas.NewID(), userID: users[(done+i)%len(users)].ID, hash: h[:]}
		}
		if err := w.writeSessions(ctx, t, rows[:k], time.Now()); err != nil {
			return done, st, err
		}
		done += k
		if progress != nil {
			el := time.Since(t0)
			fmt.Fprintf(progress, "seeded %d/%d sessions in %s (%.0f/s)\n", done, n, el.Round(time.Second), float64(done)/el.Seconds())
		}
	}
	if sw, ok := w.(*sqliteWriter); ok {
		if err := sw.checkpoint(ctx); err != nil {
			return done, st, err
		}
	}
	return done, st, nil
}
