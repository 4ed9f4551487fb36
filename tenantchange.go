package actas

import "context"

// TenantChangeStore is what lets a server with many tenants do work per
// tenant only where that tenant changed.
//
// Every change that ConfigVersion counts (tenants, API keys except
// TouchAPIKey, signing keys) is also logged, in the same transaction, as
// a ConfigChange naming its tenant, numbered by the version it moved
// ConfigVersion to: versions are consecutive, so a reader that has
// applied every change up to v and reads the changes after v knows
// whether it saw them all. The log keeps the last ConfigChangeWindow
// changes; a reader further behind must drop all it caches.
type TenantChangeStore interface {
	// ConfigChanges returns, in Version order, up to limit changes with
	// Version greater than after.
	ConfigChanges(ctx context.Context, after int64, limit int) ([]ConfigChange, error)
	// TenantsAfter returns up to limit tenants with an id greater than
	// afterID, in id order: a page of a scan over every tenant that costs
	// the same whatever their number ("" starts at the first).
	TenantsAfter(ctx context.Context, afterID string, limit int) ([]*Tenant, error)
}

// ConfigChange is one change to a tenant's cached configuration.
type ConfigChange struct {
	Version  int64
	TenantID string
}

// ConfigChangeWindow is how many of the latest changes the log keeps.
const ConfigChangeWindow = 10000
