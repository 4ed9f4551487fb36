package revocation

import (
	"context"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/sqlite"
)

// Two tenants' ids: the revocation log holds no reference to a tenant row.
const tenantA, tenantB = "tenant-a", "tenant-b"

// ringFixture is a started Set over a real SQLite store. It stands
// between the two as the store, counting the Set's reads of the
// revocation log, and is the Set's clock, which tests move.
type ringFixture struct {
	*sqlite.DB
	reads atomic.Int64
	now   atomic.Int64 // Unix milliseconds
	set   *Set
}

func (f *ringFixture) Revocations(ctx context.Context, after int64, now time.Time, limit int) ([]*actas.Revocation, error) {
	f.reads.Add(1)
	return f.DB.Revocations(ctx, after, now, limit)
}

func (f *ringFixture) clock() time.Time { return time.UnixMilli(f.now.Load()).UTC() }

func newRingFixture(t *testing.T) *ringFixture {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &ringFixture{DB: db}
	f.now.Store(time.Now().Truncate(time.Second).UnixMilli())
	f.set = New(f, f.clock)
	if err := f.set.Start(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	return f
}

// commit stores a revocation of the tenant expiring after ttl, as
// another process would: the set learns of it at its next Sync.
func (f *ringFixture) commit(t *testing.T, tenantID string, ttl time.Duration) *actas.Revocation {
	t.Helper()
	now := f.clock()
	rv := &actas.Revocation{TenantID: tenantID, ID: actas.NewID(), RevokedAt: now, ExpiresAt: now.Add(ttl)}
	if err := f.DB.RevokeToken(t.Context(), rv); err != nil {
		t.Fatal(err)
	}
	return rv
}

// revoke makes a revocation as the issuer does: it commits it, then adds
// it to the set.
func (f *ringFixture) revoke(t *testing.T, tenantID string, ttl time.Duration) {
	t.Helper()
	rv := f.commit(t, tenantID, ttl)
	f.set.Add(rv.ID, rv.ExpiresAt)
}

// synced waits until the set's cursor reaches the store's newest
// revocation (the Sync a local revocation asks for runs in the
// background).
func (f *ringFixture) synced(t *testing.T) {
	t.Helper()
	list, err := f.DB.Revocations(t.Context(), 0, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var top int64
	for _, r := range list {
		top = max(top, r.Seq)
	}
	deadline := time.Now().Add(5 * time.Second)
	for f.set.Cursor() < top {
		if time.Now().After(deadline) {
			t.Fatalf("cursor %d never reached %d", f.set.Cursor(), top)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestFeedRingAnswersAsTheStore: for every cursor, the feed's answer
// (from the ring inside its window, from the store before it) is what
// the store alone answers, across tenants, pages and expiry; only
// cursors older than the window read the store.
func TestFeedRingAnswersAsTheStore(t *testing.T) {
	defer func(n int) { feedRingSize = n }(feedRingSize)
	feedRingSize = 4
	f := newRingFixture(t)
	ctx := t.Context()
	for n := range 30 {
		tenant, ttl := tenantA, time.Hour
		if n%3 == 0 {
			tenant = tenantB
		}
		if n%4 == 0 {
			ttl = time.Minute // expires below
		}
		f.revoke(t, tenant, ttl)
	}
	f.synced(t)
	top := f.set.Cursor()
	if f.set.ring.lo == 0 {
		t.Fatalf("ring window starts at 0: it was never trimmed (%d entries)", len(f.set.ring.entries))
	}
	check := func() {
		t.Helper()
		for _, tenant := range []string{tenantA, tenantB} {
			for after := int64(0); after <= top+2; after++ {
				want := &Feed{Revocations: []FeedEntry{}, Cursor: after}
				if err := f.set.feedPages(ctx, tenant, want); err != nil {
					t.Fatal(err)
				}
				before := f.reads.Load()
				got, err := f.set.Feed(ctx, tenant, after, 0)
				if err != nil {
					t.Fatal(err)
				}
				// The store's cursor stops at the last unexpired entry it
				// read; the ring's may go on over expired ones, never
				// beyond what it has read.
				if !reflect.DeepEqual(got.Revocations, want.Revocations) || got.Cursor < want.Cursor ||
					got.Cursor > max(after, top) {
					t.Fatalf("tenant %s after %d: feed %+v, store %+v", tenant, after, got, want)
				}
				reads := f.reads.Load() - before
				if inWindow := after >= f.set.ring.lo; inWindow && reads != 0 {
					t.Errorf("after %d (window from %d): %d store reads", after, f.set.ring.lo, reads)
				} else if !inWindow && reads == 0 {
					t.Errorf("after %d (window from %d): answered without the store", after, f.set.ring.lo)
				}
			}
		}
	}
	check()
	f.now.Add((2 * time.Minute).Milliseconds()) // some revocations expire
	check()
}
