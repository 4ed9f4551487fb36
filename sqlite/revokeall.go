package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/internal/sqlrow"
)

// insertSessionRevocations appends one Revocation per session, with one
// prepared statement: a whole tenant's logout may append many thousands.
func insertSessionRevocations(ctx context.Context, tx *sql.Tx, sessions []*actas.Session, at time.Time) error {
	if len(sessions) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, insertRevocationQ)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, s := range sessions {
		if _, err := stmt.ExecContext(ctx, sqlrow.RevocationArgs(sqlrow.SessionRevocation(s, at))...); err != nil {
			return err
		}
	}
	return nil
}
