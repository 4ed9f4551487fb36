package issuer

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/token"
)

// keyring keeps each tenant's parsed signing keys. Unsealing and parsing
// a key is the expensive part, so parsed keys are kept by kid for the
// life of the process; the list of a tenant's keys and their states is
// read from the store again whenever the store's ConfigVersion has moved,
// so a rotation or an algorithm change made by another process is seen
// on the next request. A token naming an unknown kid reloads the list at most
// once per keyReloadEvery, so forged kids cannot hammer the store.
type keyring struct {
	store   actas.Store
	sealer  *token.Sealer
	version func() int64 // the issuer's latest ConfigVersion

	mu     sync.Mutex
	sets   map[string]*keySet    // tenant id -> keys
	parsed map[string]*token.Key // kid -> parsed key
}

const keyReloadEvery = time.Second

type keySet struct {
	version  int64 // ConfigVersion it was read under
	loadedAt time.Time
	keys     []keyEntry
	byKID    map[string]*token.Key
}

type keyEntry struct {
	*token.Key
	activateAt  time.Time // zero: active since creation
	createdAt   time.Time
	retireUntil time.Time
	retired     bool // replaced by a rotation (it may sign until its successor activates)
	withdrawn   bool // withdrawn as compromised: never signs, never trusted (keywithdraw.go)
}

func newKeyring(s actas.Store, sealer *token.Sealer, version func() int64) *keyring {
	return &keyring{store: s, sealer: sealer, version: version,
		sets: make(map[string]*keySet), parsed: make(map[string]*token.Key)}
}

// get returns the tenant's key set, reloading it if the config version
// has moved since it was read.
func (kr *keyring) get(ctx context.Context, tenantID string, now time.Time) (*keySet, error) {
	kr.mu.Lock()
	ks := kr.sets[tenantID]
	kr.mu.Unlock()
	if ks != nil && ks.version == kr.version() {
		return ks, nil
	}
	return kr.load(ctx, tenantID, now)
}

// reloadFor reloads the tenant's keys because kid was not found, unless
// they were loaded very recently. It returns the reloaded set if it now
// has the key.
func (kr *keyring) reloadFor(ctx context.Context, tenantID, kid string, now time.Time) (*keySet, bool) {
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
	_, ok := ks.byKID[kid]
	return ks, ok
}

func (kr *keyring) load(ctx context.Context, tenantID string, now time.Time) (*keySet, error) {
	v := kr.version() // read before the keys: they are at least this new
	stored, err := kr.store.SigningKeys(ctx, tenantID)
	if err != nil {
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	ks := &keySet{version: v, loadedAt: now, byKID: make(map[string]*token.Key, len(stored))}
	for _, sk := range stored {
		kr.mu.Lock()
		k := kr.parsed[sk.KID]
		kr.mu.Unlock()
		if k == nil {
			if k, err = token.LoadKey(kr.sealer, sk); err != nil {
				return nil, fmt.Errorf("load signing key %s: %w", sk.KID, err)
			}
			kr.mu.Lock()
			kr.parsed[sk.KID] = k
			kr.mu.Unlock()
		}
		ks.keys = append(ks.keys, keyEntry{Key: k, activateAt: sk.ActivateAt, createdAt: sk.CreatedAt, retireUntil: sk.RetireUntil,
			retired:   sk.State == actas.KeyRetired || sk.State == actas.KeyWithdrawn,
			withdrawn: sk.State == actas.KeyWithdrawn})
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
func (ks *keySet) signer(use, alg string, now time.Time) (*keyEntry, error) {
	var best, other *keyEntry
	for i := range ks.keys {
		k := &ks.keys[i]
		if k.Use != use || k.activateAt.After(now) || k.withdrawn {
			continue
		}
		if k.Alg != alg {
			// Kept as a fallback for the moment between a tenant's
			// algorithm change and its new keys' commit.
			if other == nil || k.since().After(other.since()) {
				other = k
			}
			continue
		}
		if best == nil || k.since().After(best.since()) ||
			(k.since().Equal(best.since()) && best.retired && !k.retired) { // a replacement wins a tie
			best = k
		}
	}
	if best == nil {
		best = other
	}
	if best == nil {
		return nil, fmt.Errorf("no %s signing key for %s tokens", alg, use)
	}
	return best, nil
}

// published returns the keys to publish in JWKS at now: every key except
// retired ones past RetireUntil and withdrawn ones.
func (ks *keySet) published(now time.Time) []*token.Key {
	out := make([]*token.Key, 0, len(ks.keys))
	for i := range ks.keys {
		if ks.keys[i].publishedAt(now) {
			out = append(out, ks.keys[i].Key)
		}
	}
	return out
}

func (k *keyEntry) publishedAt(now time.Time) bool {
	return !k.withdrawn && (k.retireUntil.IsZero() || k.retireUntil.After(now))
}

// trusted reports whether actas accepts a token signed with kid at now:
// only with a key it publishes at now, as any verifier following JWKS
// would. With allowExpired (refresh and expire take an expired access
// token back, SPEC §3), a key that left JWKS because every token it
// signed had expired is still trusted for those expired tokens; a
// withdrawn key never is.
func (ks *keySet) trusted(kid string, now time.Time, allowExpired bool) bool {
	for i := range ks.keys {
		k := &ks.keys[i]
		if k.KID != kid {
			continue
		}
		return k.publishedAt(now) || (allowExpired && !k.withdrawn)
	}
	return false
}

// since is when the key started (or starts) signing.
func (k *keyEntry) since() time.Time {
	if k.activateAt.IsZero() {
		return k.createdAt
	}
	return k.activateAt
}
