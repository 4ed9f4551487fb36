package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/pressly/goose/v3"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/internal/sqlrow"
)

// migration00003 keys usernames by their PRECIS UsernameCaseMapped form
// (actas.NormalizeUsername). It is a Go migration because SQLite cannot
// compute that form; it runs once, in goose's transaction, and refuses,
// naming them, if two existing users would become one account (see
// sqlrow.RekeyUsernames). There is no down step: the old keys
// (strings.ToLower) could collide where the new ones do not.
//
// SQLite keeps no shared throttle table: one process serves a SQLite
// file, so the issuer's memory holds every count (docs/security.md).
func migration00003() *goose.Migration {
	return goose.NewGoMigration(3, &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
		return sqlrow.RekeyUsernames(ctx, tx, `UPDATE users SET username_key = ? WHERE id = ?`)
	}}, nil)
}

// UsernameCollisions opens the database file at path read-only, without
// migrating it, and lists the users whose names migration 00003 would
// make one account (`actas doctor`).
func UsernameCollisions(ctx context.Context, path string) ([]actas.UsernameCollision, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	defer db.Close()
	c, err := sqlrow.UsernameCollisions(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("username collisions: %w", mapErr(err))
	}
	return c, nil
}
