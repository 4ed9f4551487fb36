package issuer

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/token"
)

// keyring caches each tenant's parsed signing keys. Keys are reloaded from
// the store when a token names an unknown kid (at most once per
// reloadEvery per tenant, so forged kids cannot hammer the store) and
// after maxAge, so that a rotation made elsewhere is picked up.
type keyring struct {
	store  actas.Store
	sealer *token.Sealer

	mu   sync.Mutex
	sets map[string]*keySet // tenant id -> keys
}

const (
	keyMaxAge      = 30 * time.Second
	keyReloadEvery = time.Second
)

type keySet struct {
	loadedAt time.Time
	keys     []keyEntry
	byKID    map[string]*token.Key
}

type keyEntry struct {
	*token.Key
	activateAt time.Time // zero: active since creation
	createdAt  time.Time
}

func newKeyring(s actas.Store, sealer *token.Sealer) *keyring {
	return &keyring{store: s, sealer: sealer, sets: make(map[string]*keySet)}
}

// get returns the tenant's key set, loading it if absent or stale.
func (kr *keyring) get(ctx context.Context, tenantID string, now time.Time) (*keySet, error) {
	kr.mu.Lock()
	ks := kr.sets[tenantID]
	kr.mu.Unlock()
	if ks != nil && now.Sub(ks.loadedAt) < keyMaxAge && now.Sub(ks.loadedAt) >= 0 {
		return ks, nil
	}
	return kr.load(ctx, tenantID, now)
}

// reloadFor reloads the tenant's keys because kid was not found, unless
// they were loaded very recently. It returns the key if it now exists.
func (kr *keyring) reloadFor(ctx context.Context, tenantID, kid string, now time.Time) (*token.Key, bool) {
	kr.mu.Lock()
	ks := kr.sets[tenantID]
	kr.mu.Unlock()
	if ks != nil && now.Sub(ks.loadedAt) < keyReloadEvery && now.Sub(ks.loadedAt) >= 0 {
		return nil, false
	}
	ks, err := kr.load(ctx, tenantID, now)
	if err != nil {
		return nil, false
	}
	k, ok := ks.byKID[kid]
	return k, ok
}

func (kr *keyring) load(ctx context.Context, tenantID string, now time.Time) (*keySet, error) {
	stored, err := kr.store.SigningKeys(ctx, tenantID)
	if err != nil {
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	ks := &keySet{loadedAt: now, byKID: make(map[string]*token.Key, len(stored))}
	for _, sk := range stored {
		k, err := token.LoadKey(kr.sealer, sk)
		if err != nil {
			return nil, fmt.Errorf("load signing key %s: %w", sk.KID, err)
		}
		ks.keys = append(ks.keys, keyEntry{Key: k, activateAt: sk.ActivateAt, createdAt: sk.CreatedAt})
		ks.byKID[k.KID] = k
	}
	kr.mu.Lock()
	kr.sets[tenantID] = ks
	kr.mu.Unlock()
	return ks, nil
}

// forget drops a tenant's cached keys (after a rotation on this node).
func (kr *keyring) forget(tenantID string) {
	kr.mu.Lock()
	delete(kr.sets, tenantID)
	kr.mu.Unlock()
}

// signer returns the key that signs tokens of the given use and algorithm
// at now: among keys already activated, the one activated last. A key
// published ahead of its activation (a "next" key) does not sign until
// its time comes, and a retired key never outlives its successor's
// activation.
func (ks *keySet) signer(use, alg string, now time.Time) (*token.Key, error) {
	var best *keyEntry
	for i := range ks.keys {
		k := &ks.keys[i]
		if k.Use != use || k.Alg != alg || k.activateAt.After(now) {
			continue
		}
		if best == nil || k.since().After(best.since()) {
			best = k
		}
	}
	if best == nil {
		return nil, fmt.Errorf("no %s signing key for %s tokens", alg, use)
	}
	return best.Key, nil
}

// published returns the keys to publish in JWKS at now: every key except
// retired ones past RetireUntil.
func (ks *keySet) published(now time.Time) []*token.Key {
	out := make([]*token.Key, 0, len(ks.keys))
	for _, k := range ks.keys {
		if !k.RetireUntil.IsZero() && !k.RetireUntil.After(now) {
			continue
		}
		out = append(out, k.Key)
	}
	return out
}

// since is when the key started (or starts) signing.
func (k *keyEntry) since() time.Time {
	if k.activateAt.IsZero() {
		return k.createdAt
	}
	return k.activateAt
}
