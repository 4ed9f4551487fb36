package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/internal/sqlrow"
)

// migration00003 creates the table of failure counts that replicas
// share, and rekeys usernames (sqlrow.RekeyUsernames has the why), in
// goose's transaction under the migration lock.
func migration00003() *goose.Migration {
	return sqlrow.Migration00003(`UPDATE users SET username_key = $1 WHERE id = $2`,
		// Sign-in failure counts every replica shares (issuer/credentials.go):
		// key is "u <username key>" or "p <address> <username key>".
		`CREATE TABLE throttle_failures (
			tenant_id TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
			key       TEXT    NOT NULL,
			failures  INTEGER NOT NULL,
			last_at   BIGINT  NOT NULL,
			PRIMARY KEY (tenant_id, key)
		)`,
		`CREATE INDEX throttle_failures_last_at ON throttle_failures (last_at)`)
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
