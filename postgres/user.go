package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/actas-dev/actas"
)

const userCols = `id, tenant_id, username, email, email_verified, password_hash, status,
	must_change_password, groups_json, created_at, updated_at`

func scanUser(row scanner) (*actas.User, error) {
	var (
		u                actas.User
		groups           string
		created, updated int64
	)
	if err := row.Scan(&u.ID, &u.TenantID, &u.Username, &u.Email, &u.EmailVerified, &u.PasswordHash, &u.Status,
		&u.MustChangePassword, &groups, &created, &updated); err != nil {
		return nil, err
	}
	var err error
	if u.Groups, err = decodeGroups(groups); err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = fromMS(created), fromMS(updated)
	return &u, nil
}

// CreateUser stores a new user. The username is unique per tenant as
// actas.NormalizeUsername folds it.
func (db *DB) CreateUser(ctx context.Context, u *actas.User) error {
	groups, err := encodeGroups(u.Groups)
	if err != nil {
		return wrap("create user", err)
	}
	return wrap("create user", db.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO users (`+userCols+`, username_key) VALUES (`+placeholders(1, 12)+`)`,
			u.ID, u.TenantID, u.Username, u.Email, u.EmailVerified, u.PasswordHash, u.Status,
			u.MustChangePassword, groups, ms(u.CreatedAt), ms(u.UpdatedAt), actas.NormalizeUsername(u.Username))
		return err
	}))
}

func (db *DB) userWhere(ctx context.Context, op, where string, a ...any) (*actas.User, error) {
	var u *actas.User
	err := db.read(ctx, func(ctx context.Context, q querier) error {
		var err error
		u, err = scanUser(q.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE `+where, a...))
		return err
	})
	if err != nil {
		return nil, wrap(op, err)
	}
	return u, nil
}

// User returns the user with this id in this tenant.
func (db *DB) User(ctx context.Context, tenantID, id string) (*actas.User, error) {
	return db.userWhere(ctx, "user", "id = $1 AND tenant_id = $2", id, tenantID)
}

// UserByUsername returns the tenant's user with this username, compared
// case-insensitively.
func (db *DB) UserByUsername(ctx context.Context, tenantID, username string) (*actas.User, error) {
	return db.userWhere(ctx, "user by username", "tenant_id = $1 AND username_key = $2",
		tenantID, actas.NormalizeUsername(username))
}

// Users returns a tenant's users by username (byte order of the folded
// username, whatever the database's collation).
func (db *DB) Users(ctx context.Context, tenantID string) ([]*actas.User, error) {
	var out []*actas.User
	err := db.read(ctx, func(ctx context.Context, q querier) error {
		rows, err := q.Query(ctx, `SELECT `+userCols+` FROM users WHERE tenant_id = $1
			ORDER BY username_key COLLATE "C"`, tenantID)
		if err != nil {
			return err
		}
		out, err = collect(rows, scanUser)
		return err
	})
	return out, wrap("users", err)
}

// UpdateUser reads, modifies and writes a user in one transaction, holding
// the row lock from the read to the commit. A change of ID, TenantID or
// Username by fn is not written.
func (db *DB) UpdateUser(ctx context.Context, tenantID, id string, fn func(*actas.User) error) (*actas.User, error) {
	var out *actas.User
	err := db.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		u, err := scanUser(tx.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = $1 AND tenant_id = $2
			FOR NO KEY UPDATE`, id, tenantID))
		if err != nil {
			return err
		}
		if err := fn(u); err != nil {
			return errFn{err}
		}
		groups, err := encodeGroups(u.Groups)
		if err != nil {
			return err
		}
		out, err = scanUser(tx.QueryRow(ctx, `UPDATE users SET email = $1, email_verified = $2, password_hash = $3,
			status = $4, must_change_password = $5, groups_json = $6, created_at = $7, updated_at = $8
			WHERE id = $9 AND tenant_id = $10 RETURNING `+userCols,
			u.Email, u.EmailVerified, u.PasswordHash, u.Status, u.MustChangePassword, groups,
			ms(u.CreatedAt), ms(u.UpdatedAt), id, tenantID))
		return err
	})
	if err != nil {
		return nil, wrap("update user", err)
	}
	return out, nil
}

// DeleteUser deletes a user with its sessions and their refresh tokens.
// Audit events naming the user are kept.
func (db *DB) DeleteUser(ctx context.Context, tenantID, id string) error {
	return wrap("delete user", db.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM refresh_tokens WHERE session_id IN
			(SELECT id FROM sessions WHERE tenant_id = $1 AND user_id = $2)`, tenantID, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2`,
			tenantID, id); err != nil {
			return err
		}
		return execOne(ctx, tx, `DELETE FROM users WHERE id = $1 AND tenant_id = $2`, id, tenantID)
	}))
}
