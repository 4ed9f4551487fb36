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
	"path/filepath"
	"time"

	"database/sql"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/sqlite"
)

// seedMain fills the database with many live sessions of the bench
// tenant's users, written directly in large transactions, so that refresh
// and expire can be measured against a big table.
func seedMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("actas-bench seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		dbSpec    = fs.String("db", os.Getenv("ACTAS_DB"), "the server's --db (sqlite:PATH)")
		statePath = fs.String("state", "", "state file of -setup (default: bench-state.json beside the database)")
		n         = fs.Int("sessions", 100000, "number of sessions to add")
		batch     = fs.Int("batch", 20000, "sessions per transaction")
		durable   = fs.Bool("durable", false, "seed with synchronous=FULL (default OFF: seed data only, a crash loses the seed)")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	path, err := sqlitePath(*dbSpec)
	if err != nil {
		return err
	}
	if *statePath == "" {
		*statePath = filepath.Join(filepath.Dir(path), "bench-state.json")
	}
	if *n < 1 || *n > 100_000_000 {
		return errors.New("-sessions must be between 1 and 1e8")
	}
	st, err := loadState(*statePath)
	if err != nil {
		return err
	}
	// Open the store once: it migrates, and it reads the tenant and users.
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	t, err := db.TenantByName(ctx, st.Tenant)
	if err != nil {
		db.Close()
		return err
	}
	t.Settings = t.Settings.WithDefaults()
	users, err := db.Users(ctx, t.ID)
	db.Close()
	if err != nil || len(users) == 0 {
		return fmt.Errorf("users of %s: %v", st.Tenant, err)
	}
	t0 := time.Now()
	rows := make([]seedRow, *batch)
	var rnd [32 * 1024]byte
	done := 0
	err = withSeedConn(ctx, path, !*durable, func(c *sql.DB) error {
		for done < *n {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			k := min(*batch, *n-done)
			for i := range k {
				if i%1024 == 0 {
					_, _ = rand.Read(rnd[:])
				}
				h := sha256.Sum256(rnd[(i%1024)*32 : (i%1024+1)*32])
				rows[i] = seedRow{id: actas.NewID(), userID: users[(done+i)%len(users)].ID, hash: h[:]}
			}
			if err := insertSessionsConn(ctx, c, t, rows[:k], time.Now(), k); err != nil {
				return err
			}
			done += k
			el := time.Since(t0)
			fmt.Fprintf(stderr, "seeded %d/%d sessions in %s (%.0f/s)\n", done, *n, el.Round(time.Second), float64(done)/el.Seconds())
		}
		_, err := c.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "seeded %d sessions for tenant %s in %s\n", done, st.Tenant, time.Since(t0).Round(time.Millisecond))
	return nil
}
