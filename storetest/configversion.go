package storetest

import (
	"testing"
	"time"

	"github.com/actas-dev/actas"
)

var configVersionTests = []test{
	{"ChangesWithConfiguration", testConfigVersion},
}

// testConfigVersion: the version moves with every change servers cache,
// and stays put for the traffic that must not thrash their caches.
func testConfigVersion(t *testing.T, s actas.Store) {
	ctx := t.Context()
	version := func() int64 {
		t.Helper()
		v, err := s.ConfigVersion(ctx)
		wantOK(t, "config version", err)
		return v
	}
	moves := func(what string, f func()) {
		t.Helper()
		before := version()
		f()
		if after := version(); after == before {
			t.Errorf("%s did not change the config version", what)
		}
	}
	stays := func(what string, f func()) {
		t.Helper()
		before := version()
		f()
		if after := version(); after != before {
			t.Errorf("%s changed the config version (%d -> %d): caches would thrash", what, before, after)
		}
	}

	var tn *actas.Tenant
	moves("CreateTenant", func() { tn = mustCreateTenant(t, s, "acme") })
	moves("UpdateTenant", func() {
		_, err := s.UpdateTenant(ctx, tn.ID, func(t *actas.Tenant) error { t.EndpointURL = "https://x.example"; return nil })
		wantOK(t, "update tenant", err)
	})
	_, key, _ := newTenant("other")
	key.TenantID = tn.ID
	moves("CreateAPIKey", func() { wantOK(t, "create api key", s.CreateAPIKey(ctx, key)) })
	stays("TouchAPIKey", func() { wantOK(t, "touch", s.TouchAPIKey(ctx, key.ID, base.Add(time.Hour))) })
	moves("RevokeAPIKey", func() { wantOK(t, "revoke api key", s.RevokeAPIKey(ctx, key.ID, base.Add(time.Hour))) })
	moves("UpdateSigningKeys", func() {
		_, err := s.UpdateSigningKeys(ctx, tn.ID, func(keys []*actas.SigningKey) ([]*actas.SigningKey, error) {
			for _, k := range keys {
				k.State = actas.KeyRetired
			}
			return keys, nil
		})
		wantOK(t, "update signing keys", err)
	})
	var u *actas.User
	stays("CreateUser", func() { u = mustCreateUser(t, s, tn.ID, "alice") })
	var sess *actas.Session
	stays("CreateSession", func() { sess = mustCreateSession(t, s, newSession(u)) })
	stays("UpdateSession", func() {
		_, err := s.UpdateSession(ctx, sess.ID, func(s *actas.Session) (*actas.RefreshToken, error) {
			s.LastRefreshAt = base.Add(time.Minute)
			return nil, nil
		})
		wantOK(t, "update session", err)
	})
	stays("RevokeSessions", func() {
		_, err := s.RevokeSessions(ctx, actas.RevokeQuery{TenantID: tn.ID, SessionID: sess.ID}, base, actas.ReasonLogout)
		wantOK(t, "revoke", err)
	})
}
