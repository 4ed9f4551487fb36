// Package oldschema builds a database as an actas from before migration
// 00003 left it, for the tests of that migration and of `actas doctor`.
//
// It applies only migrations 1 and 2 and writes rows with statements
// against that schema, so it keeps working as later migrations add
// tables and columns: faking an old database by migrating fully and then
// deleting goose's version row makes goose refuse the out-of-order
// version, and copying today's columns breaks with every new one.
package oldschema

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/pressly/goose/v3"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/internal/sqlrow"
)

// Before00003 applies migrations 1 and 2 from dir, a store's migrations
// directory, to db and inserts tn and users, each username keyed by
// strings.ToLower as actas did before 00003 (so "café" composed and
// decomposed can be two users). Opening the store afterwards applies
// 00003 and later.
func Before00003(ctx context.Context, dialect goose.Dialect, db *sql.DB, dir string, tn *actas.Tenant, users ...*actas.User) error {
	p, err := goose.NewProvider(dialect, db, os.DirFS(dir), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return err
	}
	if _, err := p.UpTo(ctx, 2); err != nil {
		return fmt.Errorf("migrate to version 2: %w", err)
	}
	if err := AddTenants(ctx, dialect, db, tn); err != nil {
		return err
	}
	return AddUsers(ctx, dialect, db, users...)
}

// AddTenants inserts tenants into a database Before00003 built.
func AddTenants(ctx context.Context, dialect goose.Dialect, db *sql.DB, tenants ...*actas.Tenant) error {
	exec := execer(ctx, dialect, db)
	for _, tn := range tenants {
		settings, err := json.Marshal(tn.Settings)
		if err != nil {
			return err
		}
		if err := exec(`INSERT INTO tenants (id, name, user_pool_id, client_id, endpoint_url, settings, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			tn.ID, tn.Name, tn.UserPoolID, tn.ClientID, tn.EndpointURL, string(settings), sqlrow.MS(tn.CreatedAt)); err != nil {
			return err
		}
	}
	return nil
}

// AddUsers inserts users, with their groups, into a database Before00003
// built, keyed as Before00003 keys them.
func AddUsers(ctx context.Context, dialect goose.Dialect, db *sql.DB, users ...*actas.User) error {
	exec := execer(ctx, dialect, db)
	for _, u := range users {
		if err := exec(`INSERT INTO users (id, tenant_id, username, username_key, email, email_verified,
			password_hash, status, must_change_password, groups_json, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			u.ID, u.TenantID, u.Username, strings.ToLower(u.Username), u.Email, u.EmailVerified,
			u.PasswordHash, u.Status, u.MustChangePassword, sqlrow.EncodeList(u.Groups),
			sqlrow.MS(u.CreatedAt), sqlrow.MS(u.UpdatedAt)); err != nil {
			return err
		}
	}
	return nil
}

// execer runs a statement written with ? placeholders, numbering them
// for PostgreSQL.
func execer(ctx context.Context, dialect goose.Dialect, db *sql.DB) func(q string, args ...any) error {
	return func(q string, args ...any) error {
		if dialect == goose.DialectPostgres {
			var b strings.Builder
			n := 0
			for _, r := range q {
				if r == '?' {
					n++
					b.WriteString("$" + strconv.Itoa(n))
				} else {
					b.WriteRune(r)
				}
			}
			q = b.String()
		}
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
		return nil
	}
}
