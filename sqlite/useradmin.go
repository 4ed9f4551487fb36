package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/internal/sqlrow"
)

// CreateUserAudited stores a new user and its audit event in one
// transaction.
func (db *DB) CreateUserAudited(ctx context.Context, u *actas.User, ev *actas.AuditEvent) error {
	return wrap("create user", db.write(ctx, func(tx *sql.Tx) error {
		if err := insertUser(ctx, tx, u); err != nil {
			return err
		}
		_, err := insertAudit(ctx, tx, ev)
		return err
	}))
}

// ChangeUser applies fn's change to one user in one transaction with its
// revocations and audit events. SQLite runs one write transaction at a
// time (BEGIN IMMEDIATE on the single writer), so the last-admin check and
// the write that depends on it cannot interleave with another change.
func (db *DB) ChangeUser(ctx context.Context, tenantID, id string, fn func(*actas.User) (*actas.UserChange, error)) (*actas.User, []*actas.Session, error) {
	// Prepared before the transaction: the writer has one connection.
	byUser, err := db.revokeSessionsFn(ctx, actas.RevokeQuery{TenantID: tenantID, UserID: id})
	if err != nil {
		return nil, nil, err
	}
	byImp, err := db.revokeSessionsFn(ctx, actas.RevokeQuery{TenantID: tenantID, ImpersonatorID: id})
	if err != nil {
		return nil, nil, err
	}
	var (
		out     *actas.User
		revoked []*actas.Session
	)
	err = db.write(ctx, func(tx *sql.Tx) error {
		u, err := sqlrow.ScanUser(tx.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ? AND tenant_id = ?`, id, tenantID))
		if err != nil {
			return err
		}
		out, revoked, err = sqlrow.ApplyUserChange(u, fn, sqlrow.ChangeOps{
			OtherAdmins: func() (int, error) { return db.otherAdmins(ctx, tx, tenantID, id) },
			RevokeUser:  func(at time.Time, reason string) ([]*actas.Session, error) { return byUser(tx, at, reason) },
			RevokeImpersonations: func(at time.Time, reason string) ([]*actas.Session, error) {
				return byImp(tx, at, reason)
			},
			InsertAudit: func(ev *actas.AuditEvent) error { _, err := insertAudit(ctx, tx, ev); return err },
			Delete:      func() error { return deleteUserTx(ctx, tx, tenantID, id) },
			Update: func(u *actas.User) (*actas.User, error) {
				u.ID, u.TenantID = id, tenantID
				if err := updateUser(ctx, tx, u); err != nil {
					return nil, err
				}
				return sqlrow.ScanUser(tx.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ? AND tenant_id = ?`, id, tenantID))
			},
		})
		return err
	})
	if err != nil {
		return nil, nil, wrap("change user", err)
	}
	return out, revoked, nil
}

// otherAdmins counts the tenant's active administrators other than id.
// instr narrows the rows read to those whose group list can hold
// "admin"; the decoded list decides.
func (db *DB) otherAdmins(ctx context.Context, tx *sql.Tx, tenantID, id string) (int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+userCols+` FROM users WHERE tenant_id = ? AND id <> ?
		AND status = ? AND instr(groups_json, `+sqlrow.AdminCandidate+`) > 0`, tenantID, id, actas.UserActive)
	if err != nil {
		return 0, err
	}
	us, err := collect(rows, sqlrow.ScanUser)
	return sqlrow.CountAdmins(us), err
}

// deleteUserTx is DeleteUser inside a transaction.
func deleteUserTx(ctx context.Context, tx *sql.Tx, tenantID, id string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM refresh_tokens WHERE session_id IN
		(SELECT id FROM sessions WHERE tenant_id = ? AND user_id = ?)`, tenantID, id); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE tenant_id = ? AND user_id = ?`, tenantID, id); err != nil {
		return err
	}
	return execOne(ctx, tx, `DELETE FROM users WHERE id = ? AND tenant_id = ?`, id, tenantID)
}

// SearchUsers reads each search key's index over the prefix's range and
// merges by username_key. Every branch is a range of a (tenant_id, key)
// index: it reads the matching users only, never the tenant's.
func (db *DB) SearchUsers(ctx context.Context, tenantID, prefix, after string, limit int) ([]*actas.User, error) {
	q, args := searchQuery(tenantID, prefix, after, limit)
	// Prepared (stmtcache.go): parsing the five-way union costs more
	// than running it.
	var rows *sql.Rows
	var err error
	if st := db.prepared(ctx, db.r, q); st != nil {
		rows, err = st.QueryContext(ctx, args...)
	} else {
		rows, err = db.r.QueryContext(ctx, q, args...)
	}
	if err != nil {
		return nil, wrap("search users", err)
	}
	out, err := collect(rows, sqlrow.ScanUser)
	return out, wrap("search users", err)
}

// searchQuery returns SearchUsers's statement and its arguments.
func searchQuery(tenantID, prefix, after string, limit int) (string, []any) {
	prefix, after = sqlrow.SearchKey(prefix), actas.NormalizeUsername(after)
	var (
		parts []string
		args  []any
	)
	end := sqlrow.PrefixEnd(prefix)
	for _, f := range sqlrow.SearchFields {
		// The unary + keeps the planner on f's index whatever statistics
		// say: the username index's range "username_key > after" is,
		// with no cursor, every user of the tenant.
		page := "+username_key > ?"
		if f == "username_key" {
			page = "username_key > ?"
		}
		parts = append(parts, `SELECT `+userCols+`, username_key FROM users WHERE tenant_id = ? AND `+f+` >= ? AND `+f+` < ? AND `+page)
		args = append(args, tenantID, prefix, end, after)
	}
	q := `SELECT ` + userCols + ` FROM (` + strings.Join(parts, " UNION ") + `) ORDER BY username_key LIMIT ?`
	return q, append(args, limit)
}

// CreateGroup stores a group and its audit event in one transaction.
func (db *DB) CreateGroup(ctx context.Context, g *actas.Group, ev *actas.AuditEvent) error {
	return wrap("create group", db.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO groups (`+sqlrow.GroupCols+`) VALUES (?, ?, ?, ?, ?)`,
			sqlrow.GroupArgs(g)...); err != nil {
			return err
		}
		if ev == nil {
			return nil
		}
		_, err := insertAudit(ctx, tx, ev)
		return err
	}))
}

// Group returns a group of the tenant by id.
func (db *DB) Group(ctx context.Context, tenantID, id string) (*actas.Group, error) {
	g, err := sqlrow.ScanGroup(db.readRow(ctx, `SELECT `+sqlrow.GroupCols+` FROM groups
		WHERE id = ? AND tenant_id = ?`, id, tenantID))
	return g, wrap("group", err)
}

// GroupByName returns a group of the tenant by name, case-insensitively.
func (db *DB) GroupByName(ctx context.Context, tenantID, name string) (*actas.Group, error) {
	g, err := sqlrow.ScanGroup(db.readRow(ctx, `SELECT `+sqlrow.GroupCols+` FROM groups
		WHERE tenant_id = ? AND name_key = ?`, tenantID, actas.GroupKey(name)))
	return g, wrap("group by name", err)
}

// Groups returns the tenant's groups by name with their member counts
// (one pass over the tenant's users' group lists).
func (db *DB) Groups(ctx context.Context, tenantID string) ([]*actas.Group, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+sqlrow.GroupCols+`, (SELECT count(*) FROM users u, json_each(u.groups_json) j
			WHERE u.tenant_id = g.tenant_id AND j.value = g.name)
		FROM groups g WHERE tenant_id = ? ORDER BY name_key`, tenantID)
	if err != nil {
		return nil, wrap("groups", err)
	}
	out, err := collect(rows, func(r scanner) (*actas.Group, error) {
		var n int
		g, err := sqlrow.ScanGroup(sqlrow.WithExtra{Scanner: r, Extra: &n})
		if g != nil {
			g.Members = n
		}
		return g, err
	})
	return out, wrap("groups", err)
}

// EnsureGroups returns the records of names, creating missing ones.
func (db *DB) EnsureGroups(ctx context.Context, tenantID string, names []string, now time.Time) ([]*actas.Group, error) {
	var out []*actas.Group
	err := db.write(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		for _, n := range names {
			g := &actas.Group{ID: actas.NewID(), TenantID: tenantID, Name: n, CreatedAt: now}
			if _, err := tx.ExecContext(ctx, `INSERT INTO groups (`+sqlrow.GroupCols+`) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (tenant_id, name_key) DO NOTHING`, sqlrow.GroupArgs(g)...); err != nil {
				return err
			}
			g, err := sqlrow.ScanGroup(tx.QueryRowContext(ctx, `SELECT `+sqlrow.GroupCols+` FROM groups
				WHERE tenant_id = ? AND name_key = ?`, tenantID, actas.GroupKey(n)))
			if err != nil {
				return err
			}
			out = append(out, g)
		}
		return nil
	})
	return out, wrap("ensure groups", err)
}

// DeleteGroup deletes a group, takes its name off every user, and appends
// ev, in one transaction.
func (db *DB) DeleteGroup(ctx context.Context, tenantID, id string, ev *actas.AuditEvent) error {
	return wrap("delete group", db.write(ctx, func(tx *sql.Tx) error {
		g, err := sqlrow.ScanGroup(tx.QueryRowContext(ctx, `SELECT `+sqlrow.GroupCols+` FROM groups
			WHERE id = ? AND tenant_id = ?`, id, tenantID))
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+userCols+` FROM users u WHERE tenant_id = ?
			AND EXISTS (SELECT 1 FROM json_each(u.groups_json) j WHERE j.value = ?)`, tenantID, g.Name)
		if err != nil {
			return err
		}
		members, err := collect(rows, sqlrow.ScanUser)
		if err != nil {
			return err
		}
		for _, u := range members {
			u.Groups = sqlrow.WithoutGroup(u.Groups, g.Name)
			u.UpdatedAt = ev.Time
			if err := updateUser(ctx, tx, u); err != nil {
				return err
			}
		}
		if err := execOne(ctx, tx, `DELETE FROM groups WHERE id = ? AND tenant_id = ?`, id, tenantID); err != nil {
			return err
		}
		_, err = insertAudit(ctx, tx, ev)
		return err
	}))
}
