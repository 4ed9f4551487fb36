package postgres

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/internal/sqlrow"
)

func dollar(n int) string { return "$" + strconv.Itoa(n) }

var (
	refreshLookupQ = sqlrow.RefreshLookupQuery(dollar)
	advanceQ       = sqlrow.AdvanceSessionQuery(dollar, false)
	advanceRotateQ = sqlrow.AdvanceSessionQuery(dollar, true)
)

// RefreshLookup returns the refresh token with this hash, of any
// generation, its session and the session's user, in one query.
func (db *DB) RefreshLookup(ctx context.Context, hash []byte) (*actas.Session, *actas.RefreshToken, *actas.User, error) {
	var r sqlrow.RefreshUserRow
	err := db.read(ctx, func(ctx context.Context, q querier) error {
		return q.QueryRow(ctx, refreshLookupQ, blob(hash)).Scan(r.Dest()...)
	})
	if err != nil {
		return nil, nil, nil, wrap("refresh lookup", err)
	}
	u, err := r.User()
	if err != nil {
		return nil, nil, nil, wrap("refresh lookup", err)
	}
	return r.Session(), r.Token(), u, nil
}

// AdvanceSession records a refresh of a session still at generation gen
// (and rotates it with next): one UPDATE by key, plus the insert of next,
// in one transaction.
func (db *DB) AdvanceSession(ctx context.Context, id string, gen int, at time.Time, next *actas.RefreshToken) (bool, error) {
	a, err := sqlrow.AdvanceSessionArgs(id, gen, at, next)
	if err != nil {
		return false, wrap("advance session", err)
	}
	q := advanceQ
	if next != nil {
		q = advanceRotateQ
	}
	var ok bool
	err = db.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		ok = false
		tag, err := tx.Exec(ctx, q, a...)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		if next != nil {
			if err := insertRefreshToken(ctx, tx, id, next); err != nil {
				return err
			}
		}
		ok = true
		return nil
	})
	if err != nil {
		return false, wrap("advance session", err)
	}
	return ok, nil
}
