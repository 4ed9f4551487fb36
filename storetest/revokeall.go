package storetest

import (
	"testing"
	"time"

	"github.com/actas-dev/actas"
)

// testRevokeAll: RevokeQuery.All revokes every unrevoked session of the
// tenant (impersonations included, with the given reason), appends one
// Revocation each, leaves other tenants and already revoked sessions
// alone, and is idempotent.
func testRevokeAll(t *testing.T, s actas.Store) {
	ctx := t.Context()
	f := mustFamily(t, s, "acme")
	other := mustFamily(t, s, "other")
	carol := mustCreateUser(t, s, f.tenant.ID, "carol")
	grandchild := mustCreateSession(t, s, newChild(f.child, carol))
	done := newSession(f.bob)
	done.RevokedAt, done.RevokeReason = at(time.Minute), actas.ReasonLogout
	mustCreateSession(t, s, done)

	got, err := s.RevokeSessions(ctx, actas.RevokeQuery{TenantID: f.tenant.ID, All: true},
		at(time.Hour), actas.ReasonAdmin)
	wantOK(t, "revoke all sessions", err)
	wantIDs(t, "RevokeSessions(all)", got, f.aliceS.ID, f.bobS.ID, f.child.ID, grandchild.ID)
	rs := mustRevocations(t, s, 0, at(0))
	if len(rs) != 4 {
		t.Errorf("revocations: got %d, want 4", len(rs))
	}
	wantRevoked(t, s, rs, at(time.Hour), actas.ReasonAdmin, f.aliceS, f.bobS, f.child, grandchild)
	mustEqual(t, "already revoked session", mustSession(t, s, done.ID), done)
	wantUnrevoked(t, s, other.aliceS, other.bobS, other.child)

	got, err = s.RevokeSessions(ctx, actas.RevokeQuery{TenantID: f.tenant.ID, All: true},
		at(2*time.Hour), actas.ReasonAdmin)
	wantOK(t, "revoke all sessions again", err)
	if len(got) != 0 {
		t.Errorf("RevokeSessions(all) again: got %d sessions, want none", len(got))
	}
	if rs := mustRevocations(t, s, 0, at(0)); len(rs) != 4 {
		t.Errorf("revocations after repeating: got %d, want 4", len(rs))
	}

	// All with another field: the other field still has to match.
	got, err = s.RevokeSessions(ctx, actas.RevokeQuery{TenantID: other.tenant.ID, All: true, UserID: other.bob.ID},
		at(time.Hour), actas.ReasonAdmin)
	wantOK(t, "revoke all sessions of a user", err)
	wantIDs(t, "RevokeSessions(all, user)", got, other.bobS.ID, other.child.ID)
	wantUnrevoked(t, s, other.aliceS)

	// Without a tenant, All is refused.
	if _, err := s.RevokeSessions(ctx, actas.RevokeQuery{All: true}, at(time.Hour), actas.ReasonAdmin); err == nil {
		t.Error("RevokeSessions(All without tenant): no error")
	}
}
