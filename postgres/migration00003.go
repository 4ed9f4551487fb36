package postgres

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/internal/sqlrow"
)

// migration00003 keys usernames by their PRECIS UsernameCaseMapped form
// (actas.NormalizeUsername) and creates the shared throttle table. It is
// a Go migration because PostgreSQL cannot compute that form in SQL; it
// runs once, in goose's transaction under the migration lock, and
// refuses, naming them, if two existing users would become one account
// (sqlrow.RekeyUsernames). There is no down step: the old keys
// (strings.ToLower) could collide where the new ones do not.
func migration00003() *goose.Migration {
	return goose.NewGoMigration(3, &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
		// Sign-in failure counts every replica shares (throttle.go):
		// key is "u <username key>" or "p <address> <username key>".
		if _, err := tx.ExecContext(ctx, `CREATE TABLE throttle_failures (
			tenant_id TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
			key       TEXT    NOT NULL,
			failures  INTEGER NOT NULL,
			last_at   BIGINT  NOT NULL,
			PRIMARY KEY (tenant_id, key)
		)`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `CREATE INDEX throttle_failures_last_at ON throttle_failures (last_at)`); err != nil {
			return err
		}
		return sqlrow.RekeyUsernames(ctx, tx, `UPDATE users SET username_key = $1 WHERE id = $2`)
	}}, nil)
}

// UsernameCollisions connects to the database at dsn without migrating
// it and lists the users whose names migration 00003 would make one
// account (`actas doctor`).
func UsernameCollisions(ctx context.Context, dsn string) ([]actas.UsernameCollision, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	defer pool.Close()
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	ctx, cancel := bound(ctx)
	defer cancel()
	c, err := sqlrow.UsernameCollisions(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("username collisions: %w", mapErr(err))
	}
	return c, nil
}
