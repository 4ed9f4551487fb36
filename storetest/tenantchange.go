package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/actas-dev/actas"
)

var tenantChangeTests = []test{
	{"LogNamesTheTenant", testConfigChangesNameTenant},
	{"LogWindow", testConfigChangesWindow},
	{"TenantsAfterPages", testTenantsAfter},
}

// testConfigChangesNameTenant: every change ConfigVersion counts is
// logged under the version it moved to, naming its tenant, with
// consecutive versions; what ConfigVersion does not count is not logged.
func testConfigChangesNameTenant(t *testing.T, s actas.Store) {
	ctx := t.Context()
	v0, err := s.ConfigVersion(ctx)
	wantOK(t, "config version", err)
	a := mustCreateTenant(t, s, "alpha")
	b := mustCreateTenant(t, s, "beta")
	vb, err := s.ConfigVersion(ctx)
	wantOK(t, "config version", err)
	_, err = s.UpdateTenant(ctx, a.ID, func(t *actas.Tenant) error { t.EndpointURL = "https://a.example"; return nil })
	wantOK(t, "update tenant", err)
	_, key, _ := newTenant("x")
	key.TenantID = b.ID
	wantOK(t, "create api key", s.CreateAPIKey(ctx, key))
	wantOK(t, "touch", s.TouchAPIKey(ctx, key.ID, base.Add(time.Hour))) // not a change
	_, err = s.UpdateSigningKeys(ctx, a.ID, func(keys []*actas.SigningKey) ([]*actas.SigningKey, error) {
		return append(keys, newSigningKey(a.ID, actas.KeyUseID, at(time.Hour))), nil
	})
	wantOK(t, "update signing keys", err)
	mustCreateUser(t, s, a.ID, "alice") // not a change
	v1, err := s.ConfigVersion(ctx)
	wantOK(t, "config version", err)

	all, err := s.ConfigChanges(ctx, v0, 1000)
	wantOK(t, "config changes", err)
	if len(all) == 0 || all[len(all)-1].Version != v1 {
		t.Fatalf("changes after %d = %v, want the last at the current version %d", v0, all, v1)
	}
	for i, c := range all {
		if c.Version != v0+1+int64(i) {
			t.Fatalf("change %d has version %d, want %d: versions must be consecutive (%v)", i, c.Version, v0+1+int64(i), all)
		}
		if c.TenantID != a.ID && c.TenantID != b.ID {
			t.Fatalf("change %v names no tenant of the test", c)
		}
	}
	later, err := s.ConfigChanges(ctx, vb, 1000)
	wantOK(t, "config changes", err)
	var names []string
	for _, c := range later {
		if c.TenantID == a.ID {
			names = append(names, "a")
		} else {
			names = append(names, "b")
		}
	}
	names = slices.Compact(names)
	// The tenant update (a), the API key (b), the signing keys (a).
	if want := []string{"a", "b", "a"}; !slices.Equal(names, want) {
		t.Errorf("tenants of the changes after creation = %v, want %v", names, want)
	}
	limited, err := s.ConfigChanges(ctx, v0, 2)
	wantOK(t, "config changes", err)
	if len(limited) != 2 || limited[0].Version != v0+1 {
		t.Errorf("limit 2 gave %v", limited)
	}
	none, err := s.ConfigChanges(ctx, v1, 10)
	wantOK(t, "config changes", err)
	if len(none) != 0 {
		t.Errorf("changes after the current version = %v, want none", none)
	}
}

// testConfigChangesWindow: the log keeps the latest ConfigChangeWindow
// changes and no more.
func testConfigChangesWindow(t *testing.T, s actas.Store) {
	if testing.Short() {
		t.Skip("writes over ConfigChangeWindow changes")
	}
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "busy")
	// Each update of all the tenant's keys logs one change per key: give
	// it 100 keys, so a hundred updates fill the window.
	_, err := s.UpdateSigningKeys(ctx, tn.ID, func(keys []*actas.SigningKey) ([]*actas.SigningKey, error) {
		for i := range 98 {
			keys = append(keys, newSigningKey(tn.ID, actas.KeyUseID, at(time.Duration(i)*time.Second)))
		}
		return keys, nil
	})
	wantOK(t, "add signing keys", err)
	for range actas.ConfigChangeWindow/100 + 2 {
		_, err := s.UpdateSigningKeys(ctx, tn.ID, func(keys []*actas.SigningKey) ([]*actas.SigningKey, error) {
			for _, k := range keys {
				k.RetireUntil = k.RetireUntil.Add(time.Millisecond)
			}
			return keys, nil
		})
		wantOK(t, "update signing keys", err)
	}
	v, err := s.ConfigVersion(ctx)
	wantOK(t, "config version", err)
	all, err := s.ConfigChanges(ctx, 0, 2*actas.ConfigChangeWindow)
	wantOK(t, "config changes", err)
	if len(all) != actas.ConfigChangeWindow {
		t.Fatalf("log holds %d changes, want %d", len(all), actas.ConfigChangeWindow)
	}
	if all[0].Version != v-actas.ConfigChangeWindow+1 || all[len(all)-1].Version != v {
		t.Errorf("log spans %d..%d, want %d..%d", all[0].Version, all[len(all)-1].Version, v-actas.ConfigChangeWindow+1, v)
	}
}

// testTenantsAfter: pages by id cover every tenant once.
func testTenantsAfter(t *testing.T, s actas.Store) {
	ctx := t.Context()
	want := map[string]bool{}
	for _, n := range []string{"t1", "t2", "t3", "t4", "t5"} {
		want[mustCreateTenant(t, s, n).ID] = true
	}
	got := map[string]bool{}
	after := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		page, err := s.TenantsAfter(ctx, after, 2)
		wantOK(t, "tenants after", err)
		if len(page) > 2 {
			t.Fatalf("page of %d tenants, limit 2", len(page))
		}
		if len(page) == 0 {
			break
		}
		for _, tn := range page {
			if got[tn.ID] {
				t.Fatalf("tenant %s on two pages", tn.Name)
			}
			got[tn.ID] = true
			if tn.Settings.SigningAlg != actas.AlgES256 || tn.UserPoolID == "" {
				t.Errorf("tenant %s read back incompletely: %+v", tn.Name, tn)
			}
		}
		after = page[len(page)-1].ID
	}
	if len(got) != len(want) {
		t.Errorf("pages covered %d tenants, want %d", len(got), len(want))
	}
	first, err := s.TenantsAfter(ctx, "", 1)
	wantOK(t, "tenants after", err)
	if len(first) != 1 {
		t.Errorf("first page of one = %d tenants", len(first))
	}
}
