package issuer

import (
	"container/list"
	"context"
	"sync"
	"time"

	"github.com/actas-dev/actas"
)

// The per-tenant cache: what changes rarely (a tenant, its API keys, its
// signing keys and the JWKS and discovery documents made from them) is
// kept in memory, per tenant, in an LRU of bounded size, so that a server
// with 100,000 tenants holds only the ones in use.
//
// Invalidation is per tenant. Every request reads the store's
// ConfigVersion (one small row); while it is unchanged every cached entry
// may be used. When it has moved, one request reads the change log
// (actas.TenantChangeStore) from the last version applied and drops the
// entries of the tenants it names, and only theirs: a change to tenant A
// makes no other tenant reload anything, on any replica. A replica too far
// behind for the log's window drops everything.
//
// An entry is stored only if the version applied when its load started
// is at least the version of its tenant's last change: a load that read
// the store before a change and finished after it was applied cannot put
// stale data back.

// Default cache sizes (Config.TenantCache, Config.SigningKeyCache): a
// cached tenant takes about 4 KiB, an unsealed RS256 key about 5 KiB, so
// full they hold about 8 and 5 MiB. A tenant not cached costs one store
// read on its next request (TenantByPoolID reads it with its keys).
const (
	DefaultTenantCache     = 2_000
	DefaultSigningKeyCache = 1_000
)

// configChangeBatch is how many changes one read of the log applies; a
// larger backlog drops every cached entry instead.
const configChangeBatch = 1000

type tenantCache struct {
	store actas.Store
	size  int

	mu      sync.Mutex
	lru     *list.List               // of *tenantState, most recently used first
	byID    map[string]*list.Element // tenant id -> element
	byPool  map[string]string        // userPoolId -> tenant id, of cached tenants
	apiKeys map[string]apiKeyEntry   // by key id; bounded to 4 per cached tenant
	applied int64                    // every change up to this version is applied; -1: none read

	syncMu sync.Mutex // one reader of the change log at a time
}

// tenantState is what is cached of one tenant. A nil field is not cached.
type tenantState struct {
	id      string
	changed int64 // the version of its last change applied (or applied when the state was made)
	tenant  *actas.Tenant
	keys    *keySet
	jwks    *Document
}

type apiKeyEntry struct {
	k       *actas.APIKey
	v       int64     // applied when it was loaded
	touched time.Time // last "last used" write
}

func newTenantCache(s actas.Store, size int) *tenantCache {
	if size <= 0 {
		size = DefaultTenantCache
	}
	return &tenantCache{store: s, size: size, lru: list.New(),
		byID: make(map[string]*list.Element), byPool: make(map[string]string),
		apiKeys: make(map[string]apiKeyEntry), applied: -1}
}

// len returns how many tenants' states the cache holds.
func (c *tenantCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// version returns the version applied so far: what a load tags its entry
// with, read before the load.
func (c *tenantCache) version() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.applied
}

// sync reads the store's ConfigVersion and, if it moved, applies the
// changes since the last one applied.
func (c *tenantCache) sync(ctx context.Context) error {
	v, err := c.store.ConfigVersion(ctx)
	if err != nil {
		return wrap("config version", err)
	}
	if v <= c.version() {
		return nil
	}
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	applied := c.version()
	if v <= applied {
		return nil // another request applied it meanwhile
	}
	if applied < 0 { // nothing is cached yet
		c.mu.Lock()
		c.applied = v
		c.mu.Unlock()
		return nil
	}
	changes, err := c.store.ConfigChanges(ctx, applied, configChangeBatch)
	if err != nil {
		return wrap("config changes", err)
	}
	complete := len(changes) > 0 && changes[0].Version == applied+1 && changes[len(changes)-1].Version >= v
	c.mu.Lock()
	defer c.mu.Unlock()
	if !complete {
		// Behind the log's window, or a backlog larger than a batch.
		c.lru.Init()
		clear(c.byID)
		clear(c.byPool)
		clear(c.apiKeys)
		c.applied = max(v, c.applied)
		if len(changes) > 0 {
			c.applied = max(c.applied, changes[len(changes)-1].Version)
		}
		return nil
	}
	for _, ch := range changes {
		if e := c.byID[ch.TenantID]; e != nil {
			c.resetLocked(e.Value.(*tenantState), ch.Version)
		}
		c.applied = max(c.applied, ch.Version)
	}
	return nil
}

// resetLocked drops what is cached of st after a change at version v.
func (c *tenantCache) resetLocked(st *tenantState, v int64) {
	if st.tenant != nil {
		delete(c.byPool, st.tenant.UserPoolID)
	}
	st.tenant, st.keys, st.jwks = nil, nil, nil
	st.changed = max(st.changed, v)
}

// forget drops what is cached of one tenant after a change made on this
// node, so that it takes effect here at once (the change log brings it to
// other replicas).
func (c *tenantCache) forget(tenantID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.byID[tenantID]; e != nil {
		// Above every version an entry can have been loaded under until
		// the change, which moved the store's version, is applied.
		c.resetLocked(e.Value.(*tenantState), c.applied+1)
	}
}

// stateLocked returns the tenant's state, made (and the least recently
// used one evicted) if needed, and marks it used.
func (c *tenantCache) stateLocked(tenantID string) *tenantState {
	if e := c.byID[tenantID]; e != nil {
		c.lru.MoveToFront(e)
		return e.Value.(*tenantState)
	}
	st := &tenantState{id: tenantID, changed: c.applied}
	c.byID[tenantID] = c.lru.PushFront(st)
	for c.lru.Len() > c.size {
		c.evictLocked(c.lru.Back())
	}
	return st
}

// evictLocked drops a tenant's state from the cache altogether.
func (c *tenantCache) evictLocked(e *list.Element) {
	st := e.Value.(*tenantState)
	if st.tenant != nil {
		delete(c.byPool, st.tenant.UserPoolID)
	}
	delete(c.byID, st.id)
	c.lru.Remove(e)
}

// with runs fn on the tenant's state under the cache lock.
func (c *tenantCache) with(tenantID string, fn func(st *tenantState)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fn(c.stateLocked(tenantID))
}

// put runs fn on the tenant's state if an entry loaded under version v
// may be stored: no change to the tenant has been applied since.
func (c *tenantCache) put(tenantID string, v int64, fn func(st *tenantState)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.stateLocked(tenantID); v >= 0 && v >= st.changed {
		fn(st)
	}
}

// tenant returns the tenant with this id, from the cache if it can.
func (c *tenantCache) tenant(ctx context.Context, id string) (*actas.Tenant, error) {
	var t *actas.Tenant
	c.with(id, func(st *tenantState) { t = st.tenant })
	if t != nil {
		return t, nil
	}
	v := c.version()
	t, err := c.store.Tenant(ctx, id)
	if err != nil {
		return nil, err
	}
	c.putTenant(t, v, nil)
	return t, nil
}

// tenantByPool returns the tenant with this userPoolId, from the cache if
// it can. A tenant not cached is read with its keys (one store read), so
// that its first request on a public endpoint (JWKS, discovery, the
// sign-in page) reads nothing more; the keys are kept as loaded at now.
func (c *tenantCache) tenantByPool(ctx context.Context, poolID string, now time.Time) (*actas.Tenant, error) {
	c.mu.Lock()
	var t *actas.Tenant
	if id, ok := c.byPool[poolID]; ok {
		t = c.stateLocked(id).tenant
	}
	c.mu.Unlock()
	if t != nil {
		return t, nil
	}
	v := c.version()
	t, stored, err := c.store.TenantByPoolID(ctx, poolID)
	if err != nil {
		return nil, err
	}
	ks := newKeySet(t.ID, stored, now)
	c.putTenant(t, v, func(st *tenantState) {
		if st.keys == nil { // a set already cached may have a document made from it
			st.keys, st.jwks = ks, nil
		}
	})
	return t, nil
}

// putTenant caches t, loaded under version v, and runs also (if not nil)
// on its state if it is stored.
func (c *tenantCache) putTenant(t *actas.Tenant, v int64, also func(*tenantState)) {
	t.Settings = t.Settings.WithDefaults()
	c.put(t.ID, v, func(st *tenantState) {
		st.tenant = t
		c.byPool[t.UserPoolID] = t.ID
		if also != nil {
			also(st)
		}
	})
}

// apiKey returns the API key with this id, from the cache if it can. A
// cached key is used while its tenant's state is cached and unchanged.
func (c *tenantCache) apiKey(ctx context.Context, id string) (*actas.APIKey, error) {
	c.mu.Lock()
	e, ok := c.apiKeys[id]
	if ok && e.k != nil {
		if el := c.byID[e.k.TenantID]; el != nil && e.v >= el.Value.(*tenantState).changed {
			c.mu.Unlock()
			return e.k, nil
		}
	}
	v := c.applied
	c.mu.Unlock()
	k, err := c.store.APIKey(ctx, id)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.stateLocked(k.TenantID) // the key is valid while this state lives
	if v >= 0 && v >= st.changed {
		if len(c.apiKeys) >= 4*c.size {
			clear(c.apiKeys)
		}
		c.apiKeys[id] = apiKeyEntry{k: k, v: v, touched: e.touched}
	}
	return k, nil
}

// touchDue reports whether the key's "last used" is due to be written,
// and if so records that it is being written now.
func (c *tenantCache) touchDue(id string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.apiKeys[id] // if not cached, remembered without the key
	if !ok && len(c.apiKeys) >= 4*c.size {
		clear(c.apiKeys)
	}
	if now.Sub(e.touched) < apiKeyTouchGap {
		return false
	}
	e.touched = now
	c.apiKeys[id] = e
	return true
}
