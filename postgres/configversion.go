package postgres

import (
	"context"
	"fmt"
)

// ConfigVersion returns the number that triggers bump on every change to
// tenants, API keys and signing keys (migration 00002).
func (db *DB) ConfigVersion(ctx context.Context) (int64, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var v int64
	if err := db.pool.QueryRow(ctx, `SELECT v FROM config_version WHERE id = 1`).Scan(&v); err != nil {
		return 0, fmt.Errorf("config version: %w", mapErr(err))
	}
	return v, nil
}
