package revocation

import (
	"testing"
	"time"
)

// TestFeedWaitersWokenForTheirTenantOnly: a Sync that applies tenant A's
// revocation wakes A's feed waiters, not B's.
func TestFeedWaitersWokenForTheirTenantOnly(t *testing.T) {
	f := newRingFixture(t)
	ctx := t.Context()
	chA, relA := f.set.changedFor(tenantA)
	defer relA()
	chB, relB := f.set.changedFor(tenantB)
	defer relB()
	f.commit(t, tenantA, time.Hour)
	if err := f.set.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-chA:
	default:
		t.Error("tenant a's waiters were not woken by its revocation")
	}
	select {
	case <-chB:
		t.Error("tenant b's waiters were woken by a revocation in tenant a")
	default:
	}
	relA()
	relB()
	relA, relB = func() {}, func() {}
	f.set.mu.RLock()
	n := len(f.set.waiters)
	f.set.mu.RUnlock()
	if n != 0 {
		t.Errorf("%d tenants' wake-up channels left after every waiter left", n)
	}
}
