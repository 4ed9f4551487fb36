package storetest

import (
	"testing"
	"time"

	"github.com/actas-dev/actas"
)

// testRefreshLookup: the read of a refresh returns what
// SessionByRefreshToken and User return, in one call, and ErrNotFound for
// an unknown token.
func testRefreshLookup(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	u := mustCreateUser(t, s, tn.ID, "alice")
	sess := mustCreateSession(t, s, newSession(u))
	rt := refreshToken(sess.ID, 0)
	gotS, gotRT, gotU, err := s.RefreshLookup(ctx, rt.Hash)
	wantOK(t, "refresh lookup", err)
	wantS, wantRT, err := s.SessionByRefreshToken(ctx, rt.Hash)
	wantOK(t, "session by refresh token", err)
	wantU, err := s.User(ctx, tn.ID, u.ID)
	wantOK(t, "user", err)
	mustEqual(t, "RefreshLookup session", gotS, wantS)
	mustEqual(t, "RefreshLookup token", gotRT, wantRT)
	mustEqual(t, "RefreshLookup user", gotU, wantU)
	_, _, _, err = s.RefreshLookup(ctx, sha("no such token"))
	wantErr(t, "refresh lookup of an unknown token", err, actas.ErrNotFound)
}

// testSessionAdvance: AdvanceSession writes only a session at the
// generation given that is unrevoked, refreshable and unexpired, and then
// exactly what UpdateSession's refresh would.
func testSessionAdvance(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	u := mustCreateUser(t, s, tn.ID, "alice")
	sess := mustCreateSession(t, s, newSession(u))
	other := mustCreateSession(t, s, newSession(u))

	// A refresh without rotation: LastRefreshAt only.
	want := *sess
	want.LastRefreshAt = at(time.Minute)
	ok, err := s.AdvanceSession(ctx, sess.ID, 0, at(time.Minute), nil)
	wantOK(t, "advance session", err)
	if !ok {
		t.Fatal("advance session at its generation: not written")
	}
	mustEqual(t, "advanced session", mustSession(t, s, sess.ID), &want)

	// A rotation: generation, rotation time and the successor token.
	next := refreshToken(sess.ID, 1)
	ok, err = s.AdvanceSession(ctx, sess.ID, 0, at(2*time.Minute), next)
	wantOK(t, "rotate session", err)
	if !ok {
		t.Fatal("rotate session at its generation: not written")
	}
	want.LastRefreshAt, want.RotatedAt, want.RefreshGeneration = at(2*time.Minute), at(2*time.Minute), 1
	mustEqual(t, "rotated session", mustSession(t, s, sess.ID), &want)
	gotS, gotRT, err := s.SessionByRefreshToken(ctx, next.Hash)
	wantOK(t, "session by successor token", err)
	mustEqual(t, "successor's session", gotS, &want)
	mustEqual(t, "successor token", gotRT, next)

	// Refused, writing nothing: a past generation, an expired session,
	// a revoked one, an unknown one.
	refused := func(what string, id string, gen int, when time.Time, next *actas.RefreshToken) {
		t.Helper()
		ok, err := s.AdvanceSession(ctx, id, gen, when, next)
		wantOK(t, what, err)
		if ok {
			t.Errorf("%s: written", what)
		}
	}
	refused("advance at a past generation", sess.ID, 0, at(3*time.Minute), refreshToken(sess.ID, 1))
	refused("advance after expiry", sess.ID, 1, sess.ExpiresAt, nil)
	refused("advance an unknown session", actas.NewID(), 0, at(3*time.Minute), nil)
	mustEqual(t, "session after refusals", mustSession(t, s, sess.ID), &want)
	if _, _, err := s.SessionByRefreshToken(ctx, refreshToken(sess.ID, 2).Hash); err == nil {
		t.Error("a refused rotation stored its token")
	}
	_, err = s.RevokeSessions(ctx, actas.RevokeQuery{TenantID: tn.ID, SessionID: other.ID}, at(time.Minute), actas.ReasonLogout)
	wantOK(t, "revoke", err)
	revoked := mustSession(t, s, other.ID)
	refused("advance a revoked session", other.ID, 0, at(3*time.Minute), refreshToken(other.ID, 1))
	mustEqual(t, "revoked session after refusal", mustSession(t, s, other.ID), revoked)

	// A successor of another generation than gen+1 is an error.
	if _, err := s.AdvanceSession(ctx, sess.ID, 1, at(4*time.Minute), refreshToken(sess.ID, 5)); err == nil {
		t.Error("advance with a successor of generation gen+4: no error")
	}
}
