package issuer

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/token"
)

// RewrapResult says what RewrapKeys did.
type RewrapResult struct {
	Tenants   int // tenants whose keys were looked at
	Rewrapped int // keys re-sealed under the new master key
	Already   int // keys that were already sealed under it (an earlier, interrupted run)
}

// errSameMasterKey: the new master key opens what the current one sealed.
var errSameMasterKey = errors.New("ACTAS_NEW_MASTER_KEY is the current master key: nothing to do")

// RewrapKeys re-seals every tenant's private signing keys under next (a
// Sealer of the new master key), one transaction per tenant: each key is
// opened with the current master key, sealed under the new one, and the
// result is opened and parsed again with the new key, and compared,
// before the tenant's transaction commits. Keys the current master key
// cannot open but the new one can were re-sealed by an earlier run and
// are counted, not changed, so an interrupted run can be repeated. A key
// that opens with neither stops the run with an error; tenants done
// before it stay done. Nothing here logs or returns key material.
func (i *Issuer) RewrapKeys(ctx context.Context, next *token.Sealer) (*RewrapResult, error) {
	ts, err := i.store.Tenants(ctx)
	if err != nil {
		return nil, wrap("list tenants", err)
	}
	res := &RewrapResult{}
	for _, t := range ts {
		var rewrapped, already int
		_, err := i.store.UpdateSigningKeys(ctx, t.ID, func(keys []*actas.SigningKey) ([]*actas.SigningKey, error) {
			rewrapped, already = 0, 0 // fn may run again
			for _, k := range keys {
				sealed, done, err := i.rewrapKey(k, next)
				if err != nil {
					return nil, fmt.Errorf("tenant %s: %w", t.Name, err)
				}
				if done {
					already++
					continue
				}
				k.PrivateEnc = sealed
				rewrapped++
			}
			return keys, nil
		})
		if err != nil {
			return res, wrap("rewrap signing keys", err)
		}
		i.keys.forget(t.ID)
		res.Tenants++
		res.Rewrapped += rewrapped
		res.Already += already
	}
	return res, nil
}

// rewrapKey returns k's private key sealed under next, checked; or done
// if it already is.
func (i *Issuer) rewrapKey(k *actas.SigningKey, next *token.Sealer) (sealed []byte, done bool, err error) {
	aad := []byte(k.KID)
	plain, err := i.sealer.Open(k.PrivateEnc, aad)
	if err != nil {
		if p, err := next.Open(k.PrivateEnc, aad); err == nil {
			clear(p)
			return nil, true, nil
		}
		return nil, false, fmt.Errorf("signing key %s opens with neither the current nor the new master key", k.KID)
	}
	defer clear(plain)
	if p, err := next.Open(k.PrivateEnc, aad); err == nil {
		clear(p)
		return nil, false, errSameMasterKey
	}
	sealed = next.Seal(plain, aad)
	back, err := next.Open(sealed, aad)
	if err != nil || !bytes.Equal(back, plain) {
		clear(back)
		return nil, false, fmt.Errorf("signing key %s: the re-sealed key does not open with the new master key", k.KID)
	}
	clear(back)
	check := *k
	check.PrivateEnc = sealed
	if _, err := token.LoadKey(next, &check); err != nil {
		return nil, false, fmt.Errorf("signing key %s: the re-sealed key does not load with the new master key: %w", k.KID, err)
	}
	return sealed, false, nil
}
