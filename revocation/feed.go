package revocation

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/actas-dev/actas"
)

// The revocation feed: what a resource server follows (package verify) so
// that a revocation reaches it within about a second without a network
// call per request. It is a long poll over the store's revocation log: a
// caller names the last sequence number it has seen and gets every later
// revocation of its tenant, waiting up to a bound if there is none yet.
//
// Waiters wake when a Sync applies revocations: the periodic one (made
// elsewhere), or the one a local revocation (Add) asks for at once; it
// wakes the waiters of the tenants whose revocations it applied, and no
// others (feedwake.go). Once the first Sync has
// completed, waiters are answered from the in-memory ring that Sync
// feeds (feedring.go), not by a store read each.

// Feed limits.
const (
	// MaxFeedWait bounds how long one feed call may wait for news.
	MaxFeedWait = 30 * time.Second
	// MaxFeedWaiters bounds the feed calls waiting at once per process;
	// beyond it a call that would wait is refused with 503 at once.
	MaxFeedWaiters = 1024
	// feedPage is the page size read from the store; feedMaxPages bounds
	// how far one call scans past other tenants' revocations.
	feedPage     = 1000
	feedMaxPages = 10
)

var errFeedBusy = &actas.Error{Code: actas.EUNAVAILABLE, Message: "Too many revocation feed waiters, try again later", RetryAfter: 1}

// feedState is the waiter bookkeeping of a Set.
type feedState struct {
	waiters atomic.Int64
	mu      sync.Mutex
	stop    chan struct{} // closed by StopWaiters; nil until needed
}

func (f *feedState) stopped() chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stop == nil {
		f.stop = make(chan struct{})
	}
	return f.stop
}

// notifyLocked wakes every waiter of every tenant; r.mu must be held for
// writing. Sync wakes only the tenants it applies revocations of
// (feedwake.go).
func (r *Set) notifyLocked() {
	if r.changed == nil {
		r.changed = make(chan struct{})
		return
	}
	close(r.changed)
	r.changed = make(chan struct{})
}

// changedAll returns a channel closed at the next change of the set.
func (r *Set) changedAll() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.changed == nil {
		r.changed = make(chan struct{})
	}
	return r.changed
}

// FeedWaiters returns how many feed calls are waiting now.
func (r *Set) FeedWaiters() int64 { return r.feed.waiters.Load() }

// StopWaiters ends every feed wait, now and in future, so that a server
// shutting down is not held up by long polls (register it with
// http.Server.RegisterOnShutdown). Calling it twice is harmless.
func (r *Set) StopWaiters() {
	ch := r.feed.stopped()
	select {
	case <-ch:
	default:
		close(ch)
	}
}

// FeedEntry is one revocation as the feed publishes it: tokens whose jti
// or origin_jti equals ID must be refused until Exp.
type FeedEntry struct {
	Seq int64  `json:"seq"`
	ID  string `json:"id"`
	Exp int64  `json:"exp"` // Unix seconds
}

// Feed is one answer of the feed. Cursor is the sequence number to pass
// as after next time; it advances over other tenants' revocations too.
type Feed struct {
	Revocations []FeedEntry `json:"revocations"`
	Cursor      int64       `json:"cursor"`
}

// Feed returns the revocations of the tenant with a sequence number
// above after. If there are none it waits up to wait (at most
// MaxFeedWait) for one, and returns an empty list with the cursor when
// the wait ends, ctx ends or the server stops. The caller has
// authenticated the tenant.
func (r *Set) Feed(ctx context.Context, tenantID string, after int64, wait time.Duration) (*Feed, error) {
	if after < 0 {
		return nil, actas.Errorf(actas.EINVALID, "after must not be negative")
	}
	wait = min(max(wait, 0), MaxFeedWait)
	var timer <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timer = t.C
	}
	waiting := false
	defer func() {
		if waiting {
			r.feed.waiters.Add(-1)
		}
	}()
	f := &Feed{Revocations: []FeedEntry{}, Cursor: after}
	r.syncSoon.wait(ctx) // a local revocation's Sync, if pending
	for {
		// Take the channels before reading, so that a revocation committed
		// between the read and the wait still wakes us: the tenant's own
		// (feedwake.go), and the one for a local revocation before the
		// first Sync.
		changed := r.changedAll()
		mine, release := r.changedFor(tenantID)
		// Shared answer from memory when the cursor is recent
		// (feedring.go); the store only for an old cursor.
		if !r.fromRing(tenantID, f, r.now().Add(-Slack)) {
			if err := r.feedPages(ctx, tenantID, f); err != nil {
				return nil, err
			}
		}
		if len(f.Revocations) > 0 || wait == 0 {
			release()
			return f, nil
		}
		if !waiting {
			if r.feed.waiters.Add(1) > MaxFeedWaiters {
				r.feed.waiters.Add(-1)
				release()
				return nil, errFeedBusy
			}
			waiting = true
		}
		select {
		case <-changed:
		case <-mine:
		case <-timer:
			release()
			return f, nil
		case <-ctx.Done():
			release()
			return f, nil
		case <-r.feed.stopped():
			release()
			return f, nil
		}
		release()
	}
}

// feedPages appends the tenant's revocations after f.Cursor to f,
// scanning at most feedMaxPages pages of the shared log.
func (r *Set) feedPages(ctx context.Context, tenantID string, f *Feed) error {
	now := r.now().Add(-Slack)
	for range feedMaxPages {
		list, err := r.store.Revocations(ctx, f.Cursor, now, feedPage)
		if err != nil {
			return fmt.Errorf("revocation feed: %w", err)
		}
		for _, rv := range list {
			f.Cursor = max(f.Cursor, rv.Seq)
			if rv.TenantID == tenantID {
				// Round up: an entry must outlive every token it covers.
				exp := (rv.ExpiresAt.UnixMilli() + 999) / 1000
				f.Revocations = append(f.Revocations, FeedEntry{Seq: rv.Seq, ID: rv.ID, Exp: exp})
			}
		}
		if len(list) < feedPage || len(f.Revocations) > 0 {
			return nil
		}
	}
	return nil
}
