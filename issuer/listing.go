package issuer

import (
	"context"

	"github.com/actas-dev/actas"
)

// The listings the operator's CLI shows. They read the store as it is,
// errors unchanged: the CLI calls issuer operations only, so that a rule
// added to what may be listed (or how) lands in one place.

// Tenants returns every tenant.
func (i *Issuer) Tenants(ctx context.Context) ([]*actas.Tenant, error) {
	return i.store.Tenants(ctx)
}

// APIKeys returns a tenant's API keys, revoked ones included.
func (i *Issuer) APIKeys(ctx context.Context, tenantID string) ([]*actas.APIKey, error) {
	return i.store.APIKeys(ctx, tenantID)
}

// Users returns a tenant's users.
func (i *Issuer) Users(ctx context.Context, tenantID string) ([]*actas.User, error) {
	return i.store.Users(ctx, tenantID)
}

// Sessions returns the sessions f selects.
func (i *Issuer) Sessions(ctx context.Context, f actas.SessionFilter) ([]*actas.Session, error) {
	return i.store.Sessions(ctx, f)
}

// AuditEvents returns the audit events f selects, in ID order.
func (i *Issuer) AuditEvents(ctx context.Context, f actas.AuditFilter) ([]*actas.AuditEvent, error) {
	return i.store.AuditEvents(ctx, f)
}

// SigningKeys returns a tenant's signing keys in every state, oldest first.
func (i *Issuer) SigningKeys(ctx context.Context, tenantID string) ([]*actas.SigningKey, error) {
	return i.store.SigningKeys(ctx, tenantID)
}

// HoldsSealedKeys reports whether s already holds signing keys sealed
// under some master key: it does as soon as it has a tenant, since every
// tenant is created with its keys. A new master key must never be made
// for such a store, since it could open none of them. It is called
// before an Issuer exists, to decide which master key to build one with.
func HoldsSealedKeys(ctx context.Context, s actas.TenantChangeStore) (bool, error) {
	ts, err := s.TenantsAfter(ctx, "", 1) // one row, whatever the tenant count
	return len(ts) > 0, err
}
