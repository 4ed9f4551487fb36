package postgres

import (
	"context"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/internal/sqlrow"
)

// ConfigChanges implements actas.TenantChangeStore (migration 00007).
func (db *DB) ConfigChanges(ctx context.Context, after int64, limit int) ([]actas.ConfigChange, error) {
	var out []actas.ConfigChange
	err := db.read(ctx, func(ctx context.Context, q querier) error {
		rows, err := q.Query(ctx, `SELECT v, tenant_id FROM config_changes WHERE v > $1 ORDER BY v LIMIT $2`, after, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c actas.ConfigChange
			if err := rows.Scan(&c.Version, &c.TenantID); err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	return out, wrap("config changes", err)
}

// TenantsAfter implements actas.TenantChangeStore. Ids are compared and
// ordered in the column's collation, the primary key's, so a page is an
// index range scan; callers only pass back the last id they were given.
func (db *DB) TenantsAfter(ctx context.Context, afterID string, limit int) ([]*actas.Tenant, error) {
	var out []*actas.Tenant
	err := db.read(ctx, func(ctx context.Context, q querier) error {
		rows, err := q.Query(ctx, tenantSelectQ+`id > $1 ORDER BY id LIMIT $2`, afterID, limit)
		if err != nil {
			return err
		}
		out, err = collect(rows, sqlrow.ScanTenant)
		return err
	})
	return out, wrap("tenants after", err)
}
