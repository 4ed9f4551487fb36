package issuer

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/actas-dev/actas"
)

// Revocations is the in-memory set of revoked ids (session ids and token
// ids), each kept until the last token it covers has expired. It is safe
// for concurrent use; lookups take a read lock only.
type Revocations struct {
	mu     sync.RWMutex
	ids    map[string]int64 // id -> expiry, Unix milliseconds
	cursor int64            // highest store Seq seen
	// changed is closed and replaced whenever ids grow (see feed.go), so
	// that feed waiters wake at once.
	changed chan struct{}
	feed    feedState
	synced  atomic.Int64 // wall clock of the last complete Sync, Unix ms (health.go)
}

// NewRevocations returns an empty set.
func NewRevocations() *Revocations {
	return &Revocations{ids: make(map[string]int64), changed: make(chan struct{})}
}

// Revoked reports whether id is revoked.
func (r *Revocations) Revoked(id string) bool {
	r.mu.RLock()
	_, ok := r.ids[id]
	r.mu.RUnlock()
	return ok
}

// Add marks id revoked until exp.
func (r *Revocations) Add(id string, exp time.Time) {
	r.mu.Lock()
	r.ids[id] = exp.UnixMilli()
	r.notifyLocked()
	r.mu.Unlock()
}

// Len returns the number of ids held.
func (r *Revocations) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.ids)
}

// Cursor returns the highest store sequence number applied.
func (r *Revocations) Cursor() int64 {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.cursor
}

// Sync applies every revocation the store holds beyond the cursor, so
// that revocations made by other replicas take effect here.
func (r *Revocations) Sync(ctx context.Context, s actas.Store, now time.Time) error {
	const page = 1000
	for {
		list, err := s.Revocations(ctx, r.Cursor(), now, page)
		if err != nil {
			return fmt.Errorf("sync revocations: %w", err)
		}
		r.mu.Lock()
		for _, rv := range list {
			if cur, ok := r.ids[rv.ID]; !ok || cur < rv.ExpiresAt.UnixMilli() {
				r.ids[rv.ID] = rv.ExpiresAt.UnixMilli()
			}
			r.cursor = max(r.cursor, rv.Seq)
		}
		if len(list) > 0 {
			r.notifyLocked()
		}
		r.mu.Unlock()
		if len(list) < page {
			r.synced.Store(time.Now().UnixMilli())
			return nil
		}
	}
}

// Prune forgets ids whose tokens have all expired at now.
func (r *Revocations) Prune(now time.Time) int {
	ms := now.UnixMilli()
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
