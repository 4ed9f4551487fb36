package sqlite

import (
	"context"
	"database/sql"

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
	return wrap("create user", db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO users (`+userCols+`, username_key) VALUES (`+placeholders(12)+`)`,
			u.ID, u.TenantID, u.Username, u.Email, u.EmailVerified, u.PasswordHash, u.Status,
			u.MustChangePassword, groups, ms(u.CreatedAt), ms(u.UpdatedAt), actas.NormalizeUsername(u.Username))
		return err
	}))
}

// User returns the user with this id in this tenant.
func (db *DB) User(ctx context.Context, tenantID, id string) (*actas.User, error) {
	u, err := scanUser(db.readRow(ctx, `SELECT `+userCols+` FROM users WHERE id = ? AND tenant_id = ?`,
		id, tenantID))
	if err != nil {
		return nil, wrap("user", err)
	}
	return u, nil
}

// UserByUsername returns the tenant's user with this username, compared
// case-insensitively.
func (db *DB) UserByUsername(ctx context.Context, tenantID, username string) (*actas.User, error) {
	u, err := scanUser(db.r.QueryRowContext(ctx, `SELECT `+userCols+` FROM users
		WHERE tenant_id = ? AND username_key = ?`, tenantID, actas.NormalizeUsername(username)))
	if err != nil {
		return nil, wrap("user by username", err)
	}
	return u, nil
}

// Users returns a tenant's users by username.
func (db *DB) Users(ctx context.Context, tenantID string) ([]*actas.User, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+userCols+` FROM users WHERE tenant_id = ?
		ORDER BY username_key`, tenantID)
	if err != nil {
		return nil, wrap("users", err)
	}
	out, err := collect(rows, scanUser)
	return out, wrap("users", err)
}

// UpdateUser reads, modifies and writes a user in one transaction. A
// change of ID, TenantID or Username by fn is not written.
func (db *DB) UpdateUser(ctx context.Context, tenantID, id string, fn func(*actas.User) error) (*actas.User, error) {
	const sel = `SELECT ` + userCols + ` FROM users WHERE id = ? AND tenant_id = ?`
	var out *actas.User
	err := db.write(ctx, func(tx *sql.Tx) error {
		u, err := scanUser(tx.QueryRowContext(ctx, sel, id, tenantID))
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
		if _, err := tx.ExecContext(ctx, `UPDATE users SET email = ?, email_verified = ?, password_hash = ?,
			status = ?, must_change_password = ?, groups_json = ?, created_at = ?, updated_at = ?
			WHERE id = ? AND tenant_id = ?`,
			u.Email, u.EmailVerified, u.PasswordHash, u.Status, u.MustChangePassword, groups,
			ms(u.CreatedAt), ms(u.UpdatedAt), id, tenantID); err != nil {
			return err
		}
		out, err = scanUser(tx.QueryRowContext(ctx, sel, id, tenantID))
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
	return wrap("delete user", db.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM refresh_tokens WHERE session_id IN
			(SELECT id FROM sessions WHERE tenant_id = ? AND user_id = ?)`, tenantID, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE tenant_id = ? AND user_id = ?`,
			tenantID, id); err != nil {
			return err
		}
		return execOne(ctx, tx, `DELETE FROM users WHERE id = ? AND tenant_id = ?`, id, tenantID)
	}))
}
