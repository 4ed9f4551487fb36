package sqlite

import (
	"context"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/internal/sqlrow"
)

// ConfigChanges implements actas.TenantChangeStore (migration 00007).
func (db *DB) ConfigChanges(ctx context.Context, after int64, limit int) ([]actas.ConfigChange, error) {
	rows, err := db.r.QueryContext(brief(ctx), `SELECT v, tenant_id FROM config_changes WHERE v > ? ORDER BY v LIMIT ?`, after, limit)
	if err != nil {
		return nil, wrap("config changes", err)
	}
	defer rows.Close()
	var out []actas.ConfigChange
	for rows.Next() {
		var c actas.ConfigChange
		if err := rows.Scan(&c.Version, &c.TenantID); err != nil {
			return nil, wrap("config changes", err)
		}
		out = append(out, c)
	}
	return out, wrap("config changes", rows.Err())
}

// TenantsAfter implements actas.TenantChangeStore.
func (db *DB) TenantsAfter(ctx context.Context, afterID string, limit int) ([]*actas.Tenant, error) {
	rows, err := db.r.QueryContext(ctx, tenantSelectQ+`id > ? ORDER BY id LIMIT ?`, afterID, limit)
	if err != nil {
		return nil, wrap("tenants after", err)
	}
	out, err := collect(rows, sqlrow.ScanTenant)
	return out, wrap("tenants after", err)
}
