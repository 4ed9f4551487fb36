package drvbench

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	_ "github.com/ncruces/go-sqlite3/driver" // "sqlite3"
	_ "modernc.org/sqlite"                   // "sqlite"
)

// sqlStore is actas's way: database/sql, a writer pool of one connection
// and a reader pool, statements prepared once on their pool, writer
// statements bound to the transaction with tx.StmtContext, a context that
// cannot be canceled (actas's brief(ctx)).
type sqlStore struct {
	w, r                               *sql.DB
	byRefresh, user                    *sql.Stmt // on r
	sel, upd, ins, revoke, sp, rel, ck *sql.Stmt // on w
}

func dsn(prefix, sep string, pragmas []string) string {
	return prefix + "_pragma=" + strings.Join(pragmas, sep+"_pragma=")
}

func openSQL(driver, wprefix, rprefix, sep string) (_ Store, err error) {
	s := &sqlStore{}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.w, err = sql.Open(driver, dsn(wprefix, sep, writerPragmas)); err != nil {
		return nil, err
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	if err = s.w.Ping(); err != nil {
		return nil, err
	}
	if s.r, err = sql.Open(driver, dsn(rprefix, sep, readerPragmas)); err != nil {
		return nil, err
	}
	s.r.SetMaxOpenConns(1)
	s.r.SetMaxIdleConns(1)
	for _, p := range []struct {
		db *sql.DB
		st **sql.Stmt
		q  string
	}{
		{s.r, &s.byRefresh, qByRefresh}, {s.r, &s.user, qUser},
		{s.w, &s.sel, qSelSession}, {s.w, &s.upd, qUpdSession}, {s.w, &s.ins, qInsToken},
		{s.w, &s.revoke, qRevoke}, {s.w, &s.sp, qSavepoint}, {s.w, &s.rel, qRelease}, {s.w, &s.ck, qCkpt},
	} {
		if *p.st, err = p.db.Prepare(p.q); err != nil {
			return nil, err
		}
	}
	return s, nil
}

var bg = context.Background()

func (s *sqlStore) SessionByRefresh(hash []byte, rt *RefreshToken, x *Session) error {
	return s.byRefresh.QueryRowContext(bg, hash).Scan(&rt.Hash, &rt.SessionID, &rt.Generation, &rt.CreatedAt,
		&x.ID, &x.TenantID, &x.UserID, &x.AuthTime, &x.ExpiresAt, &x.LastRefreshAt, &x.RevokedAt, &x.RevokeReason,
		&x.ClientIP, &x.UserAgent, &x.Refreshable, &x.RefreshGeneration, &x.RotatedAt, &x.ImpersonatorID,
		&x.ParentID, &x.Reason, &x.CreatedAt)
}

func (s *sqlStore) User(tenantID, id string, u *User) error {
	return s.user.QueryRowContext(bg, id, tenantID).Scan(&u.ID, &u.TenantID, &u.Username, &u.Email,
		&u.EmailVerified, &u.PasswordHash, &u.Status, &u.MustChangePassword, &u.GroupsJSON, &u.CreatedAt,
		&u.UpdatedAt, &u.FirstName, &u.LastName, &u.FriendlyName, &u.Company, &u.Country, &u.Contact, &u.Phone)
}

func scanSession(row *sql.Row, x *Session) error {
	return row.Scan(&x.ID, &x.TenantID, &x.UserID, &x.AuthTime, &x.ExpiresAt, &x.LastRefreshAt, &x.RevokedAt,
		&x.RevokeReason, &x.ClientIP, &x.UserAgent, &x.Refreshable, &x.RefreshGeneration, &x.RotatedAt,
		&x.ImpersonatorID, &x.ParentID, &x.Reason, &x.CreatedAt)
}

// rotate is the body of UpdateSession's transaction (sqlite/session.go).
func (s *sqlStore) rotate(tx *sql.Tx, id string, rt *RefreshToken, now int64) error {
	var x Session
	if err := scanSession(tx.StmtContext(bg, s.sel).QueryRowContext(bg, id), &x); err != nil {
		return err
	}
	rotated(&x, now)
	if _, err := tx.StmtContext(bg, s.upd).ExecContext(bg, x.AuthTime, x.LastRefreshAt, x.RevokedAt,
		x.RevokeReason, x.ClientIP, x.UserAgent, x.Refreshable, x.RefreshGeneration, x.RotatedAt, x.Reason,
		x.CreatedAt, id); err != nil {
		return err
	}
	_, err := tx.StmtContext(bg, s.ins).ExecContext(bg, rt.Hash, id, rt.Generation, rt.CreatedAt)
	return err
}

func (s *sqlStore) Rotate(id string, rt *RefreshToken, now int64) error {
	tx, err := s.w.BeginTx(bg, nil)
	if err != nil {
		return err
	}
	if err := s.rotate(tx, id, rt, now); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func (s *sqlStore) RotateGroup(ids []string, rts []RefreshToken, now int64) error {
	tx, err := s.w.BeginTx(bg, nil)
	if err != nil {
		return err
	}
	for i, id := range ids {
		if _, err := tx.StmtContext(bg, s.sp).ExecContext(bg); err != nil {
			_ = tx.Rollback()
			return err
		}
		if err := s.rotate(tx, id, &rts[i], now); err != nil {
			_ = tx.Rollback()
			return err
		}
		if _, err := tx.StmtContext(bg, s.rel).ExecContext(bg); err != nil {
			_ = tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}

func (s *sqlStore) Revoke(id string, at int64, reason string) error {
	res, err := s.revoke.ExecContext(bg, at, reason, id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return errors.Join(err, errNotFound)
	}
	return nil
}

func (s *sqlStore) Checkpoint() error {
	_, err := s.ck.Exec()
	return err
}

func (s *sqlStore) Close() error {
	var errs []error
	for _, db := range []*sql.DB{s.r, s.w} {
		if db != nil {
			errs = append(errs, db.Close())
		}
	}
	return errors.Join(errs...)
}
