package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/internal/sqlrow"
)

// CreateTenant stores a tenant, its first API key (if any) and its first
// signing keys in one transaction.
func (db *DB) CreateTenant(ctx context.Context, t *actas.Tenant, key *actas.APIKey, keys []*actas.SigningKey) error {
	a, err := sqlrow.TenantArgs(t)
	if err != nil {
		return fmt.Errorf("create tenant: %w", err)
	}
	return wrap("create tenant", db.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, tenantInsertQ, a...); err != nil {
			return err
		}
		if key != nil {
			if err := insertAPIKey(ctx, tx, key); err != nil {
				return err
			}
		}
		for _, k := range keys {
			if err := insertSigningKey(ctx, tx, k); err != nil {
				return err
			}
		}
		return nil
	}))
}

var (
	tenantInsertQ = `INSERT INTO tenants (` + sqlrow.TenantCols + `) VALUES (` + placeholders(len(sqlrow.TenantWriteCols)+1) + `)`
	tenantSelectQ = `SELECT ` + sqlrow.TenantCols + ` FROM tenants WHERE `
	tenantUpdateQ = `UPDATE tenants SET ` + sqlrow.SetList(sqlrow.TenantWriteCols, func(int) string { return "?" }) +
		` WHERE id = ?`
)

func (db *DB) tenantWhere(ctx context.Context, op, where string, arg any) (*actas.Tenant, error) {
	t, err := sqlrow.ScanTenant(db.readRow(ctx, tenantSelectQ+where, arg))
	if err != nil {
		return nil, wrap(op, err)
	}
	return t, nil
}

// Tenant returns the tenant with this id.
func (db *DB) Tenant(ctx context.Context, id string) (*actas.Tenant, error) {
	return db.tenantWhere(ctx, "tenant", "id = ?", id)
}

// TenantByName returns the tenant with this name.
func (db *DB) TenantByName(ctx context.Context, name string) (*actas.Tenant, error) {
	return db.tenantWhere(ctx, "tenant by name", "name = ?", name)
}

var tenantKeysQ = sqlrow.TenantKeysQuery("?")

// TenantByPoolID returns the tenant with this user pool id and its keys'
// public halves, in one statement (prepared once).
func (db *DB) TenantByPoolID(ctx context.Context, poolID string) (*actas.Tenant, []*actas.SigningKey, error) {
	var rows *sql.Rows
	var err error
	ctx = brief(ctx) // a few rows by key
	if st := db.prepared(ctx, db.r, tenantKeysQ); st != nil {
		rows, err = st.QueryContext(ctx, poolID)
	} else {
		rows, err = db.r.QueryContext(ctx, tenantKeysQ, poolID)
	}
	if err != nil {
		return nil, nil, wrap("tenant by pool id", err)
	}
	t, keys, err := sqlrow.CollectTenantKeys(rows)
	rows.Close()
	if err == nil && t == nil { // no such tenant, or one without keys
		t, err = db.tenantWhere(ctx, "tenant by pool id", "user_pool_id = ?", poolID)
	}
	if err != nil {
		return nil, nil, wrap("tenant by pool id", err)
	}
	return t, keys, nil
}

// Tenants returns every tenant, by name.
func (db *DB) Tenants(ctx context.Context) ([]*actas.Tenant, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+sqlrow.TenantCols+` FROM tenants ORDER BY name`)
	if err != nil {
		return nil, wrap("tenants", err)
	}
	out, err := collect(rows, sqlrow.ScanTenant)
	return out, wrap("tenants", err)
}

// UpdateTenant reads, modifies and writes a tenant in one transaction.
func (db *DB) UpdateTenant(ctx context.Context, id string, fn func(*actas.Tenant) error) (*actas.Tenant, error) {
	sel := tenantSelectQ + `id = ?`
	var out *actas.Tenant
	err := db.write(ctx, func(tx *sql.Tx) error {
		t, err := sqlrow.ScanTenant(tx.QueryRowContext(ctx, sel, id))
		if err != nil {
			return err
		}
		if err := fn(t); err != nil {
			return sqlrow.FnError{Err: err}
		}
		a, err := sqlrow.TenantArgs(t)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, tenantUpdateQ, append(a[1:], id)...); err != nil {
			return err
		}
		out, err = sqlrow.ScanTenant(tx.QueryRowContext(ctx, sel, id))
		return err
	})
	if err != nil {
		return nil, wrap("update tenant", err)
	}
	return out, nil
}

func insertAPIKey(ctx context.Context, tx *sql.Tx, k *actas.APIKey) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO api_keys (`+sqlrow.APIKeyCols+`) VALUES (`+placeholders(7)+`)`,
		sqlrow.APIKeyArgs(k)...)
	return err
}

// CreateAPIKey stores a new API key.
func (db *DB) CreateAPIKey(ctx context.Context, k *actas.APIKey) error {
	return wrap("create api key", db.write(ctx, func(tx *sql.Tx) error {
		return insertAPIKey(ctx, tx, k)
	}))
}

// APIKey returns the API key with this id.
func (db *DB) APIKey(ctx context.Context, id string) (*actas.APIKey, error) {
	k, err := sqlrow.ScanAPIKey(db.readRow(ctx, `SELECT `+sqlrow.APIKeyCols+` FROM api_keys WHERE id = ?`, id))
	if err != nil {
		return nil, wrap("api key", err)
	}
	return k, nil
}

// APIKeys returns a tenant's API keys, oldest first.
func (db *DB) APIKeys(ctx context.Context, tenantID string) ([]*actas.APIKey, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+sqlrow.APIKeyCols+` FROM api_keys WHERE tenant_id = ?
		ORDER BY created_at, id`, tenantID)
	if err != nil {
		return nil, wrap("api keys", err)
	}
	out, err := collect(rows, sqlrow.ScanAPIKey)
	return out, wrap("api keys", err)
}

// RevokeAPIKey marks a key revoked; a revoked key keeps its first
// revocation time.
func (db *DB) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	return wrap("revoke api key", db.write(ctx, func(tx *sql.Tx) error {
		return execOne(ctx, tx, `UPDATE api_keys SET revoked_at = CASE WHEN revoked_at = 0 THEN ? ELSE revoked_at END
			WHERE id = ?`, ms(at), id)
	}))
}

// TouchAPIKey records a use of the key. Concurrent touches keep the latest
// time.
func (db *DB) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	return wrap("touch api key", db.write(ctx, func(tx *sql.Tx) error {
		return execOne(ctx, tx, `UPDATE api_keys SET last_used_at = MAX(last_used_at, ?) WHERE id = ?`, ms(at), id)
	}))
}

// execOne runs a statement that must affect a row; none is ErrNotFound.
func execOne(ctx context.Context, tx *sql.Tx, query string, args ...any) error {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return actas.ErrNotFound
	}
	return nil
}

// collect scans every row and closes rows.
func collect[T any](rows *sql.Rows, scan func(scanner) (*T, error)) ([]*T, error) {
	defer rows.Close()
	return sqlrow.Collect(rows, scan)
}
