package storetest

import (
	"testing"
	"time"

	"github.com/actas-dev/actas"
)

var signingKeyTests = []test{
	{"RoundTrip", testSigningKeyRoundTrip},
	{"Conflict", testSigningKeyConflict},
	{"Update", testSigningKeyUpdate},
	{"UpdateRefused", testSigningKeyUpdateRefused},
	{"UpdateNotFound", testSigningKeyUpdateNotFound},
}

func testSigningKeyRoundTrip(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn, key, keys := newTenant("acme")
	wantOK(t, "create tenant", s.CreateTenant(ctx, tn, key, keys))
	other := mustCreateTenant(t, s, "other")

	next := newSigningKey(tn.ID, actas.KeyUseID, at(time.Hour))
	next.State, next.Alg, next.ActivateAt = actas.KeyNext, actas.AlgRS256, at(2*time.Hour)
	retired := newSigningKey(tn.ID, actas.KeyUseAccess, odd) // older than the first keys
	retired.State, retired.Alg, retired.RetireUntil = actas.KeyRetired, actas.AlgEdDSA, at(time.Hour)
	for _, k := range []*actas.SigningKey{next, retired} {
		wantOK(t, "create signing key", s.CreateSigningKey(ctx, k))
	}

	got, err := s.SigningKeys(ctx, tn.ID)
	wantOK(t, "signing keys", err)
	all := []*actas.SigningKey{retired, keys[0], keys[1], next}
	mustEqual(t, "SigningKeys, oldest first", got, all)
	// TenantByPoolID reads the same keys, in the same order, less their
	// private halves; and only this tenant's.
	gotTenant, public, err := s.TenantByPoolID(ctx, tn.UserPoolID)
	wantOK(t, "tenant by pool id", err)
	mustEqual(t, "TenantByPoolID's tenant", gotTenant, tn)
	mustEqual(t, "TenantByPoolID's keys, oldest first", public, publicHalves(all))

	// A tenant whose keys are all gone (none is ever deleted today) is
	// still found, with no keys.
	bare, bareKey, _ := newTenant("bare")
	wantOK(t, "create tenant without keys", s.CreateTenant(ctx, bare, bareKey, nil))
	gotTenant, public, err = s.TenantByPoolID(ctx, bare.UserPoolID)
	wantOK(t, "tenant by pool id, no keys", err)
	mustEqual(t, "TenantByPoolID without keys", gotTenant, bare)
	if len(public) != 0 {
		t.Errorf("TenantByPoolID of a tenant without keys: %d keys", len(public))
	}
	got, err = s.SigningKeys(ctx, other.ID)
	wantOK(t, "signing keys", err)
	if len(got) != 2 {
		t.Errorf("SigningKeys of the other tenant: got %d, want its 2", len(got))
	}
	got, err = s.SigningKeys(ctx, actas.NewID())
	wantOK(t, "signing keys of an unknown tenant", err)
	if len(got) != 0 {
		t.Errorf("SigningKeys of an unknown tenant: got %d", len(got))
	}
}

func testSigningKeyConflict(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn, key, keys := newTenant("acme")
	wantOK(t, "create tenant", s.CreateTenant(ctx, tn, key, keys))
	dup := newSigningKey(tn.ID, actas.KeyUseAccess, at(time.Hour))
	dup.KID = keys[0].KID
	wantErr(t, "CreateSigningKey with a taken kid", s.CreateSigningKey(ctx, dup), actas.ErrConflict)

	_, err := s.UpdateSigningKeys(ctx, tn.ID, func(ks []*actas.SigningKey) ([]*actas.SigningKey, error) {
		ks[1].State = actas.KeyRetired
		fresh := newSigningKey(tn.ID, actas.KeyUseID, at(time.Hour))
		again := newSigningKey(tn.ID, actas.KeyUseID, at(time.Hour))
		again.KID = fresh.KID
		return append(ks, fresh, again), nil
	})
	wantErr(t, "UpdateSigningKeys appending a kid twice", err, actas.ErrConflict)
	got, err := s.SigningKeys(ctx, tn.ID)
	wantOK(t, "signing keys", err)
	mustEqual(t, "keys after conflicts", got, keys)
}

// testSigningKeyUpdate rotates: the active key retires, the next one
// activates, a new next key is appended, all in one call.
func testSigningKeyUpdate(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn, key, keys := newTenant("acme")
	wantOK(t, "create tenant", s.CreateTenant(ctx, tn, key, keys))
	other := mustCreateTenant(t, s, "other")
	otherKeys, err := s.SigningKeys(ctx, other.ID)
	wantOK(t, "signing keys", err)
	next := newSigningKey(tn.ID, actas.KeyUseID, at(time.Minute))
	next.State = actas.KeyNext
	wantOK(t, "create signing key", s.CreateSigningKey(ctx, next))

	fresh := newSigningKey(tn.ID, actas.KeyUseID, at(time.Hour))
	fresh.State, fresh.ActivateAt = actas.KeyNext, at(25*time.Hour)
	wantRetired, wantActive := *keys[0], *next
	wantRetired.State, wantRetired.RetireUntil = actas.KeyRetired, at(2*time.Hour)
	wantActive.State = actas.KeyActive
	want := []*actas.SigningKey{&wantRetired, keys[1], &wantActive, fresh}

	got, err := s.UpdateSigningKeys(ctx, tn.ID, func(ks []*actas.SigningKey) ([]*actas.SigningKey, error) {
		mustEqual(t, "keys seen by fn", ks, []*actas.SigningKey{keys[0], keys[1], next})
		for _, k := range ks {
			switch k.KID {
			case keys[0].KID:
				k.State, k.RetireUntil = actas.KeyRetired, wantRetired.RetireUntil
			case next.KID:
				k.State = actas.KeyActive
			}
		}
		return append(ks, fresh), nil
	})
	wantOK(t, "update signing keys", err)
	mustEqual(t, "UpdateSigningKeys result", got, want)
	stored, err := s.SigningKeys(ctx, tn.ID)
	wantOK(t, "signing keys", err)
	mustEqual(t, "stored keys", stored, want)
	stored, err = s.SigningKeys(ctx, other.ID)
	wantOK(t, "signing keys", err)
	mustEqual(t, "other tenant's keys", stored, otherKeys)
}

func testSigningKeyUpdateRefused(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn, key, keys := newTenant("acme")
	wantOK(t, "create tenant", s.CreateTenant(ctx, tn, key, keys))
	_, err := s.UpdateSigningKeys(ctx, tn.ID, func(ks []*actas.SigningKey) ([]*actas.SigningKey, error) {
		ks[0].State = actas.KeyRetired
		return append(ks, newSigningKey(tn.ID, actas.KeyUseID, at(time.Hour))), errFn
	})
	wantErr(t, "UpdateSigningKeys with a refusing fn", err, errFn)
	got, err := s.SigningKeys(ctx, tn.ID)
	wantOK(t, "signing keys", err)
	mustEqual(t, "keys after refused update", got, keys)
}

func testSigningKeyUpdateNotFound(t *testing.T, s actas.Store) {
	mustCreateTenant(t, s, "acme")
	called := false
	_, err := s.UpdateSigningKeys(t.Context(), actas.NewID(), func(ks []*actas.SigningKey) ([]*actas.SigningKey, error) {
		called = true
		return ks, nil
	})
	wantErr(t, "UpdateSigningKeys of an unknown tenant", err, actas.ErrNotFound)
	if called {
		t.Error("UpdateSigningKeys called fn for an unknown tenant")
	}
}

// publicHalves returns copies of keys without their private halves, as
// TenantByPoolID reads them.
func publicHalves(keys []*actas.SigningKey) []*actas.SigningKey {
	out := make([]*actas.SigningKey, len(keys))
	for i, k := range keys {
		c := *k
		c.PrivateEnc = nil
		out[i] = &c
	}
	return out
}
