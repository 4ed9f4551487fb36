package sqlrow

import (
	"fmt"
	"strings"

	"github.com/actas-dev/actas"
)

// SigningKeyWriteCols are the signing_keys table's columns an update
// writes (all but kid and tenant), in SigningKeyArgs's order after those two.
var SigningKeyWriteCols = []string{"key_use", "alg", "state", "private_enc", "public_der", "created_at",
	"activate_at", "retire_until"}

// SigningKeyCols is the signing_keys table's column list: kid, tenant_id,
// then SigningKeyWriteCols.
var SigningKeyCols = "kid, tenant_id, " + strings.Join(SigningKeyWriteCols, ", ")

// signingKeyPublicCols are the columns of a key TenantKeysQuery reads:
// SigningKeyCols less tenant_id and private_enc.
const signingKeyPublicCols = "kid, key_use, alg, state, public_der, created_at, activate_at, retire_until"

// ScanSigningKey scans a row of SigningKeyCols.
func ScanSigningKey(row Scanner) (*actas.SigningKey, error) {
	var r signingKeyRow
	if err := row.Scan(r.dest(true)...); err != nil {
		return nil, err
	}
	return r.key(), nil
}

// signingKeyRow is a row of SigningKeyCols (private) or of
// signingKeyPublicCols as scanned, before decoding.
type signingKeyRow struct {
	k                         actas.SigningKey
	created, activate, retire int64
}

func (r *signingKeyRow) dest(private bool) []any {
	if !private {
		return []any{&r.k.KID, &r.k.Use, &r.k.Alg, &r.k.State, &r.k.PublicDER, &r.created, &r.activate, &r.retire}
	}
	return []any{&r.k.KID, &r.k.TenantID, &r.k.Use, &r.k.Alg, &r.k.State, &r.k.PrivateEnc, &r.k.PublicDER,
		&r.created, &r.activate, &r.retire}
}

// key returns the key scanned, a copy: the row can be scanned again.
func (r *signingKeyRow) key() *actas.SigningKey {
	k := r.k
	k.CreatedAt, k.ActivateAt, k.RetireUntil = FromMS(r.created), FromMS(r.activate), FromMS(r.retire)
	return &k
}

// SigningKeyArgs returns the values of SigningKeyCols for k; without the
// first two (kid, tenant), those of SigningKeyWriteCols.
func SigningKeyArgs(k *actas.SigningKey) []any {
	return []any{k.KID, k.TenantID, k.Use, k.Alg, k.State, Blob(k.PrivateEnc), Blob(k.PublicDER),
		MS(k.CreatedAt), MS(k.ActivateAt), MS(k.RetireUntil)}
}

// ApplySigningKeys is the body of UpdateSigningKeys's transaction, the same
// on every database: keys are the tenant's keys as read (under the store's
// lock), fn the caller's change. Keys in fn's result whose kid is new go to
// insert (with the tenant set), the others to update; a key of another
// tenant is refused. An error of fn comes back as a FnError.
func ApplySigningKeys(tenantID string, keys []*actas.SigningKey, fn func([]*actas.SigningKey) ([]*actas.SigningKey, error),
	insert, update func(*actas.SigningKey) error) error {
	existing := make(map[string]bool, len(keys))
	for _, k := range keys {
		existing[k.KID] = true
	}
	keys, err := fn(keys)
	if err != nil {
		return FnError{err}
	}
	for _, k := range keys {
		if k.TenantID != "" && k.TenantID != tenantID {
			return fmt.Errorf("key %q belongs to another tenant", k.KID)
		}
		if !existing[k.KID] {
			nk := *k
			nk.TenantID = tenantID
			if err := insert(&nk); err != nil {
				return err
			}
			continue
		}
		if err := update(k); err != nil {
			return err
		}
	}
	return nil
}
