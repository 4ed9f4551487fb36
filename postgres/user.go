package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/internal/sqlrow"
)

const userCols = sqlrow.UserCols

func pgPlaceholder(n int) string { return fmt.Sprintf("$%d", n) }

// userInsertQ inserts a user from sqlrow.UserInsertArgs.
var userInsertQ = `INSERT INTO users (` + strings.Join(sqlrow.UserInsertCols, ", ") + `) VALUES (` +
	placeholders(1, len(sqlrow.UserInsertCols)) + `)`

// userUpdateQ writes sqlrow.UserWriteArgs, then the id and tenant id.
var userUpdateQ = fmt.Sprintf(`UPDATE users SET %s WHERE id = $%d AND tenant_id = $%d RETURNING `+userCols,
	sqlrow.SetList(sqlrow.UserWriteCols, pgPlaceholder), len(sqlrow.UserWriteCols)+1, len(sqlrow.UserWriteCols)+2)

func insertUser(ctx context.Context, tx pgx.Tx, u *actas.User) error {
	a, err := sqlrow.UserInsertArgs(u)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, userInsertQ, a...)
	return err
}

func updateUser(ctx context.Context, tx pgx.Tx, u *actas.User) (*actas.User, error) {
	a, err := sqlrow.UserWriteArgs(u)
	if err != nil {
		return nil, err
	}
	return sqlrow.ScanUser(tx.QueryRow(ctx, userUpdateQ, append(a, u.ID, u.TenantID)...))
}

// CreateUser stores a new user. The username is unique per tenant as
// actas.NormalizeUsername folds it.
func (db *DB) CreateUser(ctx context.Context, u *actas.User) error {
	return wrap("create user", db.write(ctx, func(ctx context.Context, tx pgx.Tx) error { return insertUser(ctx, tx, u) }))
}

func (db *DB) userWhere(ctx context.Context, op, where string, a ...any) (*actas.User, error) {
	var u *actas.User
	err := db.read(ctx, func(ctx context.Context, q querier) error {
		var err error
		u, err = sqlrow.ScanUser(q.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE `+where, a...))
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
		out, err = collect(rows, sqlrow.ScanUser)
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
		u, err := sqlrow.ScanUser(tx.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = $1 AND tenant_id = $2
			FOR NO KEY UPDATE`, id, tenantID))
		if err != nil {
			return err
		}
		if err := fn(u); err != nil {
			return sqlrow.FnError{Err: err}
		}
		u.ID, u.TenantID = id, tenantID
		out, err = updateUser(ctx, tx, u)
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
		return deleteUserTx(ctx, tx, tenantID, id)
	}))
}
