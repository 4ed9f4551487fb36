package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/internal/sqlrow"
)

const userCols = sqlrow.UserCols

// userInsertQ inserts a user from sqlrow.UserInsertArgs.
var userInsertQ = `INSERT INTO users (` + strings.Join(sqlrow.UserInsertCols, ", ") + `) VALUES (` +
	placeholders(len(sqlrow.UserInsertCols)) + `)`

// userUpdateQ writes sqlrow.UserWriteArgs, then the id and tenant id.
var userUpdateQ = `UPDATE users SET ` + sqlrow.SetList(sqlrow.UserWriteCols, func(int) string { return "?" }) +
	` WHERE id = ? AND tenant_id = ?`

func insertUser(ctx context.Context, tx *sql.Tx, u *actas.User) error {
	a, err := sqlrow.UserInsertArgs(u)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, userInsertQ, a...)
	return err
}

func updateUser(ctx context.Context, tx *sql.Tx, u *actas.User) error {
	a, err := sqlrow.UserWriteArgs(u)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, userUpdateQ, append(a, u.ID, u.TenantID)...)
	return err
}

// CreateUser stores a new user. The username is unique per tenant as
// actas.NormalizeUsername folds it.
func (db *DB) CreateUser(ctx context.Context, u *actas.User) error {
	return wrap("create user", db.write(ctx, func(tx *sql.Tx) error { return insertUser(ctx, tx, u) }))
}

// User returns the user with this id in this tenant.
func (db *DB) User(ctx context.Context, tenantID, id string) (*actas.User, error) {
	u, err := sqlrow.ScanUser(db.readRow(ctx, `SELECT `+userCols+` FROM users WHERE id = ? AND tenant_id = ?`,
		id, tenantID))
	if err != nil {
		return nil, wrap("user", err)
	}
	return u, nil
}

// UserByUsername returns the tenant's user with this username, compared
// case-insensitively.
func (db *DB) UserByUsername(ctx context.Context, tenantID, username string) (*actas.User, error) {
	u, err := sqlrow.ScanUser(db.r.QueryRowContext(ctx, `SELECT `+userCols+` FROM users
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
	out, err := collect(rows, sqlrow.ScanUser)
	return out, wrap("users", err)
}

// UpdateUser reads, modifies and writes a user in one transaction. A
// change of ID, TenantID or Username by fn is not written.
func (db *DB) UpdateUser(ctx context.Context, tenantID, id string, fn func(*actas.User) error) (*actas.User, error) {
	const sel = `SELECT ` + userCols + ` FROM users WHERE id = ? AND tenant_id = ?`
	var out *actas.User
	err := db.write(ctx, func(tx *sql.Tx) error {
		u, err := sqlrow.ScanUser(tx.QueryRowContext(ctx, sel, id, tenantID))
		if err != nil {
			return err
		}
		if err := fn(u); err != nil {
			return sqlrow.FnError{Err: err}
		}
		u.ID, u.TenantID = id, tenantID
		if err := updateUser(ctx, tx, u); err != nil {
			return err
		}
		out, err = sqlrow.ScanUser(tx.QueryRowContext(ctx, sel, id, tenantID))
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
		return deleteUserTx(ctx, tx, tenantID, id)
	}))
}
