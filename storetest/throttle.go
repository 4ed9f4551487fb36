package storetest

import (
	"testing"
	"time"

	"github.com/actas-dev/actas"
)

// throttleTests cover actas.ThrottleStore, for stores that implement it
// (a store used by one process need not; the tests then skip).
var throttleTests = []test{
	{"Counts", testThrottleCounts},
}

func testThrottleCounts(t *testing.T, s actas.Store) {
	ts, ok := s.(actas.ThrottleStore)
	if !ok {
		t.Skip("the store keeps no shared throttle counts")
	}
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	other := mustCreateTenant(t, s, "other")
	keys := []string{"p 192.0.2.1 alice", "u alice"}

	got, err := ts.ThrottleFailures(ctx, tn.ID, keys)
	wantOK(t, "ThrottleFailures(none)", err)
	if len(got) != 0 {
		t.Fatalf("counts before any failure: %v", got)
	}
	for n := range 3 {
		wantOK(t, "AddThrottleFailure", ts.AddThrottleFailure(ctx, tn.ID, keys, at(time.Duration(n)*time.Second), at(-time.Hour)))
	}
	wantOK(t, "AddThrottleFailure(user only)", ts.AddThrottleFailure(ctx, tn.ID, keys[1:], at(3*time.Second), at(-time.Hour)))
	got, err = ts.ThrottleFailures(ctx, tn.ID, append(keys, "u nobody"))
	wantOK(t, "ThrottleFailures", err)
	want := map[string]actas.ThrottleCount{
		keys[0]: {Failures: 3, Last: at(2 * time.Second).Truncate(time.Millisecond)},
		keys[1]: {Failures: 4, Last: at(3 * time.Second).Truncate(time.Millisecond)},
	}
	for k, w := range want {
		if g := got[k]; g.Failures != w.Failures || !g.Last.Equal(w.Last) {
			t.Errorf("count of %q = %+v, want %+v", k, g, w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("counts = %v, want %v", got, want)
	}

	// Counts are per tenant.
	got, err = ts.ThrottleFailures(ctx, other.ID, keys)
	wantOK(t, "ThrottleFailures(other tenant)", err)
	if len(got) != 0 {
		t.Errorf("another tenant sees counts: %v", got)
	}

	// A failure after the reset time's window starts afresh.
	wantOK(t, "AddThrottleFailure(after the window)", ts.AddThrottleFailure(ctx, tn.ID, keys[1:], at(2*time.Hour), at(time.Hour)))
	got, _ = ts.ThrottleFailures(ctx, tn.ID, keys[1:])
	if got[keys[1]].Failures != 1 {
		t.Errorf("count after the window: %v, want 1", got[keys[1]])
	}

	wantOK(t, "ClearThrottle", ts.ClearThrottle(ctx, tn.ID, keys[0]))
	got, _ = ts.ThrottleFailures(ctx, tn.ID, keys)
	if _, ok := got[keys[0]]; ok || got[keys[1]].Failures != 1 {
		t.Errorf("after ClearThrottle of the pair: %v", got)
	}

	n, err := ts.PurgeThrottle(ctx, at(time.Hour))
	wantOK(t, "PurgeThrottle(nothing old)", err)
	if n != 0 {
		t.Errorf("PurgeThrottle deleted %d recent counts", n)
	}
	n, err = ts.PurgeThrottle(ctx, at(3*time.Hour))
	wantOK(t, "PurgeThrottle", err)
	if n != 1 {
		t.Errorf("PurgeThrottle deleted %d, want 1", n)
	}
}
