package main

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/actas-dev/actas"
)

// faultMode is one storage fault: the error calls get, whether reads fail
// too (the database is gone) or only writes (a full disk, a read-only
// database), and whether calls hang until their deadline instead (a
// database host whose packets are dropped).
type faultMode struct {
	err   error
	reads bool
	hang  bool
}

// faultStore injects a fault into the store serve's issuer uses, below
// its storeguard, as the store itself would report it: an error wrapping
// actas.ErrUnavailable around the driver's error (the stores' own tests
// check that each driver error class maps to it, by code).
type faultStore struct {
	actas.Store
	mode atomic.Pointer[faultMode]
}

func (f *faultStore) fail(ctx context.Context, op string, write bool) error {
	m := f.mode.Load()
	switch {
	case m == nil || (!write && !m.reads):
		return nil
	case m.hang:
		<-ctx.Done()
		return fmt.Errorf("%s: %w: %w", op, actas.ErrUnavailable, ctx.Err())
	}
	return fmt.Errorf("%s: %w", op, m.err)
}

// Writes.
func (f *faultStore) CreateSession(ctx context.Context, s *actas.Session, rt *actas.RefreshToken, ev *actas.AuditEvent) error {
	if err := f.fail(ctx, "create session", true); err != nil {
		return err
	}
	return f.Store.CreateSession(ctx, s, rt, ev)
}

func (f *faultStore) UpdateSession(ctx context.Context, id string, fn func(*actas.Session) (*actas.RefreshToken, error)) (*actas.Session, error) {
	if err := f.fail(ctx, "update session", true); err != nil {
		return nil, err
	}
	return f.Store.UpdateSession(ctx, id, fn)
}

func (f *faultStore) AdvanceSession(ctx context.Context, id string, gen int, at time.Time, next *actas.RefreshToken) (bool, error) {
	if err := f.fail(ctx, "advance session", true); err != nil {
		return false, err
	}
	return f.Store.AdvanceSession(ctx, id, gen, at, next)
}

func (f *faultStore) RevokeSessions(ctx context.Context, q actas.RevokeQuery, at time.Time, reason string) ([]*actas.Session, error) {
	if err := f.fail(ctx, "revoke sessions", true); err != nil {
		return nil, err
	}
	return f.Store.RevokeSessions(ctx, q, at, reason)
}

func (f *faultStore) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	if err := f.fail(ctx, "touch api key", true); err != nil {
		return err
	}
	return f.Store.TouchAPIKey(ctx, id, at)
}

func (f *faultStore) ProbeWrite(ctx context.Context, at time.Time) error {
	if err := f.fail(ctx, "probe write", true); err != nil {
		return err
	}
	return f.Store.ProbeWrite(ctx, at)
}

// Reads.
func (f *faultStore) ConfigVersion(ctx context.Context) (int64, error) {
	if err := f.fail(ctx, "config version", false); err != nil {
		return 0, err
	}
	return f.Store.ConfigVersion(ctx)
}

func (f *faultStore) Ping(ctx context.Context) error {
	if err := f.fail(ctx, "ping", false); err != nil {
		return err
	}
	return f.Store.Ping(ctx)
}

func (f *faultStore) SessionByRefreshToken(ctx context.Context, hash []byte) (*actas.Session, *actas.RefreshToken, error) {
	if err := f.fail(ctx, "session by refresh token", false); err != nil {
		return nil, nil, err
	}
	return f.Store.SessionByRefreshToken(ctx, hash)
}

func (f *faultStore) RefreshLookup(ctx context.Context, hash []byte) (*actas.Session, *actas.RefreshToken, *actas.User, error) {
	if err := f.fail(ctx, "refresh lookup", false); err != nil {
		return nil, nil, nil, err
	}
	return f.Store.RefreshLookup(ctx, hash)
}

func (f *faultStore) UserByUsername(ctx context.Context, tenantID, username string) (*actas.User, error) {
	if err := f.fail(ctx, "user by username", false); err != nil {
		return nil, err
	}
	return f.Store.UserByUsername(ctx, tenantID, username)
}

func (f *faultStore) Revocations(ctx context.Context, after int64, now time.Time, limit int) ([]*actas.Revocation, error) {
	if err := f.fail(ctx, "revocations", false); err != nil {
		return nil, err
	}
	return f.Store.Revocations(ctx, after, now, limit)
}

// want503 checks a storage fault's answer: 503, Retry-After, the envelope.
func want503(t *testing.T, what string, r response) {
	t.Helper()
	if r.status != 503 || r.header.Get("Retry-After") == "" {
		t.Fatalf("%s: %d with Retry-After %q, want 503 with Retry-After; body %s", what, r.status, r.header.Get("Retry-After"), r.body)
	}
	wantError(t, r, 503, "")
}

// TestStorageFaultsAnswer503: for each class of storage fault, sign-in
// and refresh answer 503 with Retry-After and the error envelope (never
// 500), /readyz reports not ready while writes fail (reads still
// working or not), and everything comes back by itself once the fault
// clears, with the session acknowledged before the fault intact.
func TestStorageFaultsAnswer503(t *testing.T) {
	for _, c := range []struct {
		name string
		mode faultMode
	}{
		{"SQLite disk full", faultMode{err: fmt.Errorf("%w: database or disk is full (SQLITE_FULL)", actas.ErrUnavailable)}},
		{"SQLite read-only", faultMode{err: fmt.Errorf("%w: attempt to write a readonly database (SQLITE_READONLY)", actas.ErrUnavailable)}},
		{"SQLite I/O error", faultMode{err: fmt.Errorf("%w: disk I/O error (SQLITE_IOERR_FSYNC)", actas.ErrUnavailable)}},
		{"SQLite busy beyond its timeout", faultMode{err: fmt.Errorf("%w: database is locked (SQLITE_BUSY)", actas.ErrUnavailable)}},
		{"PostgreSQL disk full", faultMode{err: fmt.Errorf("%w: %w", actas.ErrUnavailable, &pgconn.PgError{Code: "53100"})}},
		{"PostgreSQL in recovery", faultMode{reads: true, err: fmt.Errorf("%w: %w", actas.ErrUnavailable, &pgconn.PgError{Code: "57P03"})}},
		{"PostgreSQL standby", faultMode{err: fmt.Errorf("%w: %w", actas.ErrUnavailable, &pgconn.PgError{Code: "25006"})}},
		{"PostgreSQL refused", faultMode{reads: true, err: fmt.Errorf("%w: %w", actas.ErrUnavailable, &pgconn.ConnectError{})}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			fs := &faultStore{}
			h.wrap = func(s actas.Store) actas.Store { fs.Store = s; return fs }
			h.serve()
			ten := h.createTenant("acme")
			h.createUser("acme", "alice", "alice-password")
			key := []string{"X-API-Key", ten.APIKey}
			before := h.signIn(ten.APIKey, "alice", "alice-password")
			waitReady(t, h, 200)

			mode := c.mode
			fs.mode.Store(&mode)
			want503(t, "sign in", h.do("POST", "/auth/token", map[string]string{"username": "alice", "password": "alice-password"}, key...))
			want503(t, "refresh", h.do("POST", "/auth/token", before, key...))
			if !c.mode.reads {
				if r := h.do("GET", "/"+ten.UserPoolID+"/.well-known/jwks.json", nil); r.status != 200 {
					t.Errorf("JWKS while only writes fail: %d", r.status)
				}
			}
			r := waitReady(t, h, 503)
			if !strings.Contains(string(r.body), "database_writes") {
				t.Errorf("/readyz while writes fail: %s, want database_writes named", r.body)
			}

			fs.mode.Store(nil)
			waitReady(t, h, 200)
			h.signIn(ten.APIKey, "alice", "alice-password")
			if r := h.do("POST", "/auth/token", before, key...); r.status != 200 {
				t.Errorf("refresh of the session from before the fault: %d %s", r.status, r.body)
			}
		})
	}
}

// TestStoreKnownDownFailsFast: when the database stops answering (calls
// hang), the first request waits out store_timeout and gets 503; while
// the store is known down the requests after it get 503 at once; when the
// database answers again, requests succeed by themselves.
func TestStoreKnownDownFailsFast(t *testing.T) {
	h := newHarness(t)
	fs := &faultStore{}
	h.wrap = func(s actas.Store) actas.Store { fs.Store = s; return fs }
	h.serve("--store-timeout", "400ms")
	ten := h.createTenant("acme")
	h.createUser("acme", "alice", "alice-password")
	key := []string{"X-API-Key", ten.APIKey}
	signIn := map[string]string{"username": "alice", "password": "alice-password"}
	h.signIn(ten.APIKey, "alice", "alice-password")

	fs.mode.Store(&faultMode{hang: true, reads: true})
	start := time.Now()
	want503(t, "first sign-in on a hung database", h.do("POST", "/auth/token", signIn, key...))
	if took := time.Since(start); took < 350*time.Millisecond || took > 1500*time.Millisecond {
		t.Errorf("first request on a hung database took %v, want about the 400ms store_timeout", took)
	}
	var slowest time.Duration
	for range 20 {
		start := time.Now()
		want503(t, "sign-in while known down", h.do("POST", "/auth/token", signIn, key...))
		slowest = max(slowest, time.Since(start))
	}
	t.Logf("slowest of 20 requests while known down: %v", slowest)
	if slowest > 300*time.Millisecond {
		t.Errorf("a request while the store is known down took %v: it waited for the database", slowest)
	}

	fs.mode.Store(nil)
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := h.do("POST", "/auth/token", signIn, key...)
		if r.status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %d 5 s after the database came back", r.status)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(h.logs.String(), "database answering again") {
		t.Error("the end of the outage was not logged")
	}
}
