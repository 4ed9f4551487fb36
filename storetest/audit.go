package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/actas-dev/actas"
)

var auditTests = []test{
	{"RoundTrip", testAuditRoundTrip},
	{"Filter", testAuditFilter},
}

var storeTests = []test{
	{"Ping", testPing},
	{"ReturnsCopies", testReturnsCopies},
	{"KeepsNoReferences", testKeepsNoReferences},
	{"CanceledContext", testCanceledContext},
}

func testAuditRoundTrip(t *testing.T, s actas.Store) {
	ctx := t.Context()
	full := &actas.AuditEvent{Time: odd, TenantID: actas.NewID(), Action: actas.ActionImpersonate,
		ActorID: actas.NewID(), Actor: "alice", SubjectID: actas.NewID(), Subject: "Bob", SessionID: actas.NewID(),
		ParentID: actas.NewID(), APIKeyID: "key-1", IP: "203.0.113.9", UserAgent: "curl/8",
		Outcome: actas.OutcomeDenied, Reason: "ticket 7", Details: "target holds a privilege the caller lacks"}
	bare := &actas.AuditEvent{Time: at(time.Second), TenantID: full.TenantID, Action: actas.ActionExpire}
	for _, ev := range []*actas.AuditEvent{full, bare} {
		wantOK(t, "append audit", s.AppendAudit(ctx, ev))
	}
	got := mustAudit(t, s, actas.AuditFilter{})
	if len(got) != 2 {
		t.Fatalf("audit events: got %d, want 2", len(got))
	}
	if got[0].ID <= 0 || got[1].ID <= got[0].ID {
		t.Errorf("audit IDs: got %d then %d, want positive and increasing", got[0].ID, got[1].ID)
	}
	for i, want := range []*actas.AuditEvent{full, bare} {
		w := *want
		w.ID = got[i].ID
		mustEqual(t, fmt.Sprintf("audit event %d", i), got[i], &w)
	}
}

func testAuditFilter(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tA, tB := actas.NewID(), actas.NewID()
	// Appended in this order; times are not in ID order on purpose.
	for _, e := range []struct {
		tenant, action string
		min            int
	}{
		{tA, actas.ActionSignIn, 0},
		{tB, actas.ActionSignIn, 1},
		{tA, actas.ActionImpersonate, 5},
		{tA, actas.ActionSignIn, 3},
		{tB, actas.ActionExpire, 4},
		{tA, actas.ActionSignIn, 6},
	} {
		wantOK(t, "append audit", s.AppendAudit(ctx, &actas.AuditEvent{Time: at(time.Duration(e.min) * time.Minute),
			TenantID: e.tenant, Action: e.action, Outcome: actas.OutcomeAllowed}))
	}
	all := mustAudit(t, s, actas.AuditFilter{})
	if len(all) != 6 {
		t.Fatalf("audit events: got %d, want 6", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID <= all[i-1].ID {
			t.Fatalf("audit events not in ID order: %d after %d", all[i].ID, all[i-1].ID)
		}
	}
	pick := func(idx ...int) []*actas.AuditEvent {
		var out []*actas.AuditEvent
		for _, i := range idx {
			out = append(out, all[i])
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    actas.AuditFilter
		want []*actas.AuditEvent
	}{
		{"tenant", actas.AuditFilter{TenantID: tA}, pick(0, 2, 3, 5)},
		{"action", actas.AuditFilter{Action: actas.ActionSignIn}, pick(0, 1, 3, 5)},
		{"tenant and action", actas.AuditFilter{TenantID: tA, Action: actas.ActionSignIn}, pick(0, 3, 5)},
		{"since", actas.AuditFilter{Since: at(150 * time.Second)}, pick(2, 3, 4, 5)},
		{"after id", actas.AuditFilter{AfterID: all[2].ID}, pick(3, 4, 5)},
		{"limit", actas.AuditFilter{Limit: 2}, pick(0, 1)},
		{"everything", actas.AuditFilter{TenantID: tA, Action: actas.ActionSignIn, Since: at(2 * time.Minute),
			AfterID: all[0].ID, Limit: 1}, pick(3)},
		{"unknown tenant", actas.AuditFilter{TenantID: actas.NewID()}, nil},
	} {
		got := mustAudit(t, s, tc.f)
		if d := diff(got, tc.want); len(d) > 0 {
			t.Errorf("AuditEvents(%s): got %s, want %s", tc.name, eventIDs(got), eventIDs(tc.want))
		}
	}
}

func eventIDs(evs []*actas.AuditEvent) string {
	var ids []int64
	for _, e := range evs {
		ids = append(ids, e.ID)
	}
	return fmt.Sprint(ids)
}

func testPing(t *testing.T, s actas.Store) {
	wantOK(t, "ping", s.Ping(t.Context()))
}

// testReturnsCopies mutates what the store returned: the stored records
// must not change.
func testReturnsCopies(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	u := mustCreateUser(t, s, tn.ID, "alice")
	sess := mustCreateSession(t, s, newSession(u))

	gotT, err := s.Tenant(ctx, tn.ID)
	wantOK(t, "tenant", err)
	gotT.Name, gotT.Settings.AccessTTL = "mutated", 1
	gotU, err := s.User(ctx, tn.ID, u.ID)
	wantOK(t, "user", err)
	gotU.Groups[0], gotU.Status = "mutated", actas.UserDisabled
	users, err := s.Users(ctx, tn.ID)
	wantOK(t, "users", err)
	users[0].Groups[0] = "mutated"
	gotS, gotRT, err := s.SessionByRefreshToken(ctx, refreshToken(sess.ID, 0).Hash)
	wantOK(t, "session by refresh token", err)
	gotS.RevokedAt, gotRT.Hash[0] = at(time.Hour), gotRT.Hash[0]+1
	keys, err := s.SigningKeys(ctx, tn.ID)
	wantOK(t, "signing keys", err)
	want0 := *keys[0]
	want0.PrivateEnc = append([]byte(nil), keys[0].PrivateEnc...)
	keys[0].PrivateEnc[0]++
	keys[0].State = actas.KeyRetired

	got, err := s.Tenant(ctx, tn.ID)
	wantOK(t, "tenant", err)
	mustEqual(t, "tenant after mutating a returned copy", got, tn)
	gotU, err = s.User(ctx, tn.ID, u.ID)
	wantOK(t, "user", err)
	mustEqual(t, "user after mutating returned copies", gotU, u)
	mustEqual(t, "session after mutating a returned copy", mustSession(t, s, sess.ID), sess)
	if _, _, err := s.SessionByRefreshToken(ctx, refreshToken(sess.ID, 0).Hash); err != nil {
		t.Errorf("refresh token after mutating a returned hash: %v", err)
	}
	keys, err = s.SigningKeys(ctx, tn.ID)
	wantOK(t, "signing keys", err)
	mustEqual(t, "signing key after mutating a returned copy", keys[0], &want0)
}

// testKeepsNoReferences mutates what the caller passed in after the call:
// the stored records must not change.
func testKeepsNoReferences(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn, key, keys := newTenant("acme")
	wantOK(t, "create tenant", s.CreateTenant(ctx, tn, key, keys))
	wantT, wantK := *tn, *key
	wantK.Hash = append([]byte(nil), key.Hash...)
	tn.Name, key.Hash[0] = "mutated", key.Hash[0]+1

	u := newUser(tn.ID, "alice")
	wantOK(t, "create user", s.CreateUser(ctx, u))
	wantU := *u
	wantU.Groups = append([]string(nil), u.Groups...)
	u.Groups[0], u.Email = "mutated", "mutated@example.com"

	got, err := s.Tenant(ctx, tn.ID)
	wantOK(t, "tenant", err)
	mustEqual(t, "tenant after mutating the argument", got, &wantT)
	gotK, err := s.APIKey(ctx, key.ID)
	wantOK(t, "api key", err)
	mustEqual(t, "api key after mutating the argument", gotK, &wantK)
	gotU, err := s.User(ctx, tn.ID, u.ID)
	wantOK(t, "user", err)
	mustEqual(t, "user after mutating the argument", gotU, &wantU)
}

// testCanceledContext: ctx bounds every call, so a canceled one fails and
// writes nothing.
func testCanceledContext(t *testing.T, s actas.Store) {
	tn := mustCreateTenant(t, s, "acme")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Ping(ctx); err == nil {
		t.Error("Ping with a canceled context: no error")
	}
	if _, err := s.Tenant(ctx, tn.ID); err == nil {
		t.Error("Tenant with a canceled context: no error")
	}
	u := newUser(tn.ID, "alice")
	if err := s.CreateUser(ctx, u); err == nil {
		t.Error("CreateUser with a canceled context: no error")
	}
	_, err := s.User(t.Context(), tn.ID, u.ID)
	wantErr(t, "user created with a canceled context", err, actas.ErrNotFound)
}
