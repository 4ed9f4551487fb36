package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/internal/sqlrow"
)

var (
	tenantInsertQ = `INSERT INTO tenants (` + sqlrow.TenantCols + `) VALUES (` + placeholders(1, len(sqlrow.TenantWriteCols)+1) + `)`
	tenantSelectQ = `SELECT ` + sqlrow.TenantCols + ` FROM tenants WHERE `
	tenantUpdateQ = `UPDATE tenants SET ` + sqlrow.SetList(sqlrow.TenantWriteCols, pgPlaceholder) +
		fmt.Sprintf(` WHERE id = $%d RETURNING `, len(sqlrow.TenantWriteCols)+1) + sqlrow.TenantCols
)

// CreateTenant stores a tenant, its first API key (if any) and its first
// signing keys in one transaction.
func (db *DB) CreateTenant(ctx context.Context, t *actas.Tenant, key *actas.APIKey, keys []*actas.SigningKey) error {
	a, err := sqlrow.TenantArgs(t)
	if err != nil {
		return fmt.Errorf("create tenant: %w", err)
	}
	return wrap("create tenant", db.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, tenantInsertQ, a...); err != nil {
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

func (db *DB) tenantWhere(ctx context.Context, op, where string, arg any) (*actas.Tenant, error) {
	var t *actas.Tenant
	err := db.read(ctx, func(ctx context.Context, q querier) error {
		var err error
		t, err = sqlrow.ScanTenant(q.QueryRow(ctx, tenantSelectQ+where, arg))
		return err
	})
	if err != nil {
		return nil, wrap(op, err)
	}
	return t, nil
}

// Tenant returns the tenant with this id.
func (db *DB) Tenant(ctx context.Context, id string) (*actas.Tenant, error) {
	return db.tenantWhere(ctx, "tenant", "id = $1", id)
}

// TenantByName returns the tenant with this name.
func (db *DB) TenantByName(ctx context.Context, name string) (*actas.Tenant, error) {
	return db.tenantWhere(ctx, "tenant by name", "name = $1", name)
}

var tenantKeysQ = sqlrow.TenantKeysQuery("$1")

// TenantByPoolID returns the tenant with this user pool id and its keys'
// public halves, in one statement.
func (db *DB) TenantByPoolID(ctx context.Context, poolID string) (*actas.Tenant, []*actas.SigningKey, error) {
	var (
		t    *actas.Tenant
		keys []*actas.SigningKey
	)
	err := db.read(ctx, func(ctx context.Context, q querier) error {
		rows, err := q.Query(ctx, tenantKeysQ, poolID)
		if err != nil {
			return err
		}
		t, keys, err = sqlrow.CollectTenantKeys(rows)
		rows.Close()
		if err == nil && t == nil { // no such tenant, or one without keys
			t, err = sqlrow.ScanTenant(q.QueryRow(ctx, tenantSelectQ+"user_pool_id = $1", poolID))
		}
		return err
	})
	if err != nil {
		return nil, nil, wrap("tenant by pool id", err)
	}
	return t, keys, nil
}

// Tenants returns every tenant, by name (byte order, whatever the
// database's collation).
func (db *DB) Tenants(ctx context.Context) ([]*actas.Tenant, error) {
	var out []*actas.Tenant
	err := db.read(ctx, func(ctx context.Context, q querier) error {
		rows, err := q.Query(ctx, `SELECT `+sqlrow.TenantCols+` FROM tenants ORDER BY name COLLATE "C"`)
		if err != nil {
			return err
		}
		out, err = collect(rows, sqlrow.ScanTenant)
		return err
	})
	return out, wrap("tenants", err)
}

// UpdateTenant reads, modifies and writes a tenant in one transaction,
// holding the row lock (SELECT … FOR NO KEY UPDATE) from the read to the commit.
func (db *DB) UpdateTenant(ctx context.Context, id string, fn func(*actas.Tenant) error) (*actas.Tenant, error) {
	var out *actas.Tenant
	err := db.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		t, err := sqlrow.ScanTenant(tx.QueryRow(ctx, tenantSelectQ+`id = $1 FOR NO KEY UPDATE`, id))
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
		out, err = sqlrow.ScanTenant(tx.QueryRow(ctx, tenantUpdateQ, append(a[1:], id)...))
		return err
	})
	if err != nil {
		return nil, wrap("update tenant", err)
	}
	return out, nil
}

func insertAPIKey(ctx context.Context, q querier, k *actas.APIKey) error {
	_, err := q.Exec(ctx, `INSERT INTO api_keys (`+sqlrow.APIKeyCols+`) VALUES (`+placeholders(1, 7)+`)`,
		sqlrow.APIKeyArgs(k)...)
	return err
}

// CreateAPIKey stores a new API key.
func (db *DB) CreateAPIKey(ctx context.Context, k *actas.APIKey) error {
	return wrap("create api key", db.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return insertAPIKey(ctx, tx, k)
	}))
}

// APIKey returns the API key with this id.
func (db *DB) APIKey(ctx context.Context, id string) (*actas.APIKey, error) {
	var k *actas.APIKey
	err := db.read(ctx, func(ctx context.Context, q querier) error {
		var err error
		k, err = sqlrow.ScanAPIKey(q.QueryRow(ctx, `SELECT `+sqlrow.APIKeyCols+` FROM api_keys WHERE id = $1`, id))
		return err
	})
	if err != nil {
		return nil, wrap("api key", err)
	}
	return k, nil
}

// APIKeys returns a tenant's API keys, oldest first.
func (db *DB) APIKeys(ctx context.Context, tenantID string) ([]*actas.APIKey, error) {
	var out []*actas.APIKey
	err := db.read(ctx, func(ctx context.Context, q querier) error {
		rows, err := q.Query(ctx, `SELECT `+sqlrow.APIKeyCols+` FROM api_keys WHERE tenant_id = $1
			ORDER BY created_at, id COLLATE "C"`, tenantID)
		if err != nil {
			return err
		}
		out, err = collect(rows, sqlrow.ScanAPIKey)
		return err
	})
	return out, wrap("api keys", err)
}

// RevokeAPIKey marks a key revoked; a revoked key keeps its first
// revocation time.
func (db *DB) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	return wrap("revoke api key", db.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return execOne(ctx, tx, `UPDATE api_keys SET revoked_at = CASE WHEN revoked_at = 0 THEN $1 ELSE revoked_at END
			WHERE id = $2`, ms(at), id)
	}))
}

// TouchAPIKey records a use of the key. Concurrent touches keep the latest
// time.
func (db *DB) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	return wrap("touch api key", db.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return execOne(ctx, tx, `UPDATE api_keys SET last_used_at = GREATEST(last_used_at, $1) WHERE id = $2`, ms(at), id)
	}))
}
