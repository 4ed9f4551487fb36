package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/actas-dev/actas"
)

var revokeTests = []test{
	{"BySession", testRevokeBySession},
	{"ByUser", testRevokeByUser},
	{"ByImpersonator", testRevokeByImpersonator},
	{"Cascade", testRevokeCascade},
	{"FieldsMustAllMatch", testRevokeFieldsMustAllMatch},
	{"QueryRequired", testRevokeQueryRequired},
	{"All", testRevokeAll},
	{"Racing", testRevokeRacing},
	{"Token", testRevokeToken},
	{"Cursor", testRevocationsCursor},
	{"CursorAfterPurge", testRevocationsCursorAfterPurge},
	{"Purge", testPurgeExpired},
}

// family is a tenant with two users, alice (an impersonator) and bob,
// alice's session and an impersonation of bob started from it.
type family struct {
	tenant       *actas.Tenant
	alice, bob   *actas.User
	aliceS, bobS *actas.Session // bobS: bob's own sign-in
	child        *actas.Session // alice acting as bob, parent aliceS
}

func mustFamily(t *testing.T, s actas.Store, name string) *family {
	t.Helper()
	f := &family{tenant: mustCreateTenant(t, s, name)}
	f.alice = mustCreateUser(t, s, f.tenant.ID, "alice")
	f.bob = mustCreateUser(t, s, f.tenant.ID, "bob")
	f.aliceS = mustCreateSession(t, s, newSession(f.alice))
	f.bobS = mustCreateSession(t, s, newSession(f.bob))
	f.child = mustCreateSession(t, s, newChild(f.aliceS, f.bob))
	return f
}

// wantRevoked checks that each session is stored revoked at at for
// reason, with a Revocation among rs that expires with it.
func wantRevoked(t *testing.T, s actas.Store, rs []*actas.Revocation, at time.Time, reason string, sessions ...*actas.Session) {
	t.Helper()
	for _, sess := range sessions {
		want := *sess
		want.RevokedAt, want.RevokeReason = at, reason
		mustEqual(t, "revoked session", mustSession(t, s, sess.ID), &want)
		n := 0
		for _, r := range rs {
			if r.ID == sess.ID {
				n++
				mustEqual(t, "revocation of session", r, &actas.Revocation{Seq: r.Seq, TenantID: sess.TenantID,
					ID: sess.ID, RevokedAt: at, ExpiresAt: sess.ExpiresAt})
			}
		}
		if n != 1 {
			t.Errorf("session %s has %d revocations, want 1", sess.ID, n)
		}
	}
}

func wantUnrevoked(t *testing.T, s actas.Store, sessions ...*actas.Session) {
	t.Helper()
	for _, sess := range sessions {
		if got := mustSession(t, s, sess.ID); got.Revoked() {
			t.Errorf("session %s revoked (%s), want it untouched", sess.ID, got.RevokeReason)
		}
	}
}

func testRevokeBySession(t *testing.T, s actas.Store) {
	ctx := t.Context()
	f := mustFamily(t, s, "acme")
	q := actas.RevokeQuery{TenantID: f.tenant.ID, SessionID: f.bobS.ID}
	got, err := s.RevokeSessions(ctx, q, at(time.Hour), actas.ReasonLogout)
	wantOK(t, "revoke sessions", err)
	want := *f.bobS
	want.RevokedAt, want.RevokeReason = at(time.Hour), actas.ReasonLogout
	if len(got) != 1 {
		t.Fatalf("RevokeSessions: got %d sessions, want 1", len(got))
	}
	mustEqual(t, "revoked session returned", got[0], &want)
	rs := mustRevocations(t, s, 0, at(0))
	if len(rs) != 1 {
		t.Fatalf("revocations: got %d, want 1", len(rs))
	}
	wantRevoked(t, s, rs, at(time.Hour), actas.ReasonLogout, f.bobS)
	wantUnrevoked(t, s, f.aliceS, f.child)

	// Idempotent: nothing more is revoked, nothing appended, nothing moved.
	got, err = s.RevokeSessions(ctx, q, at(2*time.Hour), actas.ReasonAdmin)
	wantOK(t, "revoke sessions again", err)
	if len(got) != 0 {
		t.Errorf("RevokeSessions again: got %d sessions, want none", len(got))
	}
	if rs2 := mustRevocations(t, s, 0, at(0)); len(rs2) != 1 {
		t.Errorf("revocations after repeating: got %d, want 1", len(rs2))
	}
	mustEqual(t, "session revoked twice", mustSession(t, s, f.bobS.ID), &want)
}

func testRevokeByUser(t *testing.T, s actas.Store) {
	ctx := t.Context()
	f := mustFamily(t, s, "acme")
	other := mustFamily(t, s, "other")
	bob2 := mustCreateSession(t, s, newSession(f.bob))
	done := newSession(f.bob)
	done.RevokedAt, done.RevokeReason = at(time.Minute), actas.ReasonLogout
	mustCreateSession(t, s, done)

	got, err := s.RevokeSessions(ctx, actas.RevokeQuery{TenantID: f.tenant.ID, UserID: f.bob.ID},
		at(time.Hour), actas.ReasonUserDisabled)
	wantOK(t, "revoke sessions", err)
	// The impersonation session's subject is bob too.
	wantIDs(t, "RevokeSessions(user)", got, f.bobS.ID, bob2.ID, f.child.ID)
	rs := mustRevocations(t, s, 0, at(0))
	if len(rs) != 3 {
		t.Errorf("revocations: got %d, want 3", len(rs))
	}
	wantRevoked(t, s, rs, at(time.Hour), actas.ReasonUserDisabled, f.bobS, bob2, f.child)
	mustEqual(t, "already revoked session", mustSession(t, s, done.ID), done)
	wantUnrevoked(t, s, f.aliceS, other.aliceS, other.bobS, other.child)
}

func testRevokeByImpersonator(t *testing.T, s actas.Store) {
	ctx := t.Context()
	f := mustFamily(t, s, "acme")
	other := mustFamily(t, s, "other")
	// A second impersonation by alice, from a second session of hers.
	alice2 := mustCreateSession(t, s, newSession(f.alice))
	child2 := mustCreateSession(t, s, newChild(alice2, f.bob))

	got, err := s.RevokeSessions(ctx, actas.RevokeQuery{TenantID: f.tenant.ID, ImpersonatorID: f.alice.ID},
		at(time.Hour), actas.ReasonGroupRemoved)
	wantOK(t, "revoke sessions", err)
	wantIDs(t, "RevokeSessions(impersonator)", got, f.child.ID, child2.ID)
	rs := mustRevocations(t, s, 0, at(0))
	wantRevoked(t, s, rs, at(time.Hour), actas.ReasonGroupRemoved, f.child, child2)
	// The impersonator's own sessions and other tenants stay.
	wantUnrevoked(t, s, f.aliceS, alice2, f.bobS, other.child)
}

// testRevokeCascade revokes a session whose descendants go with it through
// ParentID, down more than one level.
func testRevokeCascade(t *testing.T, s actas.Store) {
	ctx := t.Context()
	f := mustFamily(t, s, "acme")
	carol := mustCreateUser(t, s, f.tenant.ID, "carol")
	grandchild := mustCreateSession(t, s, newChild(f.child, carol))
	sibling := mustCreateSession(t, s, newChild(f.bobS, carol)) // another parent
	doneChild := newChild(f.aliceS, carol)
	doneChild.RevokedAt, doneChild.RevokeReason = at(time.Minute), actas.ReasonLogout
	mustCreateSession(t, s, doneChild)

	got, err := s.RevokeSessions(ctx, actas.RevokeQuery{TenantID: f.tenant.ID, SessionID: f.aliceS.ID},
		at(time.Hour), actas.ReasonLogout)
	wantOK(t, "revoke sessions", err)
	wantIDs(t, "RevokeSessions(parent)", got, f.aliceS.ID, f.child.ID, grandchild.ID)
	rs := mustRevocations(t, s, 0, at(0))
	if len(rs) != 3 {
		t.Errorf("revocations: got %d, want 3", len(rs))
	}
	wantRevoked(t, s, rs, at(time.Hour), actas.ReasonLogout, f.aliceS)
	wantRevoked(t, s, rs, at(time.Hour), actas.ReasonParentRevoked, f.child, grandchild)
	mustEqual(t, "already revoked child", mustSession(t, s, doneChild.ID), doneChild)
	wantUnrevoked(t, s, f.bobS, sibling)

	got, err = s.RevokeSessions(ctx, actas.RevokeQuery{TenantID: f.tenant.ID, SessionID: f.aliceS.ID},
		at(2*time.Hour), actas.ReasonLogout)
	wantOK(t, "revoke sessions again", err)
	if len(got) != 0 {
		t.Errorf("RevokeSessions again: got %d sessions, want none", len(got))
	}
}

func testRevokeFieldsMustAllMatch(t *testing.T, s actas.Store) {
	ctx := t.Context()
	f := mustFamily(t, s, "acme")
	other := mustFamily(t, s, "other")
	for name, q := range map[string]actas.RevokeQuery{
		"session of another user":   {TenantID: f.tenant.ID, SessionID: f.aliceS.ID, UserID: f.bob.ID},
		"not an impersonation":      {TenantID: f.tenant.ID, SessionID: f.bobS.ID, ImpersonatorID: f.alice.ID},
		"session of another tenant": {TenantID: f.tenant.ID, SessionID: other.aliceS.ID},
		"user of another tenant":    {TenantID: other.tenant.ID, UserID: f.alice.ID},
	} {
		got, err := s.RevokeSessions(ctx, q, at(time.Hour), actas.ReasonAdmin)
		wantOK(t, "revoke sessions "+name, err)
		if len(got) != 0 {
			t.Errorf("RevokeSessions(%s): revoked %q", name, ids(got))
		}
	}
	got, err := s.RevokeSessions(ctx, actas.RevokeQuery{TenantID: f.tenant.ID, SessionID: f.child.ID,
		UserID: f.bob.ID, ImpersonatorID: f.alice.ID}, at(time.Hour), actas.ReasonAdmin)
	wantOK(t, "revoke sessions", err)
	wantIDs(t, "RevokeSessions(all fields)", got, f.child.ID)
	wantUnrevoked(t, s, f.aliceS, f.bobS, other.aliceS, other.bobS, other.child)
	if rs := mustRevocations(t, s, 0, at(0)); len(rs) != 1 {
		t.Errorf("revocations: got %d, want 1", len(rs))
	}
}

// testRevokeQueryRequired: a query without a tenant or without any other
// field must not revoke everything.
func testRevokeQueryRequired(t *testing.T, s actas.Store) {
	ctx := t.Context()
	f := mustFamily(t, s, "acme")
	for name, q := range map[string]actas.RevokeQuery{
		"tenant only": {TenantID: f.tenant.ID},
		"no tenant":   {UserID: f.bob.ID},
		"empty":       {},
	} {
		if _, err := s.RevokeSessions(ctx, q, at(time.Hour), actas.ReasonAdmin); err == nil {
			t.Errorf("RevokeSessions(%s): no error", name)
		}
	}
	wantUnrevoked(t, s, f.aliceS, f.bobS, f.child)
	if rs := mustRevocations(t, s, 0, at(0)); len(rs) != 0 {
		t.Errorf("revocations: got %d, want none", len(rs))
	}
}

// testRevokeRacing: concurrent revocations of one session (a logout and
// an admin) report each revoked session exactly once between them.
func testRevokeRacing(t *testing.T, s actas.Store) {
	ctx := t.Context()
	for round := range 5 {
		f := mustFamily(t, s, "acme-"+string(rune('a'+round)))
		q := actas.RevokeQuery{TenantID: f.tenant.ID, SessionID: f.aliceS.ID}
		results := make([][]*actas.Session, 2)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range 2 {
			wg.Go(func() {
				<-start
				var err error
				results[i], err = s.RevokeSessions(ctx, q, at(time.Hour), actas.ReasonLogout)
				if err != nil {
					t.Errorf("racing RevokeSessions: %v", err)
				}
			})
		}
		close(start)
		wg.Wait()
		wantIDs(t, "sessions reported by racing RevokeSessions", append(results[0], results[1]...),
			f.aliceS.ID, f.child.ID)
		n := 0
		for _, r := range mustRevocations(t, s, 0, at(0)) {
			if r.ID == f.aliceS.ID || r.ID == f.child.ID {
				n++
			}
		}
		if n != 2 {
			t.Errorf("racing RevokeSessions appended %d revocations, want 2", n)
		}
	}
}

func testRevokeToken(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	r := &actas.Revocation{TenantID: tn.ID, ID: actas.NewID(), RevokedAt: odd, ExpiresAt: at(time.Hour)}
	wantOK(t, "revoke token", s.RevokeToken(ctx, r))
	rs := mustRevocations(t, s, 0, at(0))
	if len(rs) != 1 {
		t.Fatalf("revocations: got %d, want 1", len(rs))
	}
	if rs[0].Seq <= 0 {
		t.Errorf("revocation Seq: got %d, want > 0", rs[0].Seq)
	}
	want := *r
	want.Seq = rs[0].Seq
	mustEqual(t, "revocation", rs[0], &want)
}

func testRevocationsCursor(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	// Expiry in hours from base, in the order appended.
	expiries := []int{5, 1, 5, 3, 5}
	var tokens []string
	for _, h := range expiries {
		r := &actas.Revocation{TenantID: tn.ID, ID: actas.NewID(), RevokedAt: at(0),
			ExpiresAt: at(time.Duration(h) * time.Hour)}
		wantOK(t, "revoke token", s.RevokeToken(ctx, r))
		tokens = append(tokens, r.ID)
	}

	all := mustRevocations(t, s, 0, at(0))
	if len(all) != len(tokens) {
		t.Fatalf("revocations: got %d, want %d", len(all), len(tokens))
	}
	for i, r := range all {
		if r.ID != tokens[i] {
			t.Errorf("revocation %d: got %s, want %s (Seq order is append order)", i, r.ID, tokens[i])
		}
		if i > 0 && r.Seq <= all[i-1].Seq {
			t.Errorf("Seq not strictly increasing: %d after %d", r.Seq, all[i-1].Seq)
		}
	}
	seqOf := func(rs []*actas.Revocation) []int64 {
		var out []int64
		for _, r := range rs {
			out = append(out, r.Seq)
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		after int64
		now   time.Time
		limit int
		want  []*actas.Revocation
	}{
		{"after the second", all[1].Seq, at(0), 100, all[2:]},
		{"after the last", all[4].Seq, at(0), 100, nil},
		{"limit", 0, at(0), 2, all[:2]},
		{"after and limit", all[0].Seq, at(0), 2, all[1:3]},
		{"expired excluded", 0, at(2 * time.Hour), 100, []*actas.Revocation{all[0], all[2], all[3], all[4]}},
		{"expired, after, limit", all[0].Seq, at(4 * time.Hour), 1, all[2:3]},
		{"all expired", 0, at(6 * time.Hour), 100, nil},
	} {
		got, err := s.Revocations(ctx, tc.after, tc.now, tc.limit)
		wantOK(t, "revocations "+tc.name, err)
		if g, w := seqOf(got), seqOf(tc.want); len(g) != len(w) || len(diff(got, tc.want)) > 0 {
			t.Errorf("Revocations(%s): got seqs %v, want %v", tc.name, g, w)
		}
	}
}

// testRevocationsCursorAfterPurge: a follower whose cursor stands at the
// newest revocation must see the next one even if the newest was purged.
func testRevocationsCursorAfterPurge(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	for range 2 {
		wantOK(t, "revoke token", s.RevokeToken(ctx, &actas.Revocation{TenantID: tn.ID, ID: actas.NewID(),
			RevokedAt: at(0), ExpiresAt: at(time.Hour)}))
	}
	rs := mustRevocations(t, s, 0, at(0))
	if len(rs) != 2 {
		t.Fatalf("revocations: got %d, want 2", len(rs))
	}
	cursor := rs[1].Seq
	_, n, err := s.PurgeExpired(ctx, at(2*time.Hour))
	wantOK(t, "purge expired", err)
	if n != 2 {
		t.Fatalf("PurgeExpired: deleted %d revocations, want 2", n)
	}
	r := &actas.Revocation{TenantID: tn.ID, ID: actas.NewID(), RevokedAt: at(3 * time.Hour), ExpiresAt: at(4 * time.Hour)}
	wantOK(t, "revoke token", s.RevokeToken(ctx, r))
	got := mustRevocations(t, s, cursor, at(3*time.Hour))
	if len(got) != 1 || got[0].ID != r.ID {
		t.Errorf("Revocations after cursor %d: got %d (%v), want the new one: a Seq was reused", cursor, len(got), got)
	}
}

func testPurgeExpired(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	u := mustCreateUser(t, s, tn.ID, "alice")
	now := at(2 * time.Hour)

	expired := newSession(u)
	expired.ExpiresAt = at(time.Hour)
	mustCreateSession(t, s, expired)
	_, err := s.UpdateSession(ctx, expired.ID, func(x *actas.Session) (*actas.RefreshToken, error) {
		x.RefreshGeneration = 1
		return refreshToken(expired.ID, 1), nil
	})
	wantOK(t, "update session", err)
	alive := mustCreateSession(t, s, newSession(u))
	edge := newSession(u) // expires exactly now: not before now, kept
	edge.ExpiresAt = now
	mustCreateSession(t, s, edge)
	revoked := mustCreateSession(t, s, newSession(u))
	_, err = s.RevokeSessions(ctx, actas.RevokeQuery{TenantID: tn.ID, SessionID: revoked.ID}, at(time.Minute),
		actas.ReasonLogout)
	wantOK(t, "revoke sessions", err)
	for _, h := range []time.Duration{time.Hour, 90 * time.Minute, 3 * time.Hour} {
		wantOK(t, "revoke token", s.RevokeToken(ctx, &actas.Revocation{TenantID: tn.ID, ID: actas.NewID(),
			RevokedAt: at(0), ExpiresAt: at(h)}))
	}
	edgeRev := &actas.Revocation{TenantID: tn.ID, ID: actas.NewID(), RevokedAt: at(0), ExpiresAt: now}
	wantOK(t, "revoke token", s.RevokeToken(ctx, edgeRev))
	audit := mustAudit(t, s, actas.AuditFilter{})

	sessions, revocations, err := s.PurgeExpired(ctx, now)
	wantOK(t, "purge expired", err)
	if sessions != 1 || revocations != 2 {
		t.Errorf("PurgeExpired: deleted %d sessions and %d revocations, want 1 and 2", sessions, revocations)
	}
	_, err = s.Session(ctx, expired.ID)
	wantErr(t, "expired session after purge", err, actas.ErrNotFound)
	for gen := range 2 {
		_, _, err = s.SessionByRefreshToken(ctx, refreshToken(expired.ID, gen).Hash)
		wantErr(t, "refresh token of a purged session", err, actas.ErrNotFound)
	}
	for _, sess := range []*actas.Session{alive, edge, revoked} {
		if _, err := s.Session(ctx, sess.ID); err != nil {
			t.Errorf("unexpired session after purge: %v", err)
		}
	}
	if _, _, err := s.SessionByRefreshToken(ctx, refreshToken(alive.ID, 0).Hash); err != nil {
		t.Errorf("refresh token of a kept session after purge: %v", err)
	}
	// Purged, not merely filtered: asked as of base, they are gone.
	left := mustRevocations(t, s, 0, at(0))
	if len(left) != 3 {
		t.Errorf("revocations left: got %d, want 3 (revoked session, 3h token, edge)", len(left))
	}
	mustEqual(t, "audit events after purge", mustAudit(t, s, actas.AuditFilter{}), audit)

	sessions, revocations, err = s.PurgeExpired(ctx, now)
	wantOK(t, "purge expired again", err)
	if sessions != 0 || revocations != 0 {
		t.Errorf("PurgeExpired again: deleted %d sessions and %d revocations, want none", sessions, revocations)
	}
}
