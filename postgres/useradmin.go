package postgres

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/internal/sqlrow"
)

// CreateUserAudited stores a new user and its audit event in one
// transaction.
func (db *DB) CreateUserAudited(ctx context.Context, u *actas.User, ev *actas.AuditEvent) error {
	return wrap("create user", db.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if err := insertUser(ctx, tx, u); err != nil {
			return err
		}
		_, err := insertAudit(ctx, tx, ev)
		return err
	}))
}

// ChangeUser applies fn's change to one user in one transaction with its
// revocations and audit events.
//
// The last-admin rule needs more than the user's row lock: two
// administrators removing each other's admin at once each lock only their
// target, and under READ COMMITTED each would count the other as still an
// admin. So every change first takes the tenant row's FOR NO KEY UPDATE
// lock (which sign-ins, inserting sessions under FOR KEY SHARE, do not
// wait for): changes of one tenant's users run one after the other, and
// the second one counts what the first committed.
func (db *DB) ChangeUser(ctx context.Context, tenantID, id string, fn func(*actas.User) (*actas.UserChange, error)) (*actas.User, []*actas.Session, error) {
	byUser, err := db.revokeSessionsFn(actas.RevokeQuery{TenantID: tenantID, UserID: id})
	if err != nil {
		return nil, nil, err
	}
	byImp, err := db.revokeSessionsFn(actas.RevokeQuery{TenantID: tenantID, ImpersonatorID: id})
	if err != nil {
		return nil, nil, err
	}
	var (
		out     *actas.User
		revoked []*actas.Session
	)
	err = db.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		out, revoked = nil, nil
		if err := execOne(ctx, tx, `SELECT 1 FROM tenants WHERE id = $1 FOR NO KEY UPDATE`, tenantID); err != nil {
			return err
		}
		u, err := sqlrow.ScanUser(tx.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = $1 AND tenant_id = $2
			FOR NO KEY UPDATE`, id, tenantID))
		if err != nil {
			return err
		}
		out, revoked, err = sqlrow.ApplyUserChange(u, fn, sqlrow.ChangeOps{
			OtherAdmins: func() (int, error) { return otherAdmins(ctx, tx, tenantID, id) },
			RevokeUser: func(at time.Time, reason string) ([]*actas.Session, error) {
				return byUser(ctx, tx, at, reason)
			},
			RevokeImpersonations: func(at time.Time, reason string) ([]*actas.Session, error) {
				return byImp(ctx, tx, at, reason)
			},
			InsertAudit: func(ev *actas.AuditEvent) error { _, err := insertAudit(ctx, tx, ev); return err },
			Delete:      func() error { return deleteUserTx(ctx, tx, tenantID, id) },
			Update: func(u *actas.User) (*actas.User, error) {
				u.ID, u.TenantID = id, tenantID
				return updateUser(ctx, tx, u)
			},
		})
		return err
	})
	if err != nil {
		return nil, nil, wrap("change user", err)
	}
	return out, revoked, nil
}

// otherAdmins counts the tenant's active administrators other than id;
// strpos narrows the rows decoded, the decoded list decides.
func otherAdmins(ctx context.Context, tx pgx.Tx, tenantID, id string) (int, error) {
	rows, err := tx.Query(ctx, `SELECT `+userCols+` FROM users WHERE tenant_id = $1 AND id <> $2
		AND status = $3 AND strpos(groups_json, `+sqlrow.AdminCandidate+`) > 0`, tenantID, id, actas.UserActive)
	if err != nil {
		return 0, err
	}
	us, err := collect(rows, sqlrow.ScanUser)
	return sqlrow.CountAdmins(us), err
}

// deleteUserTx is DeleteUser inside a transaction.
func deleteUserTx(ctx context.Context, tx pgx.Tx, tenantID, id string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM refresh_tokens WHERE session_id IN
		(SELECT id FROM sessions WHERE tenant_id = $1 AND user_id = $2)`, tenantID, id); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2`, tenantID, id); err != nil {
		return err
	}
	return execOne(ctx, tx, `DELETE FROM users WHERE id = $1 AND tenant_id = $2`, id, tenantID)
}

// SearchUsers reads each search key's index (COLLATE "C", byte order) over
// the prefix's range and merges by username_key; it reads the matching
// users only, never the tenant's.
func (db *DB) SearchUsers(ctx context.Context, tenantID, prefix, after string, limit int) ([]*actas.User, error) {
	prefix, after = sqlrow.SearchKey(prefix), actas.NormalizeUsername(after)
	var parts []string
	for _, f := range sqlrow.SearchFields {
		parts = append(parts, `SELECT `+userCols+`, username_key FROM users WHERE tenant_id = $1 AND `+
			f+` COLLATE "C" >= $2 AND `+f+` COLLATE "C" < $3 AND username_key COLLATE "C" > $4`)
	}
	q := `SELECT ` + userCols + ` FROM (` + strings.Join(parts, " UNION ") + `) AS m ORDER BY username_key COLLATE "C" LIMIT $5`
	var out []*actas.User
	err := db.read(ctx, func(ctx context.Context, qr querier) error {
		rows, err := qr.Query(ctx, q, tenantID, prefix, sqlrow.PrefixEnd(prefix), after, limit)
		if err != nil {
			return err
		}
		out, err = collect(rows, sqlrow.ScanUser)
		return err
	})
	return out, wrap("search users", err)
}

// CreateGroup stores a group and its audit event in one transaction.
func (db *DB) CreateGroup(ctx context.Context, g *actas.Group, ev *actas.AuditEvent) error {
	return wrap("create group", db.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO groups (`+sqlrow.GroupCols+`) VALUES ($1, $2, $3, $4, $5)`,
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

func (db *DB) groupWhere(ctx context.Context, op, where string, a ...any) (*actas.Group, error) {
	var g *actas.Group
	err := db.read(ctx, func(ctx context.Context, q querier) error {
		var err error
		g, err = sqlrow.ScanGroup(q.QueryRow(ctx, `SELECT `+sqlrow.GroupCols+` FROM groups WHERE `+where, a...))
		return err
	})
	return g, wrap(op, err)
}

// Group returns a group of the tenant by id.
func (db *DB) Group(ctx context.Context, tenantID, id string) (*actas.Group, error) {
	return db.groupWhere(ctx, "group", "id = $1 AND tenant_id = $2", id, tenantID)
}

// GroupByName returns a group of the tenant by name, case-insensitively.
func (db *DB) GroupByName(ctx context.Context, tenantID, name string) (*actas.Group, error) {
	return db.groupWhere(ctx, "group by name", "tenant_id = $1 AND name_key = $2", tenantID, actas.GroupKey(name))
}

// Groups returns the tenant's groups by name with their member counts.
func (db *DB) Groups(ctx context.Context, tenantID string) ([]*actas.Group, error) {
	var out []*actas.Group
	err := db.read(ctx, func(ctx context.Context, q querier) error {
		rows, err := q.Query(ctx, `SELECT `+sqlrow.GroupCols+`, (SELECT count(*) FROM users u,
				json_array_elements_text(u.groups_json::json) AS j (value)
				WHERE u.tenant_id = g.tenant_id AND j.value = g.name)
			FROM groups g WHERE tenant_id = $1 ORDER BY name_key COLLATE "C"`, tenantID)
		if err != nil {
			return err
		}
		out, err = collect(rows, func(r scanner) (*actas.Group, error) {
			var n int
			g, err := sqlrow.ScanGroup(sqlrow.WithExtra{Scanner: r, Extra: &n})
			if g != nil {
				g.Members = n
			}
			return g, err
		})
		return err
	})
	return out, wrap("groups", err)
}

// EnsureGroups returns the records of names, creating missing ones.
func (db *DB) EnsureGroups(ctx context.Context, tenantID string, names []string, now time.Time) ([]*actas.Group, error) {
	var out []*actas.Group
	err := db.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		out = out[:0]
		for _, n := range names {
			g := &actas.Group{ID: actas.NewID(), TenantID: tenantID, Name: n, CreatedAt: now}
			if _, err := tx.Exec(ctx, `INSERT INTO groups (`+sqlrow.GroupCols+`) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (tenant_id, name_key) DO NOTHING`, sqlrow.GroupArgs(g)...); err != nil {
				return err
			}
			g, err := sqlrow.ScanGroup(tx.QueryRow(ctx, `SELECT `+sqlrow.GroupCols+` FROM groups
				WHERE tenant_id = $1 AND name_key = $2`, tenantID, actas.GroupKey(n)))
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
	return wrap("delete group", db.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		g, err := sqlrow.ScanGroup(tx.QueryRow(ctx, `SELECT `+sqlrow.GroupCols+` FROM groups
			WHERE id = $1 AND tenant_id = $2 FOR UPDATE`, id, tenantID))
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+userCols+` FROM users WHERE tenant_id = $1
			AND groups_json::jsonb ? $2 FOR NO KEY UPDATE`, tenantID, g.Name)
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
			if _, err := updateUser(ctx, tx, u); err != nil {
				return err
			}
		}
		if err := execOne(ctx, tx, `DELETE FROM groups WHERE id = $1 AND tenant_id = $2`, id, tenantID); err != nil {
			return err
		}
		_, err = insertAudit(ctx, tx, ev)
		return err
	}))
}
