package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/internal/sqlrow"
)

const sessionCols = sqlrow.SessionCols

func insertRefreshToken(ctx context.Context, tx pgx.Tx, sessionID string, rt *actas.RefreshToken) error {
	a, err := sqlrow.RefreshTokenArgs(sessionID, rt)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO refresh_tokens (`+sqlrow.RefreshTokenCols+`) VALUES ($1, $2, $3, $4)`, a...)
	return err
}

// CreateSession stores a session, its first refresh token and its audit
// event in one transaction, refusing with actas.ErrParentRevoked a child
// whose parent is missing or revoked at commit. On success ev.ID is set.
func (db *DB) CreateSession(ctx context.Context, s *actas.Session, rt *actas.RefreshToken, ev *actas.AuditEvent) error {
	var evID int64
	err := db.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if s.ParentID != "" {
			// FOR SHARE conflicts with the row lock RevokeSessions takes
			// first: a revocation of the parent in progress makes this wait
			// and then see it revoked; one that starts after this lock
			// waits for this commit, and its later statements (new
			// snapshots) find the child and revoke it too.
			var revokedAt int64
			err := tx.QueryRow(ctx, `SELECT revoked_at FROM sessions WHERE id = $1 AND tenant_id = $2 FOR SHARE`,
				s.ParentID, s.TenantID).Scan(&revokedAt)
			if errors.Is(err, pgx.ErrNoRows) || (err == nil && revokedAt != 0) {
				return actas.ErrParentRevoked
			} else if err != nil {
				return err
			}
		}
		a, err := sqlrow.SessionArgs(s)
		if err != nil {
			return err
		}
		a = append([]any{s.ID, s.TenantID}, a...)
		if _, err := tx.Exec(ctx, `INSERT INTO sessions (`+sessionCols+`) VALUES (`+
			placeholders(1, len(a))+`)`, a...); err != nil {
			return err
		}
		if rt != nil {
			if err := insertRefreshToken(ctx, tx, s.ID, rt); err != nil {
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
	var s *actas.Session
	err := db.read(ctx, func(ctx context.Context, q querier) error {
		var err error
		s, err = sqlrow.ScanSession(q.QueryRow(ctx, `SELECT `+sessionCols+` FROM sessions WHERE id = $1`, id))
		return err
	})
	if err != nil {
		return nil, wrap("session", err)
	}
	return s, nil
}

// byRefreshQ is SessionByRefreshToken's query, built once: it runs on
// every refresh.
var byRefreshQ = `SELECT ` + sqlrow.Prefixed("t.", sqlrow.RefreshTokenCols) + `, ` +
	sqlrow.Prefixed("s.", sessionCols) + ` FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id
	WHERE t.hash = $1`

// SessionByRefreshToken returns the refresh token with this hash, of any
// generation, and its session, in one query.
func (db *DB) SessionByRefreshToken(ctx context.Context, hash []byte) (*actas.Session, *actas.RefreshToken, error) {
	var r sqlrow.RefreshRow
	err := db.read(ctx, func(ctx context.Context, q querier) error {
		return q.QueryRow(ctx, byRefreshQ, blob(hash)).Scan(r.Dest()...)
	})
	if err != nil {
		return nil, nil, wrap("session by refresh token", err)
	}
	return r.Session(), r.Token(), nil
}

// Sessions returns a tenant's sessions matching f, oldest first.
func (db *DB) Sessions(ctx context.Context, f actas.SessionFilter) ([]*actas.Session, error) {
	if f.TenantID == "" {
		return nil, errors.New("sessions: tenant id required")
	}
	var a args
	where := []string{"tenant_id = " + a.add(f.TenantID)}
	if f.UserID != "" {
		where = append(where, "user_id = "+a.add(f.UserID))
	}
	if !f.ActiveAt.IsZero() {
		p := a.add(ms(f.ActiveAt))
		where = append(where, "(revoked_at = 0 OR revoked_at > "+p+")", "expires_at > "+p)
	}
	var out []*actas.Session
	err := db.read(ctx, func(ctx context.Context, q querier) error {
		rows, err := q.Query(ctx, `SELECT `+sessionCols+` FROM sessions WHERE `+
			strings.Join(where, " AND ")+` ORDER BY created_at, id COLLATE "C"`+limitClause(f.Limit), a...)
		if err != nil {
			return err
		}
		out, err = collect(rows, sqlrow.ScanSession)
		return err
	})
	return out, wrap("sessions", err)
}

// sessionWriteCols are the columns UpdateSession writes, in the order of
// sqlrow.SessionArgs: every column but id and tenant_id.
const sessionWriteCols = `user_id, auth_time, expires_at, last_refresh_at, revoked_at, revoke_reason,
	client_ip, user_agent, refreshable, refresh_generation, rotated_at, impersonator_id, parent_id, reason, created_at`

// sessionUpdateQ writes sqlrow.SessionArgs ($1…$15) to session $16.
var sessionUpdateQ = `UPDATE sessions SET (` + sessionWriteCols + `) = (` + placeholders(1, 15) + `) WHERE id = $16`

// sessionCASQ is sessionUpdateQ on condition that the row still holds
// $17…$31, the values fn was given: a compare-and-swap of the whole row.
var sessionCASQ = sessionUpdateQ + ` AND (` + sessionWriteCols + `) = (` + placeholders(17, 15) + `)`

// sessionCASTokenQ is sessionCASQ storing the refresh token $32…$35 in
// the same statement, only if the swap happened.
var sessionCASTokenQ = `WITH u AS (` + sessionCASQ + ` RETURNING 1) INSERT INTO refresh_tokens (` +
	sqlrow.RefreshTokenCols + `) SELECT $32::bytea, $33::text, $34::integer, $35::bigint FROM u`

// casAttempts is how many optimistic rounds UpdateSession tries before it
// takes the row lock: each failed round means another updater committed
// meanwhile, so under sustained contention on one session it falls back
// to waiting its turn.
const casAttempts = 3

// UpdateSession reads, modifies and writes a session, storing the
// refresh token fn returns; concurrent updaters, on this replica or
// another, run as if one after the other, and each fn sees the session
// as the previous one left it. A change of ID or TenantID by fn is not
// written.
//
// It is optimistic first: it reads the row (no transaction), runs fn,
// and writes the result, with the token, in one statement that applies
// only if the row still holds every value fn was given. A write that
// finds the row changed writes nothing and the round starts again, fn
// included, with the row as it is now; one that finds it gone is
// ErrNotFound. That is two statements and no BEGIN/COMMIT, against the
// five round trips of a locked read-modify-write. After casAttempts lost
// rounds it runs the locked transaction (SELECT … FOR NO KEY UPDATE held
// to the commit), which waits its turn instead of spinning.
func (db *DB) UpdateSession(ctx context.Context, id string, fn func(*actas.Session) (*actas.RefreshToken, error)) (*actas.Session, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	for range casAttempts {
		out, ok, err := db.updateSessionCAS(ctx, id, fn)
		if err != nil && !retryable(err) {
			return nil, wrap("update session", err)
		}
		if err == nil && ok {
			return out, nil
		}
	}
	return db.updateSessionLocked(ctx, id, fn)
}

// updateSessionCAS is one optimistic round of UpdateSession; ok is false
// if the row changed between the read and the write.
func (db *DB) updateSessionCAS(ctx context.Context, id string, fn func(*actas.Session) (*actas.RefreshToken, error)) (_ *actas.Session, ok bool, _ error) {
	s, err := sqlrow.ScanSession(db.pool.QueryRow(ctx, `SELECT `+sessionCols+` FROM sessions WHERE id = $1`, id))
	if err != nil {
		return nil, false, err
	}
	was, err := sqlrow.SessionArgs(s)
	if err != nil {
		return nil, false, err
	}
	origID, origTenant := s.ID, s.TenantID
	rt, err := fn(s)
	if err != nil {
		return nil, false, sqlrow.FnError{Err: err}
	}
	a, err := sqlrow.SessionArgs(s)
	if err != nil {
		return nil, false, err
	}
	a = append(append(a, id), was...)
	q := sessionCASQ
	if rt != nil {
		ra, err := sqlrow.RefreshTokenArgs(id, rt)
		if err != nil {
			return nil, false, err
		}
		a, q = append(a, ra...), sessionCASTokenQ
	}
	tag, err := db.pool.Exec(ctx, q, a...)
	if err != nil {
		return nil, false, err
	}
	if tag.RowsAffected() == 0 {
		return nil, false, nil // changed (or deleted) since the read: the next round sees which
	}
	// What was written, as a read would return it (times in
	// milliseconds, UTC): the swap applied to the row fn was given.
	s.ID, s.TenantID = origID, origTenant
	return sqlrow.StoredSession(s), true, nil
}

// updateSessionLocked is UpdateSession as one transaction holding the row
// lock from the read to the commit.
func (db *DB) updateSessionLocked(ctx context.Context, id string, fn func(*actas.Session) (*actas.RefreshToken, error)) (*actas.Session, error) {
	var out *actas.Session
	err := db.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		s, err := sqlrow.ScanSession(tx.QueryRow(ctx, `SELECT `+sessionCols+` FROM sessions WHERE id = $1 FOR NO KEY UPDATE`, id))
		if err != nil {
			return err
		}
		origID, origTenant := s.ID, s.TenantID
		rt, err := fn(s)
		if err != nil {
			return sqlrow.FnError{Err: err}
		}
		a, err := sqlrow.SessionArgs(s)
		if err != nil {
			return err
		}
		if err := execOne(ctx, tx, sessionUpdateQ, append(a, id)...); err != nil {
			return err
		}
		if rt != nil {
			if err := insertRefreshToken(ctx, tx, id, rt); err != nil {
				return err
			}
		}
		// What was written, as a read would return it (times in
		// milliseconds, UTC), without sending it back: the row is locked,
		// so it is what the UPDATE left.
		s.ID, s.TenantID = origID, origTenant
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
//
// Concurrent calls (on any replica) lock the unrevoked sessions of the
// tree in id order first, so they never deadlock on each other, and each
// session is revoked, reported and appended to the revocations by exactly
// one of them: a call that waited for a row re-reads it after the other
// committed (READ COMMITTED) and skips it as already revoked.
func (db *DB) RevokeSessions(ctx context.Context, q actas.RevokeQuery, at time.Time, reason string) ([]*actas.Session, error) {
	run, err := db.revokeSessionsFn(q)
	if err != nil {
		return nil, err
	}
	var out []*actas.Session
	if err := db.write(ctx, func(ctx context.Context, tx pgx.Tx) (err error) {
		out, err = run(ctx, tx, at, reason)
		return err
	}); err != nil {
		return nil, wrap("revoke sessions", err)
	}
	sqlrow.SortSessions(out)
	return out, nil
}

// revokeSessionsFn returns the body of RevokeSessions's transaction, for
// callers that run it inside their own.
func (db *DB) revokeSessionsFn(q actas.RevokeQuery) (func(ctx context.Context, tx pgx.Tx, at time.Time, reason string) ([]*actas.Session, error), error) {
	var a args
	tenant := a.add(q.TenantID)
	where := []string{"tenant_id = " + tenant}
	for _, c := range []struct{ col, val string }{
		{"id", q.SessionID}, {"user_id", q.UserID}, {"impersonator_id", q.ImpersonatorID},
	} {
		if c.val != "" {
			where = append(where, c.col+" = "+a.add(c.val))
		}
	}
	if q.TenantID == "" || (len(where) == 1 && !q.All) {
		return nil, errors.New("revoke sessions: tenant id and at least one other field required")
	}
	match := strings.Join(where, " AND ")
	// The whole tenant (q.All alone): every session is a direct match,
	// descendants included (they share the tenant), so there is no tree
	// to walk.
	wholeTenant := len(where) == 1
	atP, reasonP := fmt.Sprintf("$%d", len(a)+1), fmt.Sprintf("$%d", len(a)+2)

	return func(ctx context.Context, tx pgx.Tx, at time.Time, reason string) ([]*actas.Session, error) {
		var out []*actas.Session
		err := func() (err error) {
			// Lock the matching sessions first, in id order. A child being
			// created under one of them holds FOR SHARE on it until it
			// commits; once these locks are held, every child that will
			// ever exist is visible to the next statement (or refused by
			// CreateSession, which will find its parent revoked).
			// A whole tenant has no tree, and may hold millions of revoked
			// sessions: lock only the live ones.
			live := ""
			if wholeTenant {
				live = " AND revoked_at = 0"
			}
			lockQ := `SELECT id FROM sessions WHERE ` + match + live + ` ORDER BY id COLLATE "C" FOR NO KEY UPDATE`
			updateQ := `UPDATE sessions SET revoked_at = ` + atP + `, revoke_reason = ` + reasonP + `
			WHERE revoked_at = 0 AND ` + match + ` RETURNING ` + sessionCols
			var desc []string
			if q.SessionID != "" && !wholeTenant {
				// One session (a logout): its id is known before it is
				// locked, so the lock, the lock of its children (read after
				// it, by a later statement with a fresh snapshot) and its
				// revocation go in one round trip.
				if out, desc, err = revokeOne(ctx, tx, q, lockQ, updateQ, a, at, reason); err != nil {
					return err
				}
			} else {
				direct, err := queryIDs(ctx, tx, lockQ, a...)
				if err != nil {
					return err
				}
				if !wholeTenant {
					if desc, err = lockDescendants(ctx, tx, q.TenantID, direct, nil); err != nil {
						return err
					}
				}
				rows, err := tx.Query(ctx, updateQ, append(a, ms(at), reason)...)
				if err != nil {
					return err
				}
				if out, err = collect(rows, sqlrow.ScanSession); err != nil {
					return err
				}
			}
			if len(desc) > 0 {
				rows, err := tx.Query(ctx, `UPDATE sessions SET revoked_at = $1, revoke_reason = $2
				WHERE revoked_at = 0 AND id = ANY($3) RETURNING `+sessionCols,
					ms(at), actas.ReasonParentRevoked, desc)
				if err != nil {
					return err
				}
				more, err := collect(rows, sqlrow.ScanSession)
				if err != nil {
					return err
				}
				out = append(out, more...)
			}
			return db.insertRevocations(ctx, tx, sessionRevocations(out, at))
		}()
		return out, err
	}, nil
}

// lockDescendants returns the descendants (through parent_id, within the
// tenant) of the sessions ids, locking them level by level in id order.
// Each level's children are read after their parents are locked, so a
// child committed meanwhile is found: see RevokeSessions.
//
// The tree is walked from Go, one indexed lookup per level, and not by a
// recursive query: parent_id is ” in all but impersonation sessions, so
// the planner's statistics say that one value matches every row, and it
// planned the recursive step as a scan of the whole table (seconds at
// millions of sessions). parent_id = ANY($1) is planned with the real
// values, on sessions_parent. Impersonation cannot chain, so there is
// one level in practice; visited ends the walk even on a cycle.
const childrenQuery = `SELECT id FROM sessions WHERE parent_id = ANY($1) AND tenant_id = $2
	ORDER BY id COLLATE "C" FOR NO KEY UPDATE`

func lockDescendants(ctx context.Context, tx pgx.Tx, tenantID string, ids []string, visited map[string]bool) ([]string, error) {
	if visited == nil {
		visited = make(map[string]bool, len(ids))
	}
	for _, id := range ids {
		visited[id] = true
	}
	var desc []string
	for level := ids; len(level) > 0; {
		children, err := queryIDs(ctx, tx, childrenQuery, level, tenantID)
		if err != nil {
			return nil, err
		}
		level = newIDs(children, visited)
		desc = append(desc, level...)
	}
	return desc, nil
}

// newIDs returns the ids not yet visited, marking them visited.
func newIDs(ids []string, visited map[string]bool) []string {
	var out []string
	for _, id := range ids {
		if !visited[id] {
			visited[id] = true
			out = append(out, id)
		}
	}
	return out
}

// revokeOne is the start of RevokeSessions for a query naming one
// session: one batch locks the session (lockQ), then its children
// (childrenQuery), then revokes it (updateQ, returning what it revoked);
// the walk continues below the children, if any, as lockDescendants
// does. desc is every descendant found, locked, not yet revoked.
func revokeOne(ctx context.Context, tx pgx.Tx, q actas.RevokeQuery, lockQ, updateQ string, a args, at time.Time, reason string) (out []*actas.Session, desc []string, err error) {
	b := &pgx.Batch{}
	b.Queue(lockQ, a...)
	b.Queue(childrenQuery, []string{q.SessionID}, q.TenantID)
	b.Queue(updateQ, append(a, ms(at), reason)...)
	br := tx.SendBatch(ctx, b)
	direct, children, out, err := func() ([]string, []string, []*actas.Session, error) {
		direct, err := collectIDs(br)
		if err != nil {
			return nil, nil, nil, err
		}
		children, err := collectIDs(br)
		if err != nil {
			return nil, nil, nil, err
		}
		rows, err := br.Query()
		if err != nil {
			return nil, nil, nil, err
		}
		out, err := collect(rows, sqlrow.ScanSession)
		return direct, children, out, err
	}()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil || len(direct) == 0 {
		// No session matched (another tenant's, or gone): its children,
		// locked for nothing, stay as they are.
		return out, nil, err
	}
	visited := map[string]bool{}
	for _, id := range direct {
		visited[id] = true
	}
	desc = newIDs(children, visited)
	more, err := lockDescendants(ctx, tx, q.TenantID, desc, visited)
	if err != nil {
		return nil, nil, err
	}
	return out, append(desc, more...), nil
}

func collectIDs(br pgx.BatchResults) ([]string, error) {
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

func queryIDs(ctx context.Context, tx pgx.Tx, query string, args ...any) ([]string, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// insertRevocations appends rs, numbering them from the revocation_seq
// counter and setting their Seq, and notifies the revocation channel;
// none is a no-op.
//
// Why a counter row and not a SEQUENCE: nextval() hands out numbers in
// the order transactions ask, not the order they commit. A follower
// reading "seq > cursor" (revocation.Set.Sync, the verify feed) that
// saw seq 8 commit before seq 7 would move its cursor past 7 and never
// apply it. UPDATE … RETURNING on the one counter row takes its row lock
// until this transaction ends, so the next transaction to number a
// revocation waits for this one to commit (or roll back) and continues
// from its value: seqs become visible in increasing order, without gaps.
// The cost is that revoking transactions serialise on that row for the
// last statements of their transaction; revocations are rare next to
// sign-ins and refreshes, which never touch it. It is locked last, after
// the session rows, so it adds no lock cycle.
func (db *DB) insertRevocations(ctx context.Context, tx pgx.Tx, rs []*actas.Revocation) error {
	if len(rs) == 0 {
		return nil
	}
	// One round trip: the counter's UPDATE, then each INSERT numbering
	// its row from the counter as this transaction left it, then the
	// notification, pipelined.
	b := &pgx.Batch{}
	b.Queue(`UPDATE revocation_seq SET last = last + $1 WHERE id = 1 RETURNING last`, int64(len(rs)))
	for i, r := range rs {
		b.Queue(revocationInsertQ, append([]any{int64(len(rs) - 1 - i)}, sqlrow.RevocationArgs(r)...)...)
	}
	if db.notify {
		// Delivered to listeners when, and only if, this transaction commits.
		b.Queue(`SELECT pg_notify($1, (SELECT last FROM revocation_seq WHERE id = 1)::text)`, revocationChannel)
	}
	br := tx.SendBatch(ctx, b)
	var last int64
	if err := br.QueryRow().Scan(&last); err != nil {
		_ = br.Close()
		return err
	}
	if err := br.Close(); err != nil {
		return err
	}
	for i, r := range rs {
		r.Seq = last - int64(len(rs)) + 1 + int64(i)
	}
	return nil
}

// revocationInsertQ inserts one revocation numbered $1 below the counter.
var revocationInsertQ = `INSERT INTO revocations (` + sqlrow.RevocationCols +
	`) VALUES ((SELECT last FROM revocation_seq WHERE id = 1) - $1, $2, $3, $4, $5)`

// RevokeToken appends a Revocation for one token id and sets r.Seq.
func (db *DB) RevokeToken(ctx context.Context, r *actas.Revocation) error {
	c := *r
	err := db.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return db.insertRevocations(ctx, tx, []*actas.Revocation{&c})
	})
	if err != nil {
		return wrap("revoke token", err)
	}
	r.Seq = c.Seq
	return nil
}

// Revocations returns up to limit revocations (all for limit <= 0) after
// the cursor that have not expired at now; one that expires exactly at now
// is still returned, as PurgeExpired keeps it too.
func (db *DB) Revocations(ctx context.Context, after int64, now time.Time, limit int) ([]*actas.Revocation, error) {
	var out []*actas.Revocation
	err := db.read(ctx, func(ctx context.Context, q querier) error {
		rows, err := q.Query(ctx, `SELECT `+sqlrow.RevocationCols+` FROM revocations
			WHERE seq > $1 AND expires_at >= $2 ORDER BY seq`+limitClause(limit), after, ms(now))
		if err != nil {
			return err
		}
		out, err = collect(rows, sqlrow.ScanRevocation)
		return err
	})
	return out, wrap("revocations", err)
}

// PurgeExpired deletes sessions (with their refresh tokens) and
// revocations that expired before now. Several replicas may purge at
// once: each row is deleted by one of them.
func (db *DB) PurgeExpired(ctx context.Context, now time.Time) (sessions, revocations int, err error) {
	cut := ms(now)
	err = db.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM refresh_tokens WHERE session_id IN
			(SELECT id FROM sessions WHERE expires_at < $1)`, cut); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM sessions WHERE expires_at < $1`, cut)
		if err != nil {
			return err
		}
		sessions = int(tag.RowsAffected())
		if tag, err = tx.Exec(ctx, `DELETE FROM revocations WHERE expires_at < $1`, cut); err != nil {
			return err
		}
		revocations = int(tag.RowsAffected())
		return nil
	})
	if err != nil {
		return 0, 0, wrap("purge expired", err)
	}
	return sessions, revocations, nil
}
