package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/actas-dev/actas"
)

// concurrencyTests check the guarantees replicas sharing one database
// rely on, with many callers at once: what a SQLite store gets from its
// single writer, a networked store must get from locks and ordering.
var concurrencyTests = []test{
	{"FollowRevocationsWhileAppending", testFollowRevocationsWhileAppending},
	{"RevokeOverlappingRacing", testRevokeOverlappingRacing},
	{"RefreshAndRevokeRacing", testRefreshAndRevokeRacing},
	{"ChildAndParentRevokeRacing", testChildAndParentRevokeRacing},
}

// testFollowRevocationsWhileAppending: writers append revocations (single
// tokens and sessions) at once while a follower reads them by cursor, as
// revocation.Set.Sync does. The follower must end with every one: a
// store whose Seq values become visible out of order (a sequence
// allocated before, committed after a larger one) makes a follower move
// its cursor past a row it has not seen yet, and lose it for ever.
func testFollowRevocationsWhileAppending(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	u := mustCreateUser(t, s, tn.ID, "alice")
	const writers, each = 6, 20
	sessions := make([][]*actas.Session, writers)
	for w := range writers {
		for range each / 2 {
			sessions[w] = append(sessions[w], mustCreateSession(t, s, newSession(u)))
		}
	}

	seen := map[string]int{}
	var cursor int64
	follow := func() {
		for {
			rs, err := s.Revocations(ctx, cursor, at(0), 7)
			if err != nil {
				t.Errorf("follower: %v", err)
				return
			}
			for _, r := range rs {
				if r.Seq <= cursor {
					t.Errorf("follower: Seq %d returned after cursor %d", r.Seq, cursor)
				}
				seen[r.ID]++
				cursor = r.Seq
			}
			if len(rs) < 7 {
				return
			}
		}
	}

	done := make(chan struct{})
	followed := make(chan struct{})
	go func() {
		defer close(followed)
		for {
			select {
			case <-done:
				return
			default:
				follow()
			}
		}
	}()
	want := map[string]bool{}
	var mu sync.Mutex
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			<-start
			for i := range each {
				if i%2 == 0 {
					id := fmt.Sprintf("jti-%d-%d", w, i)
					mu.Lock()
					want[id] = true
					mu.Unlock()
					if err := s.RevokeToken(ctx, &actas.Revocation{TenantID: tn.ID, ID: id, RevokedAt: at(0),
						ExpiresAt: at(time.Hour)}); err != nil {
						t.Errorf("writer %d: revoke token: %v", w, err)
					}
					continue
				}
				sess := sessions[w][i/2]
				mu.Lock()
				want[sess.ID] = true
				mu.Unlock()
				if _, err := s.RevokeSessions(ctx, actas.RevokeQuery{TenantID: tn.ID, SessionID: sess.ID},
					at(0), actas.ReasonLogout); err != nil {
					t.Errorf("writer %d: revoke session: %v", w, err)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	close(done)
	<-followed
	follow() // everything has committed: one last read from the cursor

	var missed []string
	for id := range want {
		if seen[id] == 0 {
			missed = append(missed, id)
		}
	}
	slices.Sort(missed)
	if len(missed) > 0 {
		t.Errorf("a cursor follower missed %d of %d revocations appended concurrently (Seq made visible out of order): %q",
			len(missed), len(want), missed)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("follower saw revocation %s %d times", id, n)
		}
	}
	if all := mustRevocations(t, s, 0, at(0)); len(all) != len(want) {
		t.Errorf("stored revocations: %d, want %d", len(all), len(want))
	}
}

// testRevokeOverlappingRacing: revocations by user, by session and by
// impersonator that cover the same sessions race (on replicas, in
// different orders of rows). None may fail (no deadlock surfaces), and
// every session is revoked, reported and appended exactly once.
func testRevokeOverlappingRacing(t *testing.T, s actas.Store) {
	ctx := t.Context()
	for round := range 3 {
		tn := mustCreateTenant(t, s, fmt.Sprintf("acme-%d", round))
		alice := mustCreateUser(t, s, tn.ID, "alice")
		bob := mustCreateUser(t, s, tn.ID, "bob")
		var all []string
		var queries []actas.RevokeQuery
		for range 4 {
			p := mustCreateSession(t, s, newSession(alice))
			c := mustCreateSession(t, s, newChild(p, bob))
			all = append(all, p.ID, c.ID)
			queries = append(queries, actas.RevokeQuery{TenantID: tn.ID, SessionID: p.ID},
				actas.RevokeQuery{TenantID: tn.ID, SessionID: c.ID})
		}
		queries = append(queries, actas.RevokeQuery{TenantID: tn.ID, UserID: alice.ID},
			actas.RevokeQuery{TenantID: tn.ID, UserID: bob.ID},
			actas.RevokeQuery{TenantID: tn.ID, ImpersonatorID: alice.ID})
		// Reverse half of them so that callers meet the rows in different
		// orders.
		slices.Reverse(queries[len(queries)/2:])
		before := mustRevocations(t, s, 0, at(0))
		results := make([][]*actas.Session, len(queries))
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, q := range queries {
			wg.Go(func() {
				<-start
				var err error
				results[i], err = s.RevokeSessions(ctx, q, at(time.Hour), actas.ReasonAdmin)
				if err != nil {
					t.Errorf("racing RevokeSessions %+v: %v", q, err)
				}
			})
		}
		close(start)
		wg.Wait()
		var got []*actas.Session
		for _, r := range results {
			got = append(got, r...)
		}
		wantIDs(t, "sessions reported by overlapping racing RevokeSessions", got, all...)
		after := mustRevocations(t, s, 0, at(0))
		if n := len(after) - len(before); n != len(all) {
			t.Errorf("overlapping racing RevokeSessions appended %d revocations, want %d", n, len(all))
		}
	}
}

// testRefreshAndRevokeRacing: a refresh (UpdateSession rotating the
// token) and a logout (RevokeSessions) of one session race. Whatever the
// order, the session ends revoked with exactly one revocation, and the
// refresh either happened before (its token stored) or saw the session
// revoked.
func testRefreshAndRevokeRacing(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	u := mustCreateUser(t, s, tn.ID, "alice")
	for round := range 5 {
		sess := mustCreateSession(t, s, newSession(u))
		start := make(chan struct{})
		var wg sync.WaitGroup
		var refreshErr, revokeErr error
		var sawRevoked bool
		wg.Go(func() {
			<-start
			_, refreshErr = s.UpdateSession(ctx, sess.ID, func(x *actas.Session) (*actas.RefreshToken, error) {
				if x.Revoked() {
					sawRevoked = true
					return nil, errFn
				}
				x.RefreshGeneration++
				x.LastRefreshAt = at(time.Minute)
				rt := refreshToken(sess.ID, x.RefreshGeneration)
				return rt, nil
			})
		})
		wg.Go(func() {
			<-start
			_, revokeErr = s.RevokeSessions(ctx, actas.RevokeQuery{TenantID: tn.ID, SessionID: sess.ID},
				at(time.Hour), actas.ReasonLogout)
		})
		close(start)
		wg.Wait()
		wantOK(t, "racing revoke", revokeErr)
		got := mustSession(t, s, sess.ID)
		if !got.Revoked() {
			t.Errorf("round %d: session not revoked after racing refresh and logout", round)
		}
		_, _, err := s.SessionByRefreshToken(ctx, refreshToken(sess.ID, 1).Hash)
		switch {
		case refreshErr == nil && !sawRevoked:
			wantOK(t, "refresh token stored by the refresh that won", err)
			if got.RefreshGeneration != 1 {
				t.Errorf("round %d: generation %d after a successful refresh, want 1", round, got.RefreshGeneration)
			}
		case sawRevoked:
			wantErr(t, "refresh that saw the revocation", refreshErr, errFn)
			wantErr(t, "refresh token of a refused refresh", err, actas.ErrNotFound)
		default:
			t.Errorf("round %d: racing refresh: %v", round, refreshErr)
		}
		n := 0
		for _, r := range mustRevocations(t, s, 0, at(0)) {
			if r.ID == sess.ID {
				n++
			}
		}
		if n != 1 {
			t.Errorf("round %d: %d revocations of the session, want 1", round, n)
		}
	}
}

// testChildAndParentRevokeRacing: an impersonation session is created
// while its parent is being revoked. Whichever wins, no child may
// outlive the revocation: either its creation fails with
// ErrParentRevoked, or it exists revoked, with its revocation appended.
func testChildAndParentRevokeRacing(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	op := mustCreateUser(t, s, tn.ID, "op")
	alice := mustCreateUser(t, s, tn.ID, "alice")
	outcomes := map[string]int{}
	for round := range 10 {
		parent := mustCreateSession(t, s, newSession(op))
		child := newChild(parent, alice)
		start := make(chan struct{})
		var wg sync.WaitGroup
		var createErr, revokeErr error
		wg.Go(func() {
			<-start
			createErr = s.CreateSession(ctx, child, nil, nil)
		})
		wg.Go(func() {
			<-start
			_, revokeErr = s.RevokeSessions(ctx, actas.RevokeQuery{TenantID: tn.ID, SessionID: parent.ID},
				at(time.Hour), actas.ReasonLogout)
		})
		close(start)
		wg.Wait()
		wantOK(t, "racing revoke of the parent", revokeErr)
		switch {
		case errors.Is(createErr, actas.ErrParentRevoked):
			outcomes["refused"]++
			_, err := s.Session(ctx, child.ID)
			wantErr(t, "refused child", err, actas.ErrNotFound)
		case createErr == nil:
			outcomes["created, then revoked"]++
			if got := mustSession(t, s, child.ID); !got.Revoked() {
				t.Errorf("round %d: child created while its parent was revoked outlives the revocation", round)
			}
			n := 0
			for _, r := range mustRevocations(t, s, 0, at(0)) {
				if r.ID == child.ID {
					n++
				}
			}
			if n != 1 {
				t.Errorf("round %d: %d revocations of the child, want 1", round, n)
			}
		default:
			t.Errorf("round %d: creating the child: %v", round, createErr)
		}
	}
	t.Logf("child and parent revocation racing: %v", outcomes)
}
