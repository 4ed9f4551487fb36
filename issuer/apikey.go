package issuer

import (
	"time"

	"github.com/actas-dev/actas"
)

// NewAPIKey returns a fresh API key of a tenant, to store, and its secret,
// to hand out once: what CreateTenant and CreateAPIKey make, for tools
// that write tenants in bulk through the store (actas-bench tenants).
func NewAPIKey(tenantID, name string, now time.Time) (*actas.APIKey, string) {
	return newAPIKey(tenantID, name, now)
}
