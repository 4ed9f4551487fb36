package drvbench

import (
	"database/sql/driver"
	"errors"
	"io"

	"modernc.org/sqlite"
)

// mdStore uses modernc.org/sqlite's driver.Conn and driver.Stmt directly,
// without database/sql: no pool, no Rows/Row wrappers, no convertAssign;
// arguments still go through []driver.NamedValue and results through
// []driver.Value (boxed), which is all the driver exposes.
type mdStore struct {
	w, r                               driver.Conn
	byRefresh, user                    driver.Stmt
	sel, upd, ins, revoke, sp, rel, ck driver.Stmt
	args                               []driver.NamedValue
	dest                               []driver.Value
}

func openModerncDriver(path string) (_ Store, err error) {
	s := &mdStore{args: make([]driver.NamedValue, 16), dest: make([]driver.Value, 24)}
	for i := range s.args {
		s.args[i].Ordinal = i + 1
	}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	d := &sqlite.Driver{}
	if s.w, err = d.Open(dsn(path+"?_txlock=immediate&", "&", writerPragmas)); err != nil {
		return nil, err
	}
	if s.r, err = d.Open(dsn(path+"?", "&", readerPragmas)); err != nil {
		return nil, err
	}
	for _, p := range []struct {
		c  driver.Conn
		st *driver.Stmt
		q  string
	}{
		{s.r, &s.byRefresh, qByRefresh}, {s.r, &s.user, qUser},
		{s.w, &s.sel, qSelSession}, {s.w, &s.upd, qUpdSession}, {s.w, &s.ins, qInsToken},
		{s.w, &s.revoke, qRevoke}, {s.w, &s.sp, qSavepoint}, {s.w, &s.rel, qRelease}, {s.w, &s.ck, qCkpt},
	} {
		if *p.st, err = p.c.(driver.ConnPrepareContext).PrepareContext(bg, p.q); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// row runs st with args and copies its first row into s.dest.
func (s *mdStore) row(st driver.Stmt, args ...any) ([]driver.Value, error) {
	a := s.args[:len(args)]
	for i, v := range args {
		a[i].Value = v
	}
	rows, err := st.(driver.StmtQueryContext).QueryContext(bg, a)
	if err != nil {
		return nil, err
	}
	dest := s.dest[:len(rows.Columns())]
	err = rows.Next(dest)
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	if err == io.EOF {
		return nil, errNotFound
	}
	return dest, err
}

func (s *mdStore) exec(st driver.Stmt, args ...any) (driver.Result, error) {
	a := s.args[:len(args)]
	for i, v := range args {
		a[i].Value = v
	}
	return st.(driver.StmtExecContext).ExecContext(bg, a)
}

// Typed reads of a driver.Value, as database/sql's Scan would do them for
// the types modernc returns (int64, string, []byte).
func vs(v driver.Value) string { s, _ := v.(string); return s }
func vi(v driver.Value) int64  { n, _ := v.(int64); return n }
func vb(v driver.Value) bool   { n, _ := v.(int64); return n != 0 }
func vblob(v driver.Value) []byte {
	b, _ := v.([]byte)
	return append([]byte(nil), b...)
}

func sessionFrom(d []driver.Value, x *Session) {
	*x = Session{ID: vs(d[0]), TenantID: vs(d[1]), UserID: vs(d[2]), AuthTime: vi(d[3]), ExpiresAt: vi(d[4]),
		LastRefreshAt: vi(d[5]), RevokedAt: vi(d[6]), RevokeReason: vs(d[7]), ClientIP: vs(d[8]), UserAgent: vs(d[9]),
		Refreshable: vb(d[10]), RefreshGeneration: vi(d[11]), RotatedAt: vi(d[12]), ImpersonatorID: vs(d[13]),
		ParentID: vs(d[14]), Reason: vs(d[15]), CreatedAt: vi(d[16])}
}

func (s *mdStore) SessionByRefresh(hash []byte, rt *RefreshToken, x *Session) error {
	d, err := s.row(s.byRefresh, hash)
	if err != nil {
		return err
	}
	*rt = RefreshToken{Hash: vblob(d[0]), SessionID: vs(d[1]), Generation: vi(d[2]), CreatedAt: vi(d[3])}
	sessionFrom(d[4:], x)
	return nil
}

func (s *mdStore) User(tenantID, id string, u *User) error {
	d, err := s.row(s.user, id, tenantID)
	if err != nil {
		return err
	}
	*u = User{ID: vs(d[0]), TenantID: vs(d[1]), Username: vs(d[2]), Email: vs(d[3]), EmailVerified: vb(d[4]),
		PasswordHash: vs(d[5]), Status: vs(d[6]), MustChangePassword: vb(d[7]), GroupsJSON: vs(d[8]),
		CreatedAt: vi(d[9]), UpdatedAt: vi(d[10]), FirstName: vs(d[11]), LastName: vs(d[12]),
		FriendlyName: vs(d[13]), Company: vs(d[14]), Country: vs(d[15]), Contact: vs(d[16]), Phone: vs(d[17])}
	return nil
}

func (s *mdStore) rotate(id string, rt *RefreshToken, now int64) error {
	d, err := s.row(s.sel, id)
	if err != nil {
		return err
	}
	var x Session
	sessionFrom(d, &x)
	rotated(&x, now)
	if _, err := s.exec(s.upd, x.AuthTime, x.LastRefreshAt, x.RevokedAt, x.RevokeReason, x.ClientIP, x.UserAgent,
		x.Refreshable, x.RefreshGeneration, x.RotatedAt, x.Reason, x.CreatedAt, id); err != nil {
		return err
	}
	_, err = s.exec(s.ins, rt.Hash, id, rt.Generation, rt.CreatedAt)
	return err
}

func (s *mdStore) begin() (driver.Tx, error) {
	return s.w.(driver.ConnBeginTx).BeginTx(bg, driver.TxOptions{}) // _txlock=immediate
}

func (s *mdStore) Rotate(id string, rt *RefreshToken, now int64) error {
	tx, err := s.begin()
	if err != nil {
		return err
	}
	if err := s.rotate(id, rt, now); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func (s *mdStore) RotateGroup(ids []string, rts []RefreshToken, now int64) error {
	tx, err := s.begin()
	if err != nil {
		return err
	}
	for i, id := range ids {
		if _, err := s.exec(s.sp); err != nil {
			_ = tx.Rollback()
			return err
		}
		if err := s.rotate(id, &rts[i], now); err != nil {
			_ = tx.Rollback()
			return err
		}
		if _, err := s.exec(s.rel); err != nil {
			_ = tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}

func (s *mdStore) Revoke(id string, at int64, reason string) error {
	res, err := s.exec(s.revoke, at, reason, id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return errors.Join(err, errNotFound)
	}
	return nil
}

func (s *mdStore) Checkpoint() error {
	_, err := s.row(s.ck)
	return err
}

func (s *mdStore) Close() error {
	var errs []error
	for _, st := range []driver.Stmt{s.byRefresh, s.user, s.sel, s.upd, s.ins, s.revoke, s.sp, s.rel, s.ck} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	for _, c := range []driver.Conn{s.r, s.w} {
		if c != nil {
			errs = append(errs, c.Close())
		}
	}
	return errors.Join(errs...)
}
