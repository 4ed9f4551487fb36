package revocation

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/actas-dev/actas"
)

// Set is the in-memory set of revoked ids (session ids and token ids),
// each kept until the last token it covers has expired. It is safe for
// concurrent use; lookups take a read lock only.
type Set struct {
	mu     sync.RWMutex     // first, with ids: what every lookup touches
	ids    map[string]int64 // id -> expiry, Unix milliseconds
	cursor int64            // highest store Seq seen
	// changed is closed and replaced whenever ids grow (see feed.go), so
	// that feed waiters wake at once.
	changed chan struct{}
	waiters tenantWaiters // per-tenant wake-ups of feed waiters (feedwake.go)
	feed    feedState
	synced  atomic.Int64 // wall clock of the last complete Sync, Unix ms (LastSync)
	// ring holds recent revocations for the feed (feedring.go); syncSoon
	// syncs after a local Add so that the ring sees it at once.
	ring     feedRing
	syncSoon syncer
	// store and now are what Sync and Feed read the log with.
	store actas.RevocationStore
	now   func() time.Time
}

// New returns an empty set that follows store's revocation log, with now
// as its clock (time.Now if nil). The store is read only by Start, Sync
// and Feed.
func New(store actas.RevocationStore, now func() time.Time) *Set {
	if now == nil {
		now = time.Now
	}
	return &Set{store: store, now: now, ids: make(map[string]int64), changed: make(chan struct{})}
}

// Revoked reports whether id is revoked.
func (r *Set) Revoked(id string) bool {
	r.mu.RLock()
	_, ok := r.ids[id]
	r.mu.RUnlock()
	return ok
}

// Add marks id revoked until exp. Call it after the revocation is
// committed to the store: it asks for a Sync, which brings the
// revocation to feed waiters.
func (r *Set) Add(id string, exp time.Time) {
	r.mu.Lock()
	r.ids[id] = exp.UnixMilli()
	if !r.ring.ready {
		r.notifyLocked() // waiters read the store themselves
	}
	r.mu.Unlock()
	r.syncSoon.request()
}

// Len returns the number of ids held.
func (r *Set) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.ids)
}

// Cursor returns the highest store sequence number applied.
func (r *Set) Cursor() int64 {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.cursor
}

// Sync applies every revocation the store holds beyond the cursor, so
// that revocations made by other replicas take effect here.
func (r *Set) Sync(ctx context.Context) error {
	const page = 1000
	now := r.now().Add(-Slack)
	for {
		list, err := r.store.Revocations(ctx, r.Cursor(), now, page)
		if err != nil {
			return fmt.Errorf("sync revocations: %w", err)
		}
		r.mu.Lock()
		for _, rv := range list {
			if cur, ok := r.ids[rv.ID]; !ok || cur < rv.ExpiresAt.UnixMilli() {
				r.ids[rv.ID] = rv.ExpiresAt.UnixMilli()
			}
			// A concurrent Sync may have applied it already: the ring
			// takes each Seq once, in order.
			if rv.Seq > r.cursor {
				r.ring.appendLocked(ringEntry{seq: rv.Seq, tenant: rv.TenantID, id: rv.ID, exp: rv.ExpiresAt.UnixMilli()})
				r.cursor = rv.Seq
			}
			r.wakeLocked(rv.TenantID)
		}
		done := len(list) < page
		if done {
			r.ring.ready = true
		}
		r.mu.Unlock()
		if done {
			r.synced.Store(time.Now().UnixMilli())
			return nil
		}
	}
}

// Slack is how long a revoked id is kept past the expiry of the
// tokens it covers: verifiers accept a token up to their clock skew (60 s)
// after its exp, so forgetting the revocation at exp would bring the token
// back for that long.
const Slack = time.Minute

// Prune forgets ids whose tokens have all expired at now.
func (r *Set) Prune(now time.Time) int {
	ms := now.Add(-Slack).UnixMilli()
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for id, exp := range r.ids {
		if exp < ms {
			delete(r.ids, id)
			n++
		}
	}
	return n
}

// LastSync returns when the last complete Sync finished (wall clock), or
// the zero time if none has. A replica whose last sync is old does not
// see revocations made by other replicas.
func (r *Set) LastSync() time.Time {
	ms := r.synced.Load()
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}
