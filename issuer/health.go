package issuer

import (
	"context"
	"errors"
	"fmt"
)

// What operators watch: readiness of the signing keys (the freshness of
// the revocation set is revocation.Set.LastSync). Nothing here is on a
// request path.

// ErrNoUsableKey means the master key opens none of a tenant's signing
// keys: the wrong ACTAS_MASTER_KEY, or corrupted key rows.
var ErrNoUsableKey = errors.New("the master key opens none of the tenant's signing keys")

// CheckSigningKeys reports whether signing keys can be loaded: with at
// least one tenant, the master key must open at least one key of the
// first tenant by id (one tenant is enough to detect a wrong master key, and
// the check stays cheap however many tenants there are). With no tenant
// there is nothing to open and it reports nil.
func (i *Issuer) CheckSigningKeys(ctx context.Context) error {
	tenants, err := i.store.TenantsAfter(ctx, "", 1) // one row, whatever the tenant count
	if err != nil {
		return fmt.Errorf("check signing keys: %w", err)
	}
	if len(tenants) == 0 {
		return nil
	}
	keys, err := i.store.SigningKeys(ctx, tenants[0].ID)
	if err != nil {
		return fmt.Errorf("check signing keys: %w", err)
	}
	if len(keys) == 0 {
		return nil // created on first use
	}
	for _, k := range keys {
		if _, err := i.sealer.Open(k.PrivateEnc, []byte(k.KID)); err == nil {
			return nil
		}
	}
	return ErrNoUsableKey
}
