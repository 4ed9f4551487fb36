package storetest

import (
	"testing"
	"time"

	"github.com/actas-dev/actas"
)

// TestDiff checks the comparison every conformance test relies on: it
// must see each kind of difference, and accept what the contract allows.
func TestDiff(t *testing.T) {
	k := &actas.APIKey{ID: "k", Hash: []byte{1, 2}, CreatedAt: base}
	u := &actas.User{ID: "u", Groups: []string{"a"}}
	for _, tc := range []struct {
		name      string
		got, want any
		same      bool
	}{
		{"identical", k, k, true},
		{"truncated to the millisecond", &actas.APIKey{ID: "k", Hash: []byte{1, 2}, CreatedAt: base},
			&actas.APIKey{ID: "k", Hash: []byte{1, 2}, CreatedAt: base.Add(999 * time.Microsecond)}, true},
		{"a millisecond off", &actas.APIKey{ID: "k", Hash: []byte{1, 2}, CreatedAt: base.Add(time.Millisecond)}, k, false},
		{"same instant, not UTC", &actas.APIKey{ID: "k", Hash: []byte{1, 2}, CreatedAt: base.In(time.FixedZone("X", 3600))}, k, false},
		{"zero for non-zero", &actas.APIKey{ID: "k", Hash: []byte{1, 2}}, k, false},
		{"non-zero for zero", k, &actas.APIKey{ID: "k", Hash: []byte{1, 2}}, false},
		{"bytes", &actas.APIKey{ID: "k", Hash: []byte{1, 3}, CreatedAt: base}, k, false},
		{"string", &actas.APIKey{ID: "x", Hash: []byte{1, 2}, CreatedAt: base}, k, false},
		{"nil and empty bytes", &actas.APIKey{Hash: nil}, &actas.APIKey{Hash: []byte{}}, true},
		{"groups", &actas.User{ID: "u", Groups: []string{"b"}}, u, false},
		{"nil and empty groups", &actas.User{Groups: nil}, &actas.User{Groups: []string{}}, true},
		{"settings", &actas.Tenant{Settings: actas.TenantSettings{AccessTTL: 1}}, &actas.Tenant{}, false},
		{"slice length", []*actas.User{u}, []*actas.User{u, u}, false},
		{"slice element", []*actas.User{u}, []*actas.User{{ID: "v"}}, false},
		{"nil pointer", (*actas.User)(nil), u, false},
	} {
		if d := diff(tc.got, tc.want); (len(d) == 0) != tc.same {
			t.Errorf("%s: diff = %q, want same=%v", tc.name, d, tc.same)
		}
	}
}
