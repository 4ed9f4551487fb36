package storetest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actas-dev/actas"
)

var sessionTests = []test{
	{"RoundTrip", testSessionRoundTrip},
	{"NotFound", testSessionNotFound},
	{"WithoutRefreshTokenOrAudit", testSessionWithoutRefreshTokenOrAudit},
	{"CreateConflict", testSessionCreateConflict},
	{"CreateAtomic", testSessionCreateAtomic},
	{"Filter", testSessionFilter},
	{"Update", testSessionUpdate},
	{"UpdateRefused", testSessionUpdateRefused},
	{"UpdateRefreshTokenConflict", testSessionUpdateRefreshTokenConflict},
	{"ConcurrentUpdates", testSessionConcurrentUpdates},
	{"RacingRotations", testSessionRacingRotations},
	{"ChildOfRevokedParent", testSessionChildOfRevokedParent},
	{"RefreshLookup", testRefreshLookup},
	{"Advance", testSessionAdvance},
}

// testSessionChildOfRevokedParent: an impersonation session cannot be
// created under a missing or revoked parent, nor its audit record.
func testSessionChildOfRevokedParent(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	op := mustCreateUser(t, s, tn.ID, "op")
	alice := mustCreateUser(t, s, tn.ID, "alice")
	parent := mustCreateSession(t, s, newSession(op))

	child := func() *actas.Session {
		c := newSession(alice)
		c.Refreshable = false
		c.ImpersonatorID, c.ParentID = op.ID, parent.ID
		return c
	}
	ok := child()
	wantOK(t, "child of a live parent", s.CreateSession(ctx, ok, nil, nil))

	missing := child()
	missing.ParentID = "no-such-session"
	wantErr(t, "child of a missing parent", s.CreateSession(ctx, missing, nil, nil), actas.ErrParentRevoked)

	if _, err := s.RevokeSessions(ctx, actas.RevokeQuery{TenantID: tn.ID, SessionID: parent.ID}, base, actas.ReasonLogout); err != nil {
		t.Fatal(err)
	}
	late := child()
	ev := &actas.AuditEvent{Time: base, TenantID: tn.ID, Action: actas.ActionImpersonate, Outcome: actas.OutcomeAllowed, SessionID: late.ID}
	wantErr(t, "child of a revoked parent", s.CreateSession(ctx, late, nil, ev), actas.ErrParentRevoked)
	_, err := s.Session(ctx, late.ID)
	wantErr(t, "the refused child", err, actas.ErrNotFound)
	if evs := mustAudit(t, s, actas.AuditFilter{Action: actas.ActionImpersonate}); len(evs) != 0 {
		t.Errorf("the refused child's audit event was written")
	}
}

func testSessionRoundTrip(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	alice := mustCreateUser(t, s, tn.ID, "alice")
	bob := mustCreateUser(t, s, tn.ID, "bob")

	parent := &actas.Session{
		ID:                actas.NewID(),
		TenantID:          tn.ID,
		UserID:            alice.ID,
		AuthTime:          odd,
		ExpiresAt:         at(30 * 24 * time.Hour),
		LastRefreshAt:     at(time.Minute),
		ClientIP:          "2001:db8::1",
		UserAgent:         "Mozilla/5.0 (storetest)",
		Refreshable:       true,
		RefreshGeneration: 3,
		RotatedAt:         at(2 * time.Minute),
		CreatedAt:         odd,
	}
	rt := refreshToken(parent.ID, 3)
	ev := &actas.AuditEvent{Time: odd, TenantID: tn.ID, Action: actas.ActionSignIn, ActorID: alice.ID,
		Actor: "alice", SubjectID: alice.ID, Subject: "alice", SessionID: parent.ID, APIKeyID: "key-1",
		IP: "2001:db8::1", UserAgent: "Mozilla/5.0 (storetest)", Outcome: actas.OutcomeAllowed}
	wantOK(t, "create session", s.CreateSession(ctx, parent, rt, ev))

	child := newChild(parent, bob)
	childEv := &actas.AuditEvent{Time: at(time.Minute), TenantID: tn.ID, Action: actas.ActionImpersonate,
		ActorID: alice.ID, Actor: "alice", SubjectID: bob.ID, Subject: "Bob", SessionID: child.ID,
		ParentID: parent.ID, Outcome: actas.OutcomeAllowed, Reason: child.Reason}
	wantOK(t, "create child session", s.CreateSession(ctx, child, nil, childEv))

	// Revocation fields round-trip too (on a session that is no parent:
	// a revoked session cannot get children).
	gone := newSession(alice)
	gone.RevokedAt, gone.RevokeReason = at(time.Hour), actas.ReasonAdmin
	wantOK(t, "create revoked session", s.CreateSession(ctx, gone, nil, nil))

	for _, want := range []*actas.Session{parent, child, gone} {
		got, err := s.Session(ctx, want.ID)
		wantOK(t, "session", err)
		mustEqual(t, "Session", got, want)
	}
	gotS, gotRT, err := s.SessionByRefreshToken(ctx, rt.Hash)
	wantOK(t, "session by refresh token", err)
	mustEqual(t, "SessionByRefreshToken session", gotS, parent)
	mustEqual(t, "SessionByRefreshToken token", gotRT, rt)

	evs := mustAudit(t, s, actas.AuditFilter{TenantID: tn.ID})
	if len(evs) != 2 {
		t.Fatalf("audit events: got %d, want the 2 of CreateSession", len(evs))
	}
	for i, want := range []*actas.AuditEvent{ev, childEv} {
		w := *want
		w.ID = evs[i].ID
		mustEqual(t, fmt.Sprintf("audit event %d", i), evs[i], &w)
	}
}

func testSessionNotFound(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	u := mustCreateUser(t, s, tn.ID, "alice")
	mustCreateSession(t, s, newSession(u))

	_, err := s.Session(ctx, actas.NewID())
	wantErr(t, "Session", err, actas.ErrNotFound)
	_, _, err = s.SessionByRefreshToken(ctx, sha("no such token"))
	wantErr(t, "SessionByRefreshToken", err, actas.ErrNotFound)
	called := false
	_, err = s.UpdateSession(ctx, actas.NewID(), func(*actas.Session) (*actas.RefreshToken, error) {
		called = true
		return nil, nil
	})
	wantErr(t, "UpdateSession", err, actas.ErrNotFound)
	if called {
		t.Error("UpdateSession called fn for a missing session")
	}
}

func testSessionWithoutRefreshTokenOrAudit(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	u := mustCreateUser(t, s, tn.ID, "alice")
	sess := newSession(u)
	sess.Refreshable = false
	wantOK(t, "create session", s.CreateSession(ctx, sess, nil, nil))
	got, err := s.Session(ctx, sess.ID)
	wantOK(t, "session", err)
	mustEqual(t, "session", got, sess)
	if evs := mustAudit(t, s, actas.AuditFilter{}); len(evs) != 0 {
		t.Errorf("CreateSession with a nil event appended %d events", len(evs))
	}
	_, _, err = s.SessionByRefreshToken(ctx, refreshToken(sess.ID, 0).Hash)
	wantErr(t, "SessionByRefreshToken of a session without one", err, actas.ErrNotFound)
}

func testSessionCreateConflict(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	u := mustCreateUser(t, s, tn.ID, "alice")
	first := mustCreateSession(t, s, newSession(u))

	dup := newSession(u)
	dup.ID = first.ID
	dup.ClientIP = "198.51.100.7"
	wantErr(t, "CreateSession with a taken id", s.CreateSession(ctx, dup, nil, nil), actas.ErrConflict)
	got, err := s.Session(ctx, first.ID)
	wantOK(t, "session", err)
	mustEqual(t, "session after conflict", got, first)
}

// testSessionCreateAtomic makes the refresh token clash: neither the
// session nor its audit event may remain.
func testSessionCreateAtomic(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	u := mustCreateUser(t, s, tn.ID, "alice")
	first := mustCreateSession(t, s, newSession(u))
	before := mustAudit(t, s, actas.AuditFilter{})

	sess := newSession(u)
	rt := refreshToken(first.ID, 0) // the hash of another session's token
	rt.SessionID = sess.ID
	ev := &actas.AuditEvent{Time: at(0), TenantID: tn.ID, Action: actas.ActionSignIn, SessionID: sess.ID,
		Outcome: actas.OutcomeAllowed}
	wantErr(t, "CreateSession with a taken refresh token hash", s.CreateSession(ctx, sess, rt, ev),
		actas.ErrConflict)
	_, err := s.Session(ctx, sess.ID)
	wantErr(t, "session after failed create", err, actas.ErrNotFound)
	if after := mustAudit(t, s, actas.AuditFilter{}); len(after) != len(before) {
		t.Errorf("audit events after failed create: got %d, want %d", len(after), len(before))
	}
	gotS, _, err := s.SessionByRefreshToken(ctx, rt.Hash)
	wantOK(t, "session by refresh token", err)
	if gotS.ID != first.ID {
		t.Errorf("refresh token now belongs to %s, want %s", gotS.ID, first.ID)
	}
}

func testSessionFilter(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	other := mustCreateTenant(t, s, "other")
	alice := mustCreateUser(t, s, tn.ID, "alice")
	bob := mustCreateUser(t, s, tn.ID, "bob")
	eve := mustCreateUser(t, s, other.ID, "eve")

	active := mustCreateSession(t, s, newSession(alice))
	revoked := newSession(alice)
	revoked.RevokedAt, revoked.RevokeReason = at(time.Hour), actas.ReasonLogout
	mustCreateSession(t, s, revoked)
	expired := newSession(alice)
	expired.ExpiresAt = at(2 * time.Hour)
	mustCreateSession(t, s, expired)
	bobs := mustCreateSession(t, s, newSession(bob))
	mustCreateSession(t, s, newSession(eve))

	for _, tc := range []struct {
		name string
		f    actas.SessionFilter
		want []string
	}{
		{"tenant", actas.SessionFilter{TenantID: tn.ID}, []string{active.ID, revoked.ID, expired.ID, bobs.ID}},
		{"user", actas.SessionFilter{TenantID: tn.ID, UserID: alice.ID}, []string{active.ID, revoked.ID, expired.ID}},
		{"active", actas.SessionFilter{TenantID: tn.ID, ActiveAt: at(3 * time.Hour)}, []string{active.ID, bobs.ID}},
		{"active before expiry", actas.SessionFilter{TenantID: tn.ID, UserID: alice.ID, ActiveAt: at(90 * time.Minute)},
			[]string{active.ID, expired.ID}},
		{"user of another tenant", actas.SessionFilter{TenantID: tn.ID, UserID: eve.ID}, nil},
		{"unknown tenant", actas.SessionFilter{TenantID: actas.NewID()}, nil},
	} {
		got, err := s.Sessions(ctx, tc.f)
		wantOK(t, "sessions "+tc.name, err)
		wantIDs(t, "Sessions("+tc.name+")", got, tc.want...)
	}

	got, err := s.Sessions(ctx, actas.SessionFilter{TenantID: tn.ID, Limit: 2})
	wantOK(t, "sessions with limit", err)
	if len(got) != 2 {
		t.Errorf("Sessions(limit 2): got %d", len(got))
	}
	got, err = s.Sessions(ctx, actas.SessionFilter{TenantID: tn.ID, UserID: alice.ID})
	wantOK(t, "sessions", err)
	for _, g := range got {
		if g.ID == active.ID {
			mustEqual(t, "listed session", g, active)
		}
	}
	if _, err := s.Sessions(ctx, actas.SessionFilter{UserID: alice.ID}); err == nil {
		t.Error("Sessions without a TenantID: no error")
	}
}

func testSessionUpdate(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	u := mustCreateUser(t, s, tn.ID, "alice")
	sess := mustCreateSession(t, s, newSession(u))
	other := mustCreateSession(t, s, newSession(u))

	// Two rotations, then a refresh that issues no new token.
	want := *sess
	for gen := 1; gen <= 2; gen++ {
		want.RefreshGeneration = gen
		want.RotatedAt = at(time.Duration(gen) * time.Minute)
		want.LastRefreshAt = want.RotatedAt
		want.ClientIP = fmt.Sprintf("192.0.2.%d", 10+gen)
		got, err := s.UpdateSession(ctx, sess.ID, func(x *actas.Session) (*actas.RefreshToken, error) {
			if x.RefreshGeneration != gen-1 {
				t.Errorf("fn saw generation %d, want %d", x.RefreshGeneration, gen-1)
			}
			x.RefreshGeneration, x.RotatedAt, x.LastRefreshAt = want.RefreshGeneration, want.RotatedAt, want.LastRefreshAt
			x.ClientIP = want.ClientIP
			return refreshToken(sess.ID, gen), nil
		})
		wantOK(t, "update session", err)
		mustEqual(t, "UpdateSession result", got, &want)
	}
	want.LastRefreshAt = at(time.Hour)
	got, err := s.UpdateSession(ctx, sess.ID, func(x *actas.Session) (*actas.RefreshToken, error) {
		x.LastRefreshAt = want.LastRefreshAt
		return nil, nil
	})
	wantOK(t, "update session", err)
	mustEqual(t, "UpdateSession result", got, &want)
	mustEqual(t, "stored session", mustSession(t, s, sess.ID), &want)
	mustEqual(t, "other session", mustSession(t, s, other.ID), other)

	// Every generation still leads to the session, with its own number.
	for gen := 0; gen <= 2; gen++ {
		rt := refreshToken(sess.ID, gen)
		gotS, gotRT, err := s.SessionByRefreshToken(ctx, rt.Hash)
		wantOK(t, fmt.Sprintf("session by refresh token of generation %d", gen), err)
		mustEqual(t, "SessionByRefreshToken session", gotS, &want)
		mustEqual(t, "SessionByRefreshToken token", gotRT, rt)
	}
}

func testSessionUpdateRefused(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	u := mustCreateUser(t, s, tn.ID, "alice")
	sess := mustCreateSession(t, s, newSession(u))
	_, err := s.UpdateSession(ctx, sess.ID, func(x *actas.Session) (*actas.RefreshToken, error) {
		x.RefreshGeneration = 1
		x.RevokedAt = at(time.Hour)
		return refreshToken(sess.ID, 1), errFn
	})
	wantErr(t, "UpdateSession with a refusing fn", err, errFn)
	mustEqual(t, "session after refused update", mustSession(t, s, sess.ID), sess)
	_, _, err = s.SessionByRefreshToken(ctx, refreshToken(sess.ID, 1).Hash)
	wantErr(t, "refresh token of a refused update", err, actas.ErrNotFound)
}

// testSessionUpdateRefreshTokenConflict: a clashing refresh token hash
// undoes the session change made in the same call.
func testSessionUpdateRefreshTokenConflict(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	u := mustCreateUser(t, s, tn.ID, "alice")
	sess := mustCreateSession(t, s, newSession(u))
	taken := mustCreateSession(t, s, newSession(u))
	_, err := s.UpdateSession(ctx, sess.ID, func(x *actas.Session) (*actas.RefreshToken, error) {
		x.RefreshGeneration = 1
		rt := refreshToken(taken.ID, 0)
		rt.SessionID, rt.Generation = sess.ID, 1
		return rt, nil
	})
	wantErr(t, "UpdateSession storing a taken hash", err, actas.ErrConflict)
	mustEqual(t, "session after failed update", mustSession(t, s, sess.ID), sess)
}

// testSessionConcurrentUpdates runs updaters of one session at once: each
// must see the session as the previous one left it.
func testSessionConcurrentUpdates(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	u := mustCreateUser(t, s, tn.ID, "alice")
	sess := mustCreateSession(t, s, newSession(u))

	const n = 8
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = s.UpdateSession(ctx, sess.ID, func(x *actas.Session) (*actas.RefreshToken, error) {
				gen := x.RefreshGeneration + 1
				time.Sleep(time.Millisecond) // widen the read-modify-write window
				x.RefreshGeneration = gen
				rt := refreshToken(sess.ID, 100+i)
				rt.Generation = gen
				return rt, nil
			})
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		wantOK(t, "concurrent update", err)
	}
	if got := mustSession(t, s, sess.ID).RefreshGeneration; got != n {
		t.Errorf("RefreshGeneration after %d concurrent increments: got %d", n, got)
	}
	// Each updater stored its token with the generation it saw plus one:
	// together they are 1..n.
	seen := map[int]bool{}
	for i := range n {
		_, rt, err := s.SessionByRefreshToken(ctx, refreshToken(sess.ID, 100+i).Hash)
		wantOK(t, "session by refresh token", err)
		seen[rt.Generation] = true
	}
	for gen := 1; gen <= n; gen++ {
		if !seen[gen] {
			t.Errorf("no updater stored generation %d: updaters saw stale sessions (%v)", gen, seen)
		}
	}
}

// testSessionRacingRotations: two refreshes of the same generation race;
// fn refuses when the generation moved, so exactly one may win.
func testSessionRacingRotations(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	u := mustCreateUser(t, s, tn.ID, "alice")
	sess := mustCreateSession(t, s, newSession(u))

	var entered atomic.Int32
	both := make(chan struct{})
	errs := make([]error, 2)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			<-start
			_, errs[i] = s.UpdateSession(ctx, sess.ID, func(x *actas.Session) (*actas.RefreshToken, error) {
				// A store that does not serialise lets both in here at
				// once; one that does makes this wait time out.
				if entered.Add(1) == 2 {
					close(both)
				}
				select {
				case <-both:
				case <-time.After(50 * time.Millisecond):
				}
				if x.RefreshGeneration != 0 {
					return nil, errFn
				}
				x.RefreshGeneration = 1
				rt := refreshToken(sess.ID, 10+i)
				rt.Generation = 1
				return rt, nil
			})
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
			if _, _, err := s.SessionByRefreshToken(ctx, refreshToken(sess.ID, 10+i).Hash); err != nil {
				t.Errorf("winner's refresh token: %v", err)
			}
		case errors.Is(err, errFn):
			_, _, err := s.SessionByRefreshToken(ctx, refreshToken(sess.ID, 10+i).Hash)
			wantErr(t, "loser's refresh token", err, actas.ErrNotFound)
		default:
			t.Errorf("racing rotation: %v", err)
		}
	}
	if won != 1 {
		t.Errorf("racing rotations: %d won, want exactly 1", won)
	}
	if got := mustSession(t, s, sess.ID).RefreshGeneration; got != 1 {
		t.Errorf("RefreshGeneration after racing rotations: got %d, want 1", got)
	}
}
