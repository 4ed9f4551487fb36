package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/actas-dev/actas"
)

// insertSessionRevocations appends one Revocation per session, with one
// prepared statement: a whole tenant's logout may append many thousands.
func insertSessionRevocations(ctx context.Context, tx *sql.Tx, sessions []*actas.Session, at time.Time) error {
	if len(sessions) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO revocations (tenant_id, id, revoked_at, expires_at)
		VALUES (?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, s := range sessions {
		if _, err := stmt.ExecContext(ctx, s.TenantID, s.ID, ms(at), ms(s.ExpiresAt)); err != nil {
			return err
		}
	}
	return nil
}
