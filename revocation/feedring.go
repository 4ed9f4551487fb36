package revocation

import (
	"context"
	"sort"
	"sync"
	"time"
)

// The feed's ring: recent revocations held in memory so that feed
// waiters share the store reads of Set.Sync instead of each
// reading the store when woken (with MaxFeedWaiters waiting, one
// revocation used to cost up to that many reads).
//
// Sync reads the store's log in Seq order and appends what it reads to
// the ring under the same lock that advances the cursor, so the ring
// holds every revocation with ringLo < Seq <= cursor that had not
// expired when it was read; an expired one would not be returned by the
// store either. A feed call whose cursor is at least ringLo is answered
// from the ring, exactly as the store would answer up to the cursor; an
// older cursor is answered from the store (feedPages), and its next call
// is usually inside the window. Revocations committed after the last
// Sync are not in the ring yet: the answer's cursor stops at the ring's,
// so the next call gets them, in order, without a gap.
//
// A local revocation (Add) asks for a Sync at once (syncSoon), so a
// waiter sees it about as soon as before, and many local revocations in
// a burst cost at most two reads. A feed call first waits for such a
// pending Sync, so that a client that revoked on this process and then
// asks the feed sees its revocation. A revocation made by another
// process reaches the ring with the next periodic Sync (every second,
// or at once on PostgreSQL's notification), as it reached waiters before.

// feedRingSize is how many revocations the ring keeps at least (it trims
// to this size when it reaches twice as many). A variable for tests.
var feedRingSize = 4096

type ringEntry struct {
	seq    int64
	tenant string
	id     string
	exp    int64 // Unix milliseconds
}

// feedRing is the ring state of a Set, guarded by its mu.
type feedRing struct {
	entries []ringEntry // in Seq order
	lo      int64       // every revocation in (lo, cursor] is held (if unexpired when read)
	ready   bool        // a Sync has completed: the ring may answer
}

// appendLocked adds a revocation read by Sync; r.mu is held for writing
// and rv.Seq is above the cursor.
func (g *feedRing) appendLocked(e ringEntry) {
	g.entries = append(g.entries, e)
	if n := len(g.entries); n > 2*feedRingSize {
		drop := n - feedRingSize
		g.lo = g.entries[drop-1].seq
		g.entries = append(make([]ringEntry, 0, 2*feedRingSize), g.entries[drop:]...)
	}
}

// fromRing appends to f the revocations of tenantID after f.Cursor that
// the ring holds (at most feedPage) and advances f.Cursor. It returns
// false, changing nothing, when the ring cannot answer: before the
// first Sync, or for a cursor older than its window.
func (r *Set) fromRing(tenantID string, f *Feed, now time.Time) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	g := &r.ring
	if !g.ready || f.Cursor < g.lo {
		return false
	}
	nowMS := now.UnixMilli()
	i := sort.Search(len(g.entries), func(i int) bool { return g.entries[i].seq > f.Cursor })
	for ; i < len(g.entries); i++ {
		e := &g.entries[i]
		if e.tenant != tenantID || e.exp < nowMS {
			continue
		}
		// Round up: an entry must outlive every token it covers.
		f.Revocations = append(f.Revocations, FeedEntry{Seq: e.seq, ID: e.id, Exp: (e.exp + 999) / 1000})
		if len(f.Revocations) >= feedPage {
			f.Cursor = e.seq
			return true
		}
	}
	f.Cursor = max(f.Cursor, r.cursor)
	return true
}

// syncer runs a Sync soon after it is asked, coalescing requests: while
// one runs, any number of requests cause exactly one more run, which
// starts after them (so it sees what they committed).
type syncer struct {
	mu      sync.Mutex
	running bool
	again   bool
	idle    chan struct{} // closed when running ends
	run     func()        // nil: requests are ignored
}

// wait returns once no run is pending, or when ctx ends: a feed call
// made after a local revocation answered sees it (read your writes).
func (s *syncer) wait(ctx context.Context) {
	s.mu.Lock()
	if !s.running {
		s.mu.Unlock()
		return
	}
	ch := s.idle
	s.mu.Unlock()
	select {
	case <-ch:
	case <-ctx.Done():
	}
}

func (s *syncer) request() {
	s.mu.Lock()
	if s.run == nil {
		s.mu.Unlock()
		return
	}
	if s.running {
		s.again = true
		s.mu.Unlock()
		return
	}
	s.running = true
	s.idle = make(chan struct{})
	run := s.run
	s.mu.Unlock()
	go func() {
		for {
			run()
			s.mu.Lock()
			if !s.again {
				s.running = false
				close(s.idle)
				s.mu.Unlock()
				return
			}
			s.again = false
			s.mu.Unlock()
		}
	}()
}

// Start loads the set from the store (a first Sync), then makes every
// Add ask for a Sync at once, so that feed waiters (answered from the
// ring) see a local revocation at once. onError, if set, hears of those
// Syncs' failures. Call it once, before serving.
func (r *Set) Start(ctx context.Context, onError func(error)) error {
	if err := r.Sync(ctx); err != nil {
		return err
	}
	r.syncSoon.mu.Lock()
	r.syncSoon.run = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := r.Sync(ctx); err != nil && onError != nil {
			onError(err)
		}
	}
	r.syncSoon.mu.Unlock()
	return nil
}
