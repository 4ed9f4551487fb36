package sqlite

import (
	"context"
	"database/sql"
	"strconv"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/internal/sqlrow"
)

// qmark is SQLite's numbered placeholder: the shared queries of sqlrow
// use an argument more than once.
func qmark(n int) string { return "?" + strconv.Itoa(n) }

var (
	refreshLookupQ = sqlrow.RefreshLookupQuery(qmark)
	advanceQ       = sqlrow.AdvanceSessionQuery(qmark, false)
	advanceRotateQ = sqlrow.AdvanceSessionQuery(qmark, true)
)

// RefreshLookup returns the refresh token with this hash, of any
// generation, its session and the session's user, in one query.
func (db *DB) RefreshLookup(ctx context.Context, hash []byte) (*actas.Session, *actas.RefreshToken, *actas.User, error) {
	var r sqlrow.RefreshUserRow
	if err := db.readRow(ctx, refreshLookupQ, blob(hash)).Scan(r.Dest()...); err != nil {
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
// in a group-committed write.
func (db *DB) AdvanceSession(ctx context.Context, id string, gen int, at time.Time, next *actas.RefreshToken) (bool, error) {
	a, err := sqlrow.AdvanceSessionArgs(id, gen, at, next)
	if err != nil {
		return false, wrap("advance session", err)
	}
	q := advanceQ
	if next != nil {
		q = advanceRotateQ
	}
	// Before the transaction (stmtcache.go).
	st, rtStmt := db.prepared(ctx, db.w, q), db.prepared(ctx, db.w, insertRefreshTokenQ)
	var ok bool
	err = db.write(ctx, func(tx *sql.Tx) error {
		ctx := brief(ctx)
		ok = false
		res, err := txExec(ctx, tx, st, q, a...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n == 0 {
			return err
		}
		if next != nil {
			if err := insertRefreshToken(ctx, tx, rtStmt, id, next); err != nil {
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
