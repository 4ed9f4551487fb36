package issuer

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/password"
	"github.com/actas-dev/actas/revocation"
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
		feed *revocation.Feed
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
	otherDone := make(chan *revocation.Feed, 10)
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
