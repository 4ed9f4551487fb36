package storetest

import (
	"testing"
	"time"

	"github.com/actas-dev/actas"
)

var tenantTests = []test{
	{"RoundTrip", testTenantRoundTrip},
	{"NotFound", testTenantNotFound},
	{"Conflict", testTenantConflict},
	{"CreateAtomic", testTenantCreateAtomic},
	{"List", testTenantList},
	{"Update", testTenantUpdate},
	{"UpdateRefused", testTenantUpdateRefused},
	{"UpdateConflict", testTenantUpdateConflict},
}

var apiKeyTests = []test{
	{"RoundTrip", testAPIKeyRoundTrip},
	{"NotFound", testAPIKeyNotFound},
	{"Conflict", testAPIKeyConflict},
	{"Revoke", testAPIKeyRevoke},
	{"Touch", testAPIKeyTouch},
}

func testTenantRoundTrip(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn, key, keys := newTenant("acme")
	wantOK(t, "create tenant", s.CreateTenant(ctx, tn, key, keys))

	got, err := s.Tenant(ctx, tn.ID)
	wantOK(t, "tenant", err)
	mustEqual(t, "Tenant", got, tn)
	got, err = s.TenantByName(ctx, tn.Name)
	wantOK(t, "tenant by name", err)
	mustEqual(t, "TenantByName", got, tn)
	got, gotPublic, err := s.TenantByPoolID(ctx, tn.UserPoolID)
	wantOK(t, "tenant by pool id", err)
	mustEqual(t, "TenantByPoolID", got, tn)
	mustEqual(t, "TenantByPoolID's keys", gotPublic, publicHalves(keys))

	gotKey, err := s.APIKey(ctx, key.ID)
	wantOK(t, "api key", err)
	mustEqual(t, "first API key", gotKey, key)
	gotKeys, err := s.SigningKeys(ctx, tn.ID)
	wantOK(t, "signing keys", err)
	mustEqual(t, "first signing keys", gotKeys, keys)

	// Default settings survive too (Duration zero values, empty strings).
	tn2, key2, keys2 := newTenant("plain")
	tn2.Settings = actas.TenantSettings{}
	wantOK(t, "create tenant", s.CreateTenant(ctx, tn2, key2, keys2))
	got, err = s.Tenant(ctx, tn2.ID)
	wantOK(t, "tenant", err)
	mustEqual(t, "tenant with zero settings", got, tn2)
}

func testTenantNotFound(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	_, err := s.Tenant(ctx, actas.NewID())
	wantErr(t, "Tenant", err, actas.ErrNotFound)
	_, err = s.TenantByName(ctx, "nope")
	wantErr(t, "TenantByName", err, actas.ErrNotFound)
	_, _, err = s.TenantByPoolID(ctx, "local_AAAAAAAAA")
	wantErr(t, "TenantByPoolID", err, actas.ErrNotFound)
	// Each lookup reads its own column.
	_, err = s.TenantByName(ctx, tn.UserPoolID)
	wantErr(t, "TenantByName(pool id)", err, actas.ErrNotFound)
	_, _, err = s.TenantByPoolID(ctx, tn.Name)
	wantErr(t, "TenantByPoolID(name)", err, actas.ErrNotFound)
	called := false
	_, err = s.UpdateTenant(ctx, actas.NewID(), func(*actas.Tenant) error { called = true; return nil })
	wantErr(t, "UpdateTenant", err, actas.ErrNotFound)
	if called {
		t.Error("UpdateTenant called fn for a missing tenant")
	}
}

func testTenantConflict(t *testing.T, s actas.Store) {
	ctx := t.Context()
	first := mustCreateTenant(t, s, "acme")

	for _, tc := range []struct {
		name   string
		modify func(tn *actas.Tenant)
	}{
		{"same name", func(tn *actas.Tenant) { tn.Name = first.Name }},
		{"same pool id", func(tn *actas.Tenant) { tn.UserPoolID = first.UserPoolID }},
		{"same id", func(tn *actas.Tenant) { tn.ID = first.ID }},
	} {
		tn, key, keys := newTenant("other")
		tc.modify(tn)
		key.TenantID = tn.ID
		for _, k := range keys {
			k.TenantID = tn.ID
		}
		wantErr(t, "CreateTenant with the "+tc.name, s.CreateTenant(ctx, tn, key, keys), actas.ErrConflict)
	}
	tenants, err := s.Tenants(ctx)
	wantOK(t, "tenants", err)
	if len(tenants) != 1 {
		t.Errorf("Tenants: got %d after conflicts, want 1", len(tenants))
	}
}

// testTenantCreateAtomic checks that a clash in the API key or a signing
// key leaves no trace of the tenant.
func testTenantCreateAtomic(t *testing.T, s actas.Store) {
	ctx := t.Context()
	first, firstKey, firstKeys := newTenant("acme")
	wantOK(t, "create tenant", s.CreateTenant(ctx, first, firstKey, firstKeys))

	tn, key, keys := newTenant("dup-api-key")
	key.ID = firstKey.ID
	wantErr(t, "CreateTenant with a taken API key id", s.CreateTenant(ctx, tn, key, keys), actas.ErrConflict)
	_, err := s.TenantByName(ctx, tn.Name)
	wantErr(t, "tenant after failed create", err, actas.ErrNotFound)
	ks, err := s.SigningKeys(ctx, tn.ID)
	wantOK(t, "signing keys", err)
	if len(ks) != 0 {
		t.Errorf("%d signing keys stored although their tenant was not", len(ks))
	}

	tn, key, keys = newTenant("dup-kid")
	keys[1].KID = keys[0].KID
	wantErr(t, "CreateTenant with a duplicate kid", s.CreateTenant(ctx, tn, key, keys), actas.ErrConflict)
	_, err = s.Tenant(ctx, tn.ID)
	wantErr(t, "tenant after failed create", err, actas.ErrNotFound)
	_, err = s.APIKey(ctx, key.ID)
	wantErr(t, "api key after failed create", err, actas.ErrNotFound)
}

func testTenantList(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tenants, err := s.Tenants(ctx)
	wantOK(t, "tenants", err)
	if len(tenants) != 0 {
		t.Fatalf("Tenants of an empty store: got %d", len(tenants))
	}
	want := map[string]*actas.Tenant{}
	for _, name := range []string{"b", "a", "c"} {
		tn, key, keys := newTenant(name)
		wantOK(t, "create tenant", s.CreateTenant(ctx, tn, key, keys))
		want[tn.ID] = tn
	}
	tenants, err = s.Tenants(ctx)
	wantOK(t, "tenants", err)
	if len(tenants) != len(want) {
		t.Fatalf("Tenants: got %d, want %d", len(tenants), len(want))
	}
	for _, got := range tenants {
		if want[got.ID] == nil {
			t.Fatalf("Tenants returned unknown tenant %s", got.ID)
		}
		mustEqual(t, "listed tenant "+got.Name, got, want[got.ID])
	}
}

func testTenantUpdate(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	other := mustCreateTenant(t, s, "other")

	got, err := s.UpdateTenant(ctx, tn.ID, func(x *actas.Tenant) error {
		mustEqual(t, "tenant seen by fn", x, tn)
		x.EndpointURL = "https://new.example"
		x.Settings.RefreshRotation = false
		x.Settings.AccessTTL = actas.Duration(2 * time.Hour)
		x.Settings.SigningAlg = actas.AlgEdDSA
		return nil
	})
	wantOK(t, "update tenant", err)
	want := *tn
	want.EndpointURL = "https://new.example"
	want.Settings.RefreshRotation = false
	want.Settings.AccessTTL = actas.Duration(2 * time.Hour)
	want.Settings.SigningAlg = actas.AlgEdDSA
	mustEqual(t, "UpdateTenant result", got, &want)
	stored, err := s.Tenant(ctx, tn.ID)
	wantOK(t, "tenant", err)
	mustEqual(t, "stored tenant", stored, &want)
	stored, err = s.Tenant(ctx, other.ID)
	wantOK(t, "tenant", err)
	mustEqual(t, "other tenant", stored, other)
}

func testTenantUpdateRefused(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	_, err := s.UpdateTenant(ctx, tn.ID, func(x *actas.Tenant) error {
		x.EndpointURL = "https://changed.example"
		x.Settings.ImpersonationDisabled = false
		return errFn
	})
	wantErr(t, "UpdateTenant with a refusing fn", err, errFn)
	stored, err := s.Tenant(ctx, tn.ID)
	wantOK(t, "tenant", err)
	mustEqual(t, "tenant after refused update", stored, tn)
}

func testTenantUpdateConflict(t *testing.T, s actas.Store) {
	ctx := t.Context()
	a := mustCreateTenant(t, s, "a")
	b := mustCreateTenant(t, s, "b")
	_, err := s.UpdateTenant(ctx, b.ID, func(x *actas.Tenant) error {
		x.Name = a.Name
		x.EndpointURL = "https://changed.example"
		return nil
	})
	wantErr(t, "UpdateTenant to a taken name", err, actas.ErrConflict)
	stored, err := s.Tenant(ctx, b.ID)
	wantOK(t, "tenant", err)
	mustEqual(t, "tenant after conflicting update", stored, b)
}

func testAPIKeyRoundTrip(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn, first, keys := newTenant("acme")
	wantOK(t, "create tenant", s.CreateTenant(ctx, tn, first, keys))
	mustCreateTenant(t, s, "other")

	used := &actas.APIKey{ID: "key-used", TenantID: tn.ID, Name: "ci", Hash: sha("used"),
		CreatedAt: at(time.Minute), LastUsedAt: odd, RevokedAt: at(time.Hour)}
	wantOK(t, "create api key", s.CreateAPIKey(ctx, used))
	got, err := s.APIKey(ctx, used.ID)
	wantOK(t, "api key", err)
	mustEqual(t, "APIKey", got, used)

	list, err := s.APIKeys(ctx, tn.ID)
	wantOK(t, "api keys", err)
	byID := map[string]*actas.APIKey{}
	for _, k := range list {
		byID[k.ID] = k
	}
	if len(list) != 2 || byID[first.ID] == nil || byID[used.ID] == nil {
		t.Fatalf("APIKeys: got %d keys %v, want %s and %s only", len(list), byID, first.ID, used.ID)
	}
	mustEqual(t, "listed first key", byID[first.ID], first)
	mustEqual(t, "listed used key", byID[used.ID], used)

	list, err = s.APIKeys(ctx, actas.NewID())
	wantOK(t, "api keys of an unknown tenant", err)
	if len(list) != 0 {
		t.Errorf("APIKeys of an unknown tenant: got %d", len(list))
	}
}

func testAPIKeyNotFound(t *testing.T, s actas.Store) {
	ctx := t.Context()
	mustCreateTenant(t, s, "acme")
	_, err := s.APIKey(ctx, "key-nope")
	wantErr(t, "APIKey", err, actas.ErrNotFound)
	wantErr(t, "RevokeAPIKey", s.RevokeAPIKey(ctx, "key-nope", at(0)), actas.ErrNotFound)
	wantErr(t, "TouchAPIKey", s.TouchAPIKey(ctx, "key-nope", at(0)), actas.ErrNotFound)
}

func testAPIKeyConflict(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn, first, keys := newTenant("acme")
	wantOK(t, "create tenant", s.CreateTenant(ctx, tn, first, keys))
	dup := &actas.APIKey{ID: first.ID, TenantID: tn.ID, Name: "dup", Hash: sha("dup"), CreatedAt: at(0)}
	wantErr(t, "CreateAPIKey with a taken id", s.CreateAPIKey(ctx, dup), actas.ErrConflict)
	got, err := s.APIKey(ctx, first.ID)
	wantOK(t, "api key", err)
	mustEqual(t, "key after conflict", got, first)
}

func testAPIKeyRevoke(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn, key, keys := newTenant("acme")
	wantOK(t, "create tenant", s.CreateTenant(ctx, tn, key, keys))
	wantOK(t, "revoke", s.RevokeAPIKey(ctx, key.ID, at(time.Hour)))
	got, err := s.APIKey(ctx, key.ID)
	wantOK(t, "api key", err)
	want := *key
	want.RevokedAt = at(time.Hour)
	mustEqual(t, "revoked key", got, &want)
	if !got.Revoked() {
		t.Error("revoked key: Revoked() is false")
	}

	wantOK(t, "revoke again", s.RevokeAPIKey(ctx, key.ID, at(2*time.Hour)))
	got, err = s.APIKey(ctx, key.ID)
	wantOK(t, "api key", err)
	mustEqual(t, "key revoked twice", got, &want)
}

func testAPIKeyTouch(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn, key, keys := newTenant("acme")
	wantOK(t, "create tenant", s.CreateTenant(ctx, tn, key, keys))
	want := *key
	for _, d := range []time.Duration{time.Minute, time.Hour} {
		wantOK(t, "touch", s.TouchAPIKey(ctx, key.ID, at(d)))
		got, err := s.APIKey(ctx, key.ID)
		wantOK(t, "api key", err)
		want.LastUsedAt = at(d)
		mustEqual(t, "touched key", got, &want)
	}
}
