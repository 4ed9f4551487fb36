package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/pressly/goose/v3"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/internal/sqlrow"
)

// migration00003 is the Go migration that rekeys usernames
// (sqlrow.RekeyUsernames has the why). SQLite gets no throttle table: one
// process serves the file, and its memory holds every count.
func migration00003() *goose.Migration {
	return sqlrow.Migration00003(`UPDATE users SET username_key = ? WHERE id = ?`)
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
