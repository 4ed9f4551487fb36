package drvbench

import (
	"errors"
	"strings"
	"time"

	"github.com/ncruces/go-sqlite3"
)

// ncStore uses github.com/ncruces/go-sqlite3's own API: Conn and Stmt,
// typed binds and column reads, no database/sql.
type ncStore struct {
	w, r                                              *sqlite3.Conn
	byRefresh, user                                   *sqlite3.Stmt
	sel, upd, ins, revoke, sp, rel, begin, commit, ck *sqlite3.Stmt
	rollback                                          *sqlite3.Stmt
}

func ncOpen(path string, pragmas []string) (*sqlite3.Conn, error) {
	c, err := sqlite3.OpenFlags(path, sqlite3.OPEN_READWRITE|sqlite3.OPEN_CREATE)
	if err != nil {
		return nil, err
	}
	if err := c.BusyTimeout(5 * time.Second); err != nil {
		c.Close()
		return nil, err
	}
	for _, p := range pragmas {
		if err := c.Exec("PRAGMA " + p); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

func openNcruces(path string) (_ Store, err error) {
	s := &ncStore{}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.w, err = ncOpen(path, writerPragmas); err != nil {
		return nil, err
	}
	if s.r, err = ncOpen(path, readerPragmas); err != nil {
		return nil, err
	}
	for _, p := range []struct {
		c  *sqlite3.Conn
		st **sqlite3.Stmt
		q  string
	}{
		{s.r, &s.byRefresh, qByRefresh}, {s.r, &s.user, qUser},
		{s.w, &s.sel, qSelSession}, {s.w, &s.upd, qUpdSession}, {s.w, &s.ins, qInsToken},
		{s.w, &s.revoke, qRevoke}, {s.w, &s.sp, qSavepoint}, {s.w, &s.rel, qRelease}, {s.w, &s.ck, qCkpt},
		{s.w, &s.begin, qBegin}, {s.w, &s.commit, qCommit}, {s.w, &s.rollback, "ROLLBACK"},
	} {
		if *p.st, _, err = p.c.PrepareFlags(strings.TrimSpace(p.q), sqlite3.PREPARE_PERSISTENT); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// one steps st to its first row; it reports errNotFound for none.
func one(st *sqlite3.Stmt) error {
	if st.Step() {
		return nil
	}
	if err := st.Err(); err != nil {
		return err
	}
	return errNotFound
}

func ncSession(st *sqlite3.Stmt, o int, x *Session) {
	*x = Session{ID: st.ColumnText(o), TenantID: st.ColumnText(o + 1), UserID: st.ColumnText(o + 2),
		AuthTime: st.ColumnInt64(o + 3), ExpiresAt: st.ColumnInt64(o + 4), LastRefreshAt: st.ColumnInt64(o + 5),
		RevokedAt: st.ColumnInt64(o + 6), RevokeReason: st.ColumnText(o + 7), ClientIP: st.ColumnText(o + 8),
		UserAgent: st.ColumnText(o + 9), Refreshable: st.ColumnBool(o + 10),
		RefreshGeneration: st.ColumnInt64(o + 11), RotatedAt: st.ColumnInt64(o + 12),
		ImpersonatorID: st.ColumnText(o + 13), ParentID: st.ColumnText(o + 14), Reason: st.ColumnText(o + 15),
		CreatedAt: st.ColumnInt64(o + 16)}
}

func (s *ncStore) SessionByRefresh(hash []byte, rt *RefreshToken, x *Session) error {
	st := s.byRefresh
	defer st.Reset()
	if err := st.BindBlob(1, hash); err != nil {
		return err
	}
	if err := one(st); err != nil {
		return err
	}
	*rt = RefreshToken{Hash: st.ColumnBlob(0, nil), SessionID: st.ColumnText(1), Generation: st.ColumnInt64(2),
		CreatedAt: st.ColumnInt64(3)}
	ncSession(st, 4, x)
	return nil
}

func (s *ncStore) User(tenantID, id string, u *User) error {
	st := s.user
	defer st.Reset()
	if err := errors.Join(st.BindText(1, id), st.BindText(2, tenantID)); err != nil {
		return err
	}
	if err := one(st); err != nil {
		return err
	}
	*u = User{ID: st.ColumnText(0), TenantID: st.ColumnText(1), Username: st.ColumnText(2), Email: st.ColumnText(3),
		EmailVerified: st.ColumnBool(4), PasswordHash: st.ColumnText(5), Status: st.ColumnText(6),
		MustChangePassword: st.ColumnBool(7), GroupsJSON: st.ColumnText(8), CreatedAt: st.ColumnInt64(9),
		UpdatedAt: st.ColumnInt64(10), FirstName: st.ColumnText(11), LastName: st.ColumnText(12),
		FriendlyName: st.ColumnText(13), Company: st.ColumnText(14), Country: st.ColumnText(15),
		Contact: st.ColumnText(16), Phone: st.ColumnText(17)}
	return nil
}

func (s *ncStore) rotate(id string, rt *RefreshToken, now int64) error {
	var x Session
	err := func() error {
		st := s.sel
		defer st.Reset()
		if err := st.BindText(1, id); err != nil {
			return err
		}
		if err := one(st); err != nil {
			return err
		}
		ncSession(st, 0, &x)
		return nil
	}()
	if err != nil {
		return err
	}
	rotated(&x, now)
	u := s.upd
	if err := errors.Join(u.BindInt64(1, x.AuthTime), u.BindInt64(2, x.LastRefreshAt), u.BindInt64(3, x.RevokedAt),
		u.BindText(4, x.RevokeReason), u.BindText(5, x.ClientIP), u.BindText(6, x.UserAgent),
		u.BindBool(7, x.Refreshable), u.BindInt64(8, x.RefreshGeneration), u.BindInt64(9, x.RotatedAt),
		u.BindText(10, x.Reason), u.BindInt64(11, x.CreatedAt), u.BindText(12, id)); err != nil {
		return err
	}
	if err := u.Exec(); err != nil {
		return err
	}
	in := s.ins
	if err := errors.Join(in.BindBlob(1, rt.Hash), in.BindText(2, id), in.BindInt64(3, rt.Generation),
		in.BindInt64(4, rt.CreatedAt)); err != nil {
		return err
	}
	return in.Exec()
}

func (s *ncStore) Rotate(id string, rt *RefreshToken, now int64) error {
	if err := s.begin.Exec(); err != nil {
		return err
	}
	if err := s.rotate(id, rt, now); err != nil {
		_ = s.rollback.Exec()
		return err
	}
	return s.commit.Exec()
}

func (s *ncStore) RotateGroup(ids []string, rts []RefreshToken, now int64) error {
	if err := s.begin.Exec(); err != nil {
		return err
	}
	for i, id := range ids {
		if err := errors.Join(s.sp.Exec(), s.rotate(id, &rts[i], now), s.rel.Exec()); err != nil {
			_ = s.rollback.Exec()
			return err
		}
	}
	return s.commit.Exec()
}

func (s *ncStore) Revoke(id string, at int64, reason string) error {
	st := s.revoke
	if err := errors.Join(st.BindInt64(1, at), st.BindText(2, reason), st.BindText(3, id)); err != nil {
		return err
	}
	if err := st.Exec(); err != nil {
		return err
	}
	if s.w.Changes() != 1 {
		return errNotFound
	}
	return nil
}

func (s *ncStore) Checkpoint() error { return s.ck.Exec() }

func (s *ncStore) Close() error {
	var errs []error
	for _, st := range []*sqlite3.Stmt{s.byRefresh, s.user, s.sel, s.upd, s.ins, s.revoke, s.sp, s.rel, s.begin, s.commit, s.ck, s.rollback} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	for _, c := range []*sqlite3.Conn{s.r, s.w} {
		if c != nil {
			errs = append(errs, c.Close())
		}
	}
	return errors.Join(errs...)
}
