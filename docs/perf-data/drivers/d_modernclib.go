package drvbench

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// mlConn is SQLite's C API as modernc.org/sqlite/lib transpiles it
// (sqlite3.Xsqlite3_*), called directly: the floor of what modernc can
// do. Not an API modernc supports for applications: no busy handling
// beyond busy_timeout, no context, no error mapping; every pointer is a
// uintptr into the C heap.
type mlConn struct {
	tls *libc.TLS
	db  uintptr
	buf []byte  // Go copy of a bound value; SQLITE_TRANSIENT makes SQLite copy it in the call
	out uintptr // an out parameter (sqlite3**, sqlite3_stmt**): c is on the heap, so &c.out does not move
}

type mlStmt struct {
	c *mlConn
	p uintptr
}

func mlOpen(path string, flags int32, pragmas []string) (*mlConn, error) {
	c := &mlConn{tls: libc.NewTLS(), buf: make([]byte, 0, 512)}
	name, err := libc.CString(path)
	if err != nil {
		return nil, err
	}
	defer libc.Xfree(c.tls, name)
	rc := sqlite3.Xsqlite3_open_v2(c.tls, name, uintptr(unsafe.Pointer(&c.out)), flags, 0)
	c.db = c.out
	if rc != sqlite3.SQLITE_OK {
		err := c.err(rc)
		c.Close()
		return nil, err
	}
	for _, p := range pragmas {
		if err := c.exec("PRAGMA " + p); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

func (c *mlConn) err(rc int32) error {
	if c.db == 0 {
		return fmt.Errorf("sqlite: rc %d", rc)
	}
	return fmt.Errorf("sqlite: %s (%d)", libc.GoString(sqlite3.Xsqlite3_errmsg(c.tls, c.db)), rc)
}

func (c *mlConn) exec(q string) error {
	z, err := libc.CString(q)
	if err != nil {
		return err
	}
	defer libc.Xfree(c.tls, z)
	if rc := sqlite3.Xsqlite3_exec(c.tls, c.db, z, 0, 0, 0); rc != sqlite3.SQLITE_OK {
		return c.err(rc)
	}
	return nil
}

func (c *mlConn) prepare(q string) (*mlStmt, error) {
	z, err := libc.CString(q)
	if err != nil {
		return nil, err
	}
	defer libc.Xfree(c.tls, z)
	if rc := sqlite3.Xsqlite3_prepare_v3(c.tls, c.db, z, -1, sqlite3.SQLITE_PREPARE_PERSISTENT,
		uintptr(unsafe.Pointer(&c.out)), 0); rc != sqlite3.SQLITE_OK {
		return nil, c.err(rc)
	}
	return &mlStmt{c, c.out}, nil
}

func (c *mlConn) Close() error {
	if c.db != 0 {
		sqlite3.Xsqlite3_close_v2(c.tls, c.db)
		c.db = 0
	}
	c.tls.Close()
	return nil
}

// ptr returns the address of b's first byte, or of a byte of c.buf for an
// empty b (a null pointer would bind NULL, not an empty value).
func (c *mlConn) ptr(b []byte) uintptr {
	if len(b) == 0 {
		c.buf = append(c.buf[:0], 0)
		return uintptr(unsafe.Pointer(&c.buf[0]))
	}
	return uintptr(unsafe.Pointer(&b[0]))
}

func (s *mlStmt) text(i int32, v string) error {
	c := s.c
	c.buf = append(c.buf[:0], v...)
	rc := sqlite3.Xsqlite3_bind_text(c.tls, s.p, i, c.ptr(c.buf), int32(len(v)), sqlite3.SQLITE_TRANSIENT)
	runtime.KeepAlive(c.buf)
	if rc != sqlite3.SQLITE_OK {
		return c.err(rc)
	}
	return nil
}

func (s *mlStmt) blob(i int32, v []byte) error {
	c := s.c
	rc := sqlite3.Xsqlite3_bind_blob(c.tls, s.p, i, c.ptr(v), int32(len(v)), sqlite3.SQLITE_TRANSIENT)
	runtime.KeepAlive(v)
	if rc != sqlite3.SQLITE_OK {
		return c.err(rc)
	}
	return nil
}

func (s *mlStmt) int(i int32, v int64) error {
	if rc := sqlite3.Xsqlite3_bind_int64(s.c.tls, s.p, i, v); rc != sqlite3.SQLITE_OK {
		return s.c.err(rc)
	}
	return nil
}

func (s *mlStmt) bool(i int32, v bool) error {
	var n int64
	if v {
		n = 1
	}
	return s.int(i, n)
}

// step returns true on a row; false and nil when done.
func (s *mlStmt) step() (bool, error) {
	switch rc := sqlite3.Xsqlite3_step(s.c.tls, s.p); rc {
	case sqlite3.SQLITE_ROW:
		return true, nil
	case sqlite3.SQLITE_DONE:
		return false, nil
	default:
		return false, s.c.err(rc)
	}
}

func (s *mlStmt) reset() { sqlite3.Xsqlite3_reset(s.c.tls, s.p) }

// run steps a statement that returns no row, and resets it.
func (s *mlStmt) run() error {
	_, err := s.step()
	s.reset()
	return err
}

func (s *mlStmt) colText(i int32) string {
	p := sqlite3.Xsqlite3_column_text(s.c.tls, s.p, i)
	n := int(sqlite3.Xsqlite3_column_bytes(s.c.tls, s.p, i))
	if p == 0 || n == 0 {
		return ""
	}
	return string(libc.GoBytes(p, n)) // GoBytes does not copy; string() does
}

func (s *mlStmt) colBlob(i int32) []byte {
	p := sqlite3.Xsqlite3_column_blob(s.c.tls, s.p, i)
	n := int(sqlite3.Xsqlite3_column_bytes(s.c.tls, s.p, i))
	if p == 0 || n == 0 {
		return nil
	}
	return append([]byte(nil), libc.GoBytes(p, n)...)
}

func (s *mlStmt) colInt(i int32) int64 { return sqlite3.Xsqlite3_column_int64(s.c.tls, s.p, i) }
func (s *mlStmt) colBool(i int32) bool { return s.colInt(i) != 0 }

func (s *mlStmt) close() {
	if s != nil {
		sqlite3.Xsqlite3_finalize(s.c.tls, s.p)
	}
}

type mlStore struct {
	w, r                                              *mlConn
	byRefresh, user                                   *mlStmt
	sel, upd, ins, revoke, sp, rel, begin, commit, ck *mlStmt
	rollback                                          *mlStmt
}

func openModerncLib(path string) (_ Store, err error) {
	s := &mlStore{}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	const rw = sqlite3.SQLITE_OPEN_READWRITE | sqlite3.SQLITE_OPEN_CREATE | sqlite3.SQLITE_OPEN_NOMUTEX
	if s.w, err = mlOpen(path, rw, writerPragmas); err != nil {
		return nil, err
	}
	if s.r, err = mlOpen(path, rw, readerPragmas); err != nil {
		return nil, err
	}
	for _, p := range []struct {
		c  *mlConn
		st **mlStmt
		q  string
	}{
		{s.r, &s.byRefresh, qByRefresh}, {s.r, &s.user, qUser},
		{s.w, &s.sel, qSelSession}, {s.w, &s.upd, qUpdSession}, {s.w, &s.ins, qInsToken},
		{s.w, &s.revoke, qRevoke}, {s.w, &s.sp, qSavepoint}, {s.w, &s.rel, qRelease}, {s.w, &s.ck, qCkpt},
		{s.w, &s.begin, qBegin}, {s.w, &s.commit, qCommit}, {s.w, &s.rollback, "ROLLBACK"},
	} {
		if *p.st, err = p.c.prepare(strings.TrimSpace(p.q)); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *mlStore) SessionByRefresh(hash []byte, rt *RefreshToken, x *Session) error {
	st := s.byRefresh
	defer st.reset()
	if err := st.blob(1, hash); err != nil {
		return err
	}
	ok, err := st.step()
	if err != nil {
		return err
	}
	if !ok {
		return errNotFound
	}
	*rt = RefreshToken{Hash: st.colBlob(0), SessionID: st.colText(1), Generation: st.colInt(2), CreatedAt: st.colInt(3)}
	mlSession(st, 4, x)
	return nil
}

func mlSession(st *mlStmt, o int32, x *Session) {
	*x = Session{ID: st.colText(o), TenantID: st.colText(o + 1), UserID: st.colText(o + 2), AuthTime: st.colInt(o + 3),
		ExpiresAt: st.colInt(o + 4), LastRefreshAt: st.colInt(o + 5), RevokedAt: st.colInt(o + 6),
		RevokeReason: st.colText(o + 7), ClientIP: st.colText(o + 8), UserAgent: st.colText(o + 9),
		Refreshable: st.colBool(o + 10), RefreshGeneration: st.colInt(o + 11), RotatedAt: st.colInt(o + 12),
		ImpersonatorID: st.colText(o + 13), ParentID: st.colText(o + 14), Reason: st.colText(o + 15),
		CreatedAt: st.colInt(o + 16)}
}

func (s *mlStore) User(tenantID, id string, u *User) error {
	st := s.user
	defer st.reset()
	if err := errors.Join(st.text(1, id), st.text(2, tenantID)); err != nil {
		return err
	}
	ok, err := st.step()
	if err != nil {
		return err
	}
	if !ok {
		return errNotFound
	}
	*u = User{ID: st.colText(0), TenantID: st.colText(1), Username: st.colText(2), Email: st.colText(3),
		EmailVerified: st.colBool(4), PasswordHash: st.colText(5), Status: st.colText(6),
		MustChangePassword: st.colBool(7), GroupsJSON: st.colText(8), CreatedAt: st.colInt(9),
		UpdatedAt: st.colInt(10), FirstName: st.colText(11), LastName: st.colText(12),
		FriendlyName: st.colText(13), Company: st.colText(14), Country: st.colText(15), Contact: st.colText(16),
		Phone: st.colText(17)}
	return nil
}

func (s *mlStore) rotate(id string, rt *RefreshToken, now int64) error {
	var x Session
	err := func() error {
		st := s.sel
		defer st.reset()
		if err := st.text(1, id); err != nil {
			return err
		}
		ok, err := st.step()
		if err != nil {
			return err
		}
		if !ok {
			return errNotFound
		}
		mlSession(st, 0, &x)
		return nil
	}()
	if err != nil {
		return err
	}
	rotated(&x, now)
	u := s.upd
	if err := errors.Join(u.int(1, x.AuthTime), u.int(2, x.LastRefreshAt), u.int(3, x.RevokedAt),
		u.text(4, x.RevokeReason), u.text(5, x.ClientIP), u.text(6, x.UserAgent), u.bool(7, x.Refreshable),
		u.int(8, x.RefreshGeneration), u.int(9, x.RotatedAt), u.text(10, x.Reason), u.int(11, x.CreatedAt),
		u.text(12, id)); err != nil {
		return err
	}
	if err := u.run(); err != nil {
		return err
	}
	in := s.ins
	if err := errors.Join(in.blob(1, rt.Hash), in.text(2, id), in.int(3, rt.Generation), in.int(4, rt.CreatedAt)); err != nil {
		return err
	}
	return in.run()
}

func (s *mlStore) Rotate(id string, rt *RefreshToken, now int64) error {
	if err := s.begin.run(); err != nil {
		return err
	}
	if err := s.rotate(id, rt, now); err != nil {
		_ = s.rollback.run()
		return err
	}
	return s.commit.run()
}

func (s *mlStore) RotateGroup(ids []string, rts []RefreshToken, now int64) error {
	if err := s.begin.run(); err != nil {
		return err
	}
	for i, id := range ids {
		if err := errors.Join(s.sp.run(), s.rotate(id, &rts[i], now), s.rel.run()); err != nil {
			_ = s.rollback.run()
			return err
		}
	}
	return s.commit.run()
}

func (s *mlStore) Revoke(id string, at int64, reason string) error {
	st := s.revoke
	if err := errors.Join(st.int(1, at), st.text(2, reason), st.text(3, id)); err != nil {
		return err
	}
	if err := st.run(); err != nil {
		return err
	}
	if sqlite3.Xsqlite3_changes(s.w.tls, s.w.db) != 1 {
		return errNotFound
	}
	return nil
}

func (s *mlStore) Checkpoint() error {
	st := s.ck
	defer st.reset()
	_, err := st.step()
	return err
}

func (s *mlStore) Close() error {
	for _, st := range []*mlStmt{s.byRefresh, s.user, s.sel, s.upd, s.ins, s.revoke, s.sp, s.rel, s.begin, s.commit, s.ck, s.rollback} {
		st.close()
	}
	for _, c := range []*mlConn{s.r, s.w} {
		if c != nil {
			c.Close()
		}
	}
	return nil
}
