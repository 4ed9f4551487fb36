package issuer

import (
	"container/list"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/token"
)

// keyring keeps each tenant's signing keys: the public halves, in the
// tenant cache (tenantcache.go), for verification, JWKS and discovery;
// the private halves, unsealed only when the tenant first signs, in an
// LRU of their own (a parsed RSA private key is several KiB). The list of
// a tenant's keys and their states is read from the store again after a
// change to that tenant, so a rotation or an algorithm change made by
// another process is seen on the next request. A token naming an unknown
// kid reloads the list at most once per keyReloadEvery, so forged kids
// cannot hammer the store.
type keyring struct {
	store  actas.Store
	sealer *token.Sealer
	cache  *tenantCache

	mu     sync.Mutex
	size   int
	lru    *list.List               // of *token.Key with its private half, most recently used first
	byKID  map[string]*list.Element // kid -> element
	loadMu sync.Mutex               // one unsealing at a time per process is plenty
}

const keyReloadEvery = time.Second

type keySet struct {
	loadedAt time.Time
	keys     []publicKey
	stored   []*actas.SigningKey // the keys as stored, less their private halves; keys[i].meta is stored[i]
}

// publicKey is one key of a keySet: its public half kept as the stored
// DER (an RSA-2048 key is 294 bytes there, about 1.3 KiB parsed), parsed
// on the first verification with it. JWKS is kept serialised, so a
// tenant whose tokens are only checked against the verified-token cache
// (seen.go) never keeps a parsed key.
type publicKey struct {
	meta        *actas.SigningKey
	der         []byte
	retireUntil time.Time
	withdrawn   bool // withdrawn as compromised: never signs, never trusted (keywithdraw.go)
	parsed      atomic.Pointer[token.Key]
}

// public returns the parsed key, parsing it if keep is set and it was
// not; without keep a key not parsed yet is parsed and not kept.
func (k *publicKey) public(keep bool) (*token.Key, error) {
	if p := k.parsed.Load(); p != nil {
		return p, nil
	}
	sk := *k.meta
	sk.PublicDER = k.der
	p, err := token.PublicKey(&sk)
	if err != nil {
		return nil, err
	}
	if keep {
		k.parsed.Store(p)
	}
	return p, nil
}

// find returns the key kid of the set, or nil.
func (ks *keySet) find(kid string) *publicKey {
	for i := range ks.keys {
		if ks.keys[i].meta.KID == kid {
			return &ks.keys[i]
		}
	}
	return nil
}

// key returns the public key kid of the set, parsed. A tenant has a
// handful of keys, so a scan is as fast as a map and costs no memory.
func (ks *keySet) key(kid string) (*token.Key, bool) {
	for i := range ks.keys {
		if ks.keys[i].meta.KID == kid {
			p, err := ks.keys[i].public(true)
			return p, err == nil
		}
	}
	return nil, false
}

// keyEntry is a signing key with its private half (keyring.signer).
type keyEntry struct {
	*token.Key
	retireUntil time.Time
}

func newKeyring(s actas.Store, sealer *token.Sealer, cache *tenantCache, size int) *keyring {
	if size <= 0 {
		size = DefaultSigningKeyCache
	}
	return &keyring{store: s, sealer: sealer, cache: cache, size: size,
		lru: list.New(), byKID: make(map[string]*list.Element)}
}

// get returns the tenant's key set, loading it if it is not cached.
func (kr *keyring) get(ctx context.Context, tenantID string, now time.Time) (*keySet, error) {
	var ks *keySet
	kr.cache.with(tenantID, func(st *tenantState) { ks = st.keys })
	if ks != nil {
		return ks, nil
	}
	return kr.load(ctx, tenantID, now)
}

// reloadFor reloads the tenant's keys because kid was not found, unless
// they were loaded very recently. It returns the reloaded set if it now
// has the key.
func (kr *keyring) reloadFor(ctx context.Context, tenantID, kid string, now time.Time) (*keySet, bool) {
	var ks *keySet
	kr.cache.with(tenantID, func(st *tenantState) { ks = st.keys })
	if ks != nil && now.Sub(ks.loadedAt) < keyReloadEvery && now.Sub(ks.loadedAt) >= 0 {
		return nil, false
	}
	ks, err := kr.load(ctx, tenantID, now)
	if err != nil {
		return nil, false
	}
	return ks, ks.find(kid) != nil
}

// load reads the tenant's keys; their public halves are parsed when
// first needed, and no master key is needed.
func (kr *keyring) load(ctx context.Context, tenantID string, now time.Time) (*keySet, error) {
	v := kr.cache.version() // read before the keys: they are at least this new
	stored, err := kr.store.SigningKeys(ctx, tenantID)
	if err != nil {
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	ks := newKeySet(tenantID, stored, now)
	kr.cache.put(tenantID, v, func(st *tenantState) {
		st.keys, st.jwks = ks, nil
	})
	return ks, nil
}

// newKeySet makes the key set of a tenant's keys as stored, loaded at now.
func newKeySet(tenantID string, stored []*actas.SigningKey, now time.Time) *keySet {
	ks := &keySet{loadedAt: now, keys: make([]publicKey, len(stored)), stored: make([]*actas.SigningKey, len(stored))}
	metas := make([]actas.SigningKey, len(stored)) // one allocation for all
	for n, sk := range stored {
		meta := &metas[n]
		*meta = *sk
		// The private half is read again to sign; the tenant id is the
		// one string of the cache's.
		meta.PrivateEnc, meta.PublicDER, meta.TenantID = nil, nil, tenantID
		ks.stored[n] = meta
		ks.keys[n] = publicKey{meta: meta, der: sk.PublicDER, retireUntil: sk.RetireUntil,
			withdrawn: sk.State == actas.KeyWithdrawn}
	}
	return ks
}

// forget drops a tenant's cached keys (after a change on this node).
func (kr *keyring) forget(tenantID string) { kr.cache.forget(tenantID) }

// signer returns the key that signs tokens of the given use and algorithm
// at now (storedSigner), with its private half, which it unseals on first
// use. If no key of alg signs yet, the latest signing key of another
// algorithm does: the moment between a tenant's algorithm change and its
// new keys' commit.
func (kr *keyring) signer(ctx context.Context, tenantID string, ks *keySet, use, alg string, now time.Time) (*keyEntry, error) {
	best := storedSigner(ks.stored, use, alg, now)
	if best == nil {
		for _, other := range []string{actas.AlgRS256, actas.AlgES256, actas.AlgEdDSA} {
			if k := storedSigner(ks.stored, use, other, now); other != alg && k != nil &&
				(best == nil || keySince(k).After(keySince(best))) {
				best = k
			}
		}
	}
	if best == nil {
		return nil, fmt.Errorf("no %s signing key for %s tokens", alg, use)
	}
	priv, err := kr.private(ctx, tenantID, best.KID)
	if err != nil {
		return nil, err
	}
	return &keyEntry{Key: priv, retireUntil: best.RetireUntil}, nil
}

// private returns the key kid of the tenant with its private half.
func (kr *keyring) private(ctx context.Context, tenantID, kid string) (*token.Key, error) {
	if k := kr.cachedPrivate(kid); k != nil {
		return k, nil
	}
	kr.loadMu.Lock()
	defer kr.loadMu.Unlock()
	if k := kr.cachedPrivate(kid); k != nil {
		return k, nil
	}
	stored, err := kr.store.SigningKeys(ctx, tenantID)
	if err != nil {
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	for _, sk := range stored {
		if sk.KID != kid {
			continue
		}
		k, err := token.LoadKey(kr.sealer, sk)
		if err != nil {
			return nil, fmt.Errorf("load signing key %s: %w", sk.KID, err)
		}
		kr.mu.Lock()
		kr.byKID[kid] = kr.lru.PushFront(k)
		for kr.lru.Len() > kr.size {
			old := kr.lru.Remove(kr.lru.Back()).(*token.Key)
			delete(kr.byKID, old.KID)
		}
		kr.mu.Unlock()
		return k, nil
	}
	return nil, fmt.Errorf("load signing key %s: not found", kid)
}

// len returns how many private keys the keyring holds unsealed.
func (kr *keyring) len() int {
	kr.mu.Lock()
	defer kr.mu.Unlock()
	return kr.lru.Len()
}

func (kr *keyring) cachedPrivate(kid string) *token.Key {
	kr.mu.Lock()
	defer kr.mu.Unlock()
	if e := kr.byKID[kid]; e != nil {
		kr.lru.MoveToFront(e)
		return e.Value.(*token.Key)
	}
	return nil
}

// published returns the keys to publish in JWKS at now, parsed: every
// key except retired ones past RetireUntil and withdrawn ones. Keys not
// parsed yet are parsed for the caller and not kept.
func (ks *keySet) published(now time.Time) ([]*token.Key, error) {
	out := make([]*token.Key, 0, len(ks.keys))
	for i := range ks.keys {
		if ks.keys[i].publishedAt(now) {
			p, err := ks.keys[i].public(false)
			if err != nil {
				return nil, fmt.Errorf("load signing key %s: %w", ks.keys[i].meta.KID, err)
			}
			out = append(out, p)
		}
	}
	return out, nil
}

// publishedUntil returns when the set of keys published at now next
// changes (a retired key leaving JWKS), or the zero time if it does not
// without a change to the tenant's keys.
func (ks *keySet) publishedUntil(now time.Time) time.Time {
	var until time.Time
	for i := range ks.keys {
		k := &ks.keys[i]
		if k.publishedAt(now) && !k.retireUntil.IsZero() && (until.IsZero() || k.retireUntil.Before(until)) {
			until = k.retireUntil
		}
	}
	return until
}

func (k *publicKey) publishedAt(now time.Time) bool {
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
		if k.meta.KID != kid {
			continue
		}
		return k.publishedAt(now) || (allowExpired && !k.withdrawn)
	}
	return false
}
