package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/internal/sqlrow"
)

const sessionCols = sqlrow.SessionCols

var insertRefreshTokenQ = `INSERT INTO refresh_tokens (` + sqlrow.RefreshTokenCols + `) VALUES (?, ?, ?, ?)`

// insertRefreshToken stores rt with st, insertRefreshTokenQ prepared on
// the writer (or nil).
func insertRefreshToken(ctx context.Context, tx *sql.Tx, st *sql.Stmt, sessionID string, rt *actas.RefreshToken) error {
	a, err := sqlrow.RefreshTokenArgs(sessionID, rt)
	if err != nil {
		return err
	}
	_, err = txExec(ctx, tx, st, insertRefreshTokenQ, a...)
	return err
}

// CreateSession stores a session, its first refresh token and its audit
// event in one transaction. On success ev.ID is set.
func (db *DB) CreateSession(ctx context.Context, s *actas.Session, rt *actas.RefreshToken, ev *actas.AuditEvent) error {
	var evID int64
	rtStmt := db.prepared(ctx, db.w, insertRefreshTokenQ) // before the transaction
	err := db.write(ctx, func(tx *sql.Tx) error {
		if s.ParentID != "" {
			// Writes are serialised (BEGIN IMMEDIATE), so no revocation
			// can slip between this check and the commit.
			var revokedAt int64
			err := tx.QueryRowContext(ctx, `SELECT revoked_at FROM sessions WHERE id = ? AND tenant_id = ?`,
				s.ParentID, s.TenantID).Scan(&revokedAt)
			if errors.Is(err, sql.ErrNoRows) || (err == nil && revokedAt != 0) {
				return actas.ErrParentRevoked
			} else if err != nil {
				return err
			}
		}
		a, err := sqlrow.SessionArgs(s)
		if err != nil {
			return err
		}
		args := append([]any{s.ID, s.TenantID}, a...)
		if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (`+sessionCols+`) VALUES (`+
			placeholders(len(args))+`)`, args...); err != nil {
			return err
		}
		if rt != nil {
			if err := insertRefreshToken(ctx, tx, rtStmt, s.ID, rt); err != nil {
				return err
			}
		}
		if ev != nil {
			var err error
			if evID, err = insertAudit(ctx, tx, ev); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return wrap("create session", err)
	}
	if ev != nil {
		ev.ID = evID
	}
	return nil
}

// Session returns the session with this id.
func (db *DB) Session(ctx context.Context, id string) (*actas.Session, error) {
	s, err := sqlrow.ScanSession(db.readRow(ctx, `SELECT `+sessionCols+` FROM sessions WHERE id = ?`, id))
	if err != nil {
		return nil, wrap("session", err)
	}
	return s, nil
}

// SessionByRefreshToken returns the refresh token with this hash, of any
// generation, and its session, in one query.
func (db *DB) SessionByRefreshToken(ctx context.Context, hash []byte) (*actas.Session, *actas.RefreshToken, error) {
	var r sqlrow.RefreshRow
	if err := db.byRefresh.QueryRowContext(brief(ctx), blob(hash)).Scan(r.Dest()...); err != nil {
		return nil, nil, wrap("session by refresh token", err)
	}
	return r.Session(), r.Token(), nil
}

// Sessions returns a tenant's sessions matching f, oldest first. With
// ActiveAt set, a session is active if it was not yet revoked at that time
// and expires after it.
func (db *DB) Sessions(ctx context.Context, f actas.SessionFilter) ([]*actas.Session, error) {
	if f.TenantID == "" {
		return nil, errors.New("sessions: tenant id required")
	}
	where, args := []string{"tenant_id = ?"}, []any{f.TenantID}
	if f.UserID != "" {
		where, args = append(where, "user_id = ?"), append(args, f.UserID)
	}
	if !f.ActiveAt.IsZero() {
		at := ms(f.ActiveAt)
		where = append(where, "(revoked_at = 0 OR revoked_at > ?)", "expires_at > ?")
		args = append(args, at, at)
	}
	rows, err := db.r.QueryContext(ctx, `SELECT `+sessionCols+` FROM sessions WHERE `+
		strings.Join(where, " AND ")+` ORDER BY created_at, id`+limitClause(f.Limit), args...)
	if err != nil {
		return nil, wrap("sessions", err)
	}
	out, err := collect(rows, sqlrow.ScanSession)
	return out, wrap("sessions", err)
}

// UpdateSession reads, modifies and writes a session in one transaction,
// storing the refresh token fn returns. The single write connection
// serialises concurrent updaters. A change of ID or TenantID by fn is not
// written.
func (db *DB) UpdateSession(ctx context.Context, id string, fn func(*actas.Session) (*actas.RefreshToken, error)) (*actas.Session, error) {
	const sel = `SELECT ` + sessionCols + ` FROM sessions WHERE id = ?`
	const upd = `UPDATE sessions SET user_id = ?, auth_time = ?, expires_at = ?,
			last_refresh_at = ?, revoked_at = ?, revoke_reason = ?, client_ip = ?, user_agent = ?, refreshable = ?,
			refresh_generation = ?, rotated_at = ?, impersonator_id = ?, parent_id = ?, reason = ?, created_at = ?
			WHERE id = ?`
	// Every column in a SET list has its indexes rewritten, changed or not.
	// A refresh changes no indexed column (user_id, expires_at,
	// impersonator_id, parent_id): updUnindexed leaves them out, and the
	// four index entries as they were.
	const updUnindexed = `UPDATE sessions SET auth_time = ?, last_refresh_at = ?, revoked_at = ?, revoke_reason = ?,
			client_ip = ?, user_agent = ?, refreshable = ?, refresh_generation = ?, rotated_at = ?, reason = ?,
			created_at = ?
			WHERE id = ?`
	// Before the transaction (stmtcache.go).
	selStmt, updStmt, rtStmt := db.prepared(ctx, db.w, sel), db.prepared(ctx, db.w, upd), db.prepared(ctx, db.w, insertRefreshTokenQ)
	updUnindexedStmt := db.prepared(ctx, db.w, updUnindexed)
	var out *actas.Session
	err := db.write(ctx, func(tx *sql.Tx) error {
		ctx := brief(ctx)
		s, err := sqlrow.ScanSession(txQueryRow(ctx, tx, selStmt, sel, id))
		if err != nil {
			return err
		}
		orig := *s
		rt, err := fn(s)
		if err != nil {
			return sqlrow.FnError{Err: err}
		}
		if s.UserID == orig.UserID && ms(s.ExpiresAt) == ms(orig.ExpiresAt) && s.ImpersonatorID == orig.ImpersonatorID &&
			s.ParentID == orig.ParentID {
			// The hot path: only these values are boxed (sqlrow.SessionArgs
			// would box all of them).
			gen, err := sqlrow.Generation(s.RefreshGeneration)
			if err != nil {
				return err
			}
			if _, err := txExec(ctx, tx, updUnindexedStmt, updUnindexed, ms(s.AuthTime), ms(s.LastRefreshAt),
				ms(s.RevokedAt), s.RevokeReason, s.ClientIP, s.UserAgent, s.Refreshable, gen,
				ms(s.RotatedAt), s.Reason, ms(s.CreatedAt), id); err != nil {
				return err
			}
		} else {
			a, err := sqlrow.SessionArgs(s)
			if err != nil {
				return err
			}
			if _, err := txExec(ctx, tx, updStmt, upd, append(a, id)...); err != nil {
				return err
			}
		}
		if rt != nil {
			if err := insertRefreshToken(ctx, tx, rtStmt, id, rt); err != nil {
				return err
			}
		}
		// What was written, as a read would return it (times in
		// milliseconds, UTC), without reading it back.
		s.ID, s.TenantID = orig.ID, orig.TenantID
		out = sqlrow.StoredSession(s)
		return nil
	})
	if err != nil {
		return nil, wrap("update session", err)
	}
	return out, nil
}

// RevokeSessions revokes the unrevoked sessions matching q and the
// unrevoked descendants (through ParentID) of every session matching q,
// revoked or not, so that a repeated call also catches a child created
// while its parent was being revoked. Sessions matching q get reason;
// sessions revoked only as descendants get actas.ReasonParentRevoked. It
// appends one Revocation per revoked session and returns the revoked
// sessions, oldest first.
func (db *DB) RevokeSessions(ctx context.Context, q actas.RevokeQuery, at time.Time, reason string) ([]*actas.Session, error) {
	run, err := db.revokeSessionsFn(ctx, q)
	if err != nil {
		return nil, err
	}
	var out []*actas.Session
	if err := db.write(ctx, func(tx *sql.Tx) (err error) {
		out, err = run(tx, at, reason)
		return err
	}); err != nil {
		return nil, wrap("revoke sessions", err)
	}
	sqlrow.SortSessions(out)
	return out, nil
}

// revokeSessionsFn returns the body of RevokeSessions's transaction, for
// callers that run it inside their own. Its statements are prepared here,
// before the transaction (the writer has one connection).
func (db *DB) revokeSessionsFn(ctx context.Context, q actas.RevokeQuery) (func(tx *sql.Tx, at time.Time, reason string) ([]*actas.Session, error), error) {
	where, args := []string{"tenant_id = ?"}, []any{q.TenantID}
	for _, c := range []struct{ col, val string }{
		{"id", q.SessionID}, {"user_id", q.UserID}, {"impersonator_id", q.ImpersonatorID},
	} {
		if c.val != "" {
			where, args = append(where, c.col+" = ?"), append(args, c.val)
		}
	}
	if q.TenantID == "" || (len(where) == 1 && !q.All) {
		return nil, errors.New("revoke sessions: tenant id and at least one other field required")
	}
	// The whole tenant (q.All alone): every session is a direct match,
	// descendants included (they share the tenant), so the recursive
	// query is skipped and the revocations are appended in bulk.
	wholeTenant := len(where) == 1
	match := strings.Join(where, " AND ")

	directQ := `UPDATE sessions SET revoked_at = ?, revoke_reason = ?
			WHERE revoked_at = 0 AND ` + match + ` RETURNING ` + sessionCols
	// Descendants of every matching session, within the tenant. UNION
	// (not UNION ALL) ends the recursion even on a cycle. The unary +
	// keeps the planner off the tenant_id indexes: with them it scanned
	// every session of the tenant per step (30 ms at 35k sessions, linear
	// in the table), where sessions_parent finds the children.
	descQ := `WITH RECURSIVE tree(id) AS (
				SELECT id FROM sessions WHERE ` + match + `
				UNION
				SELECT s.id FROM sessions s JOIN tree ON s.parent_id = tree.id WHERE +s.tenant_id = ?
			)
			UPDATE sessions SET revoked_at = ?, revoke_reason = ?
			WHERE revoked_at = 0 AND id IN (SELECT id FROM tree) RETURNING ` + sessionCols
	// One session by id (an expire, a reused refresh token) with no
	// children, the common case, takes a read and an update by key: the
	// two statements above need ephemeral tables (the recursion, the IN
	// list, RETURNING) that cost the single writer more than the
	// revocation itself.
	const oneQ = `SELECT ` + sessionCols + `, EXISTS (SELECT 1 FROM sessions c WHERE c.parent_id = s.id)
			FROM sessions s WHERE s.tenant_id = ? AND s.id = ?`
	const revokeOneQ = `UPDATE sessions SET revoked_at = ?, revoke_reason = ? WHERE id = ?`
	one := q.SessionID != "" && q.UserID == "" && q.ImpersonatorID == ""

	// Prepared before the transaction (stmtcache.go); match has a handful
	// of shapes, so the cache holds a handful of statements.
	directS, descS := db.prepared(ctx, db.w, directQ), db.prepared(ctx, db.w, descQ)
	revS := db.prepared(ctx, db.w, insertRevocationQ)
	var oneS, revokeOneS *sql.Stmt
	if one {
		oneS, revokeOneS = db.prepared(ctx, db.w, oneQ), db.prepared(ctx, db.w, revokeOneQ)
	}

	return func(tx *sql.Tx, at time.Time, reason string) ([]*actas.Session, error) {
		var out []*actas.Session
		err := func() error {
			atMS := ms(at)
			if one {
				ctx := brief(ctx)
				var (
					r           sqlrow.SessionRow
					hasChildren bool
				)
				err := txQueryRow(ctx, tx, oneS, oneQ, q.TenantID, q.SessionID).Scan(append(r.Dest(), &hasChildren)...)
				switch {
				case errors.Is(err, sql.ErrNoRows):
					out = nil
					return nil
				case err != nil:
					return err
				case !hasChildren:
					out = nil
					s := r.Session()
					if !s.RevokedAt.IsZero() {
						return nil
					}
					if _, err := txExec(ctx, tx, revokeOneS, revokeOneQ, atMS, reason, s.ID); err != nil {
						return err
					}
					s.RevokedAt, s.RevokeReason = at, reason
					s = sqlrow.StoredSession(s)
					out = []*actas.Session{s}
					_, err := insertRevocation(ctx, tx, revS, sqlrow.SessionRevocation(s, at))
					return err
				}
			}
			direct, err := updateReturning(ctx, tx, directS, directQ, append([]any{atMS, reason}, args...)...)
			if err != nil {
				return err
			}
			if wholeTenant {
				out = direct
				return insertSessionRevocations(ctx, tx, out, at)
			}
			desc, err := updateReturning(ctx, tx, descS, descQ, append(args, q.TenantID, atMS, actas.ReasonParentRevoked)...)
			if err != nil {
				return err
			}
			out = append(direct, desc...)
			for _, s := range out {
				if _, err := insertRevocation(ctx, tx, revS, sqlrow.SessionRevocation(s, at)); err != nil {
					return err
				}
			}
			return nil
		}()
		return out, err
	}, nil
}

func updateReturning(ctx context.Context, tx *sql.Tx, st *sql.Stmt, query string, args ...any) ([]*actas.Session, error) {
	var rows *sql.Rows
	var err error
	if st != nil {
		rows, err = tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	} else {
		rows, err = tx.QueryContext(ctx, query, args...)
	}
	if err != nil {
		return nil, err
	}
	return collect(rows, sqlrow.ScanSession)
}

const insertRevocationQ = `INSERT INTO revocations (` + sqlrow.RevocationInsertCols + `) VALUES (?, ?, ?, ?)`

// insertRevocation appends r with st, insertRevocationQ prepared on the
// writer (or nil), and returns its sequence number.
func insertRevocation(ctx context.Context, tx *sql.Tx, st *sql.Stmt, r *actas.Revocation) (int64, error) {
	res, err := txExec(ctx, tx, st, insertRevocationQ, sqlrow.RevocationArgs(r)...)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// RevokeToken appends a Revocation for one token id and sets r.Seq.
func (db *DB) RevokeToken(ctx context.Context, r *actas.Revocation) error {
	var seq int64
	st := db.prepared(ctx, db.w, insertRevocationQ) // before the transaction
	err := db.write(ctx, func(tx *sql.Tx) error {
		var err error
		seq, err = insertRevocation(ctx, tx, st, r)
		return err
	})
	if err != nil {
		return wrap("revoke token", err)
	}
	r.Seq = seq
	return nil
}

// Revocations returns up to limit revocations (all for limit <= 0) after
// the cursor that have not expired at now; one that expires exactly at now
// is still returned, as PurgeExpired keeps it too.
func (db *DB) Revocations(ctx context.Context, after int64, now time.Time, limit int) ([]*actas.Revocation, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+sqlrow.RevocationCols+` FROM revocations
		WHERE seq > ? AND expires_at >= ? ORDER BY seq`+limitClause(limit), after, ms(now))
	if err != nil {
		return nil, wrap("revocations", err)
	}
	out, err := collect(rows, sqlrow.ScanRevocation)
	return out, wrap("revocations", err)
}

// PurgeExpired deletes sessions (with their refresh tokens) and
// revocations that expired before now.
func (db *DB) PurgeExpired(ctx context.Context, now time.Time) (sessions, revocations int, err error) {
	cut := ms(now)
	err = db.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM refresh_tokens WHERE session_id IN
			(SELECT id FROM sessions WHERE expires_at < ?)`, cut); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < ?`, cut)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		sessions = int(n)
		if res, err = tx.ExecContext(ctx, `DELETE FROM revocations WHERE expires_at < ?`, cut); err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		revocations = int(n)
		return nil
	})
	if err != nil {
		return 0, 0, wrap("purge expired", err)
	}
	return sessions, revocations, nil
}
