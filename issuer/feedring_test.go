package issuer

import (
	"context"
	"path/filepath"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/password"
	"github.com/actas-dev/actas/sqlite"
	"github.com/actas-dev/actas/token"
)

// countingStore counts reads of the revocation log.
type countingStore struct {
	actas.Store
	reads atomic.Int64
}

func (s *countingStore) Revocations(ctx context.Context, after int64, now time.Time, limit int) ([]*actas.Revocation, error) {
	s.reads.Add(1)
	return s.Store.Revocations(ctx, after, now, limit)
}

type ringClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *ringClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *ringClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type ringFixture struct {
	i     *Issuer
	store *countingStore
	clock *ringClock
	users map[string]*actas.User // by tenant id
	a, b  *Client
}

func newRingFixture(t *testing.T) *ringFixture {
	t.Helper()
	ctx := t.Context()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cs := &countingStore{Store: db}
	mk, _ := token.ParseMasterKey(token.GenerateMasterKey())
	sealer, _ := token.NewSealer(mk)
	clk := &ringClock{t: time.Now().UTC().Truncate(time.Second)}
	i := New(Config{Store: cs, Sealer: sealer, Now: clk.Now, PublicURL: "http://localhost",
		Hasher: password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 1, 1, time.Second)})
	f := &ringFixture{i: i, store: cs, clock: clk, users: map[string]*actas.User{}}
	for _, name := range []string{"acme", "globex"} {
		tn, _, err := i.CreateTenant(ctx, CreateTenantRequest{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		u, err := i.CreateUser(ctx, CreateUserRequest{Tenant: name, Username: "u", Password: "password-1"})
		if err != nil {
			t.Fatal(err)
		}
		f.users[tn.ID] = u
		if name == "acme" {
			f.a = &Client{Tenant: tn}
		} else {
			f.b = &Client{Tenant: tn}
		}
	}
	if err := i.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return f
}

// session stores a session of c's tenant expiring after ttl.
func (f *ringFixture) session(t *testing.T, c *Client, ttl time.Duration) *actas.Session {
	t.Helper()
	now := f.clock.Now()
	s := &actas.Session{ID: actas.NewID(), TenantID: c.Tenant.ID, UserID: f.users[c.Tenant.ID].ID,
		AuthTime: now, ExpiresAt: now.Add(ttl), CreatedAt: now, Refreshable: true}
	if err := f.store.CreateSession(t.Context(), s, nil, nil); err != nil {
		t.Fatal(err)
	}
	return s
}

// synced waits until the issuer's cursor reaches the store's newest
// revocation (the Sync a local revocation asks for runs in the
// background).
func (f *ringFixture) synced(t *testing.T) {
	t.Helper()
	list, err := f.store.Store.Revocations(t.Context(), 0, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var top int64
	for _, r := range list {
		top = max(top, r.Seq)
	}
	deadline := time.Now().Add(5 * time.Second)
	for f.i.revoked.Cursor() < top {
		if time.Now().After(deadline) {
			t.Fatalf("cursor %d never reached %d", f.i.revoked.Cursor(), top)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestFeedWaitersShareOneRead: many long polls waiting on one process
// are all answered, correctly, by the single store read that follows a
// revocation, and waiters of another tenant are not answered.
func TestFeedWaitersShareOneRead(t *testing.T) {
	f := newRingFixture(t)
	ctx := t.Context()
	sa := f.session(t, f.a, time.Hour)
	f.session(t, f.b, time.Hour)
	cursor := f.i.revoked.Cursor()

	const waiters = 500
	type answer struct {
		feed *Feed
		err  error
	}
	answers := make(chan answer, waiters)
	for range waiters {
		go func() {
			fd, err := f.i.RevocationFeed(ctx, f.a, cursor, 20*time.Second)
			answers <- answer{fd, err}
		}()
	}
	// Another tenant's waiters must stay waiting: they end with the test.
	otherCtx, cancelOther := context.WithCancel(ctx)
	otherDone := make(chan *Feed, 10)
	for range 10 {
		go func() {
			fd, _ := f.i.RevocationFeed(otherCtx, f.b, cursor, 20*time.Second)
			otherDone <- fd
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for f.i.revoked.FeedWaiters() < waiters+10 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d waiters waiting", f.i.revoked.FeedWaiters())
		}
		time.Sleep(time.Millisecond)
	}

	before := f.store.reads.Load()
	if _, err := f.i.RevokeSession(ctx, sa.ID); err != nil {
		t.Fatal(err)
	}
	for range waiters {
		var a answer
		select {
		case a = <-answers:
		case <-time.After(10 * time.Second):
			t.Fatal("a waiter was not answered")
		}
		if a.err != nil {
			t.Fatal(a.err)
		}
		if len(a.feed.Revocations) != 1 || a.feed.Revocations[0].ID != sa.ID || a.feed.Cursor <= cursor ||
			a.feed.Revocations[0].Seq != a.feed.Cursor || a.feed.Revocations[0].Exp != sa.ExpiresAt.Unix() {
			t.Fatalf("answer = %+v, want the revocation of %s", a.feed, sa.ID)
		}
	}
	if n := f.store.reads.Load() - before; n != 1 {
		t.Errorf("%d waiters cost %d store reads of the revocation log, want 1", waiters, n)
	}
	select {
	case fd := <-otherDone:
		t.Fatalf("another tenant's waiter answered %+v", fd)
	case <-time.After(100 * time.Millisecond):
	}
	cancelOther()
	for range 10 {
		if fd := <-otherDone; len(fd.Revocations) != 0 {
			t.Fatalf("another tenant's waiter got %+v", fd)
		}
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
		c, ttl := f.a, time.Hour
		if n%3 == 0 {
			c = f.b
		}
		if n%4 == 0 {
			ttl = time.Minute // expires below
		}
		if _, err := f.i.RevokeSession(ctx, f.session(t, c, ttl).ID); err != nil {
			t.Fatal(err)
		}
	}
	f.synced(t)
	top := f.i.revoked.Cursor()
	if f.i.revoked.ring.lo == 0 {
		t.Fatalf("ring window starts at 0: it was never trimmed (%d entries)", len(f.i.revoked.ring.entries))
	}
	check := func() {
		t.Helper()
		for _, c := range []*Client{f.a, f.b} {
			for after := int64(0); after <= top+2; after++ {
				want := &Feed{Revocations: []FeedEntry{}, Cursor: after}
				if err := f.i.feedPages(ctx, c.Tenant.ID, want); err != nil {
					t.Fatal(err)
				}
				before := f.store.reads.Load()
				got, err := f.i.RevocationFeed(ctx, c, after, 0)
				if err != nil {
					t.Fatal(err)
				}
				// The store's cursor stops at the last unexpired entry it
				// read; the ring's may go on over expired ones, never
				// beyond what it has read.
				if !reflect.DeepEqual(got.Revocations, want.Revocations) || got.Cursor < want.Cursor ||
					got.Cursor > max(after, top) {
					t.Fatalf("tenant %s after %d: feed %+v, store %+v", c.Tenant.Name, after, got, want)
				}
				reads := f.store.reads.Load() - before
				if inWindow := after >= f.i.revoked.ring.lo; inWindow && reads != 0 {
					t.Errorf("after %d (window from %d): %d store reads", after, f.i.revoked.ring.lo, reads)
				} else if !inWindow && reads == 0 {
					t.Errorf("after %d (window from %d): answered without the store", after, f.i.revoked.ring.lo)
				}
			}
		}
	}
	check()
	f.clock.Add(2 * time.Minute) // some revocations expire
	check()
}
