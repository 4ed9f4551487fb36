package revocation

// Feed waiters are woken per tenant: a Sync that applies revocations of
// tenant A closes A's channel only, so a revocation in one tenant does
// not wake the feed waiters of every other tenant (each of which would
// look, find nothing, and wait again). The Set-wide channel
// (changedAll) still wakes everyone, for the one case where no tenant is
// known: a local revocation before the first Sync completed.

// tenantWaiters is the per-tenant channels of a Set, guarded by
// its mu. Only tenants with a waiter have one.
type tenantWaiters map[string]*tenantWaiter

type tenantWaiter struct {
	ch   chan struct{}
	refs int // waiters holding ch
}

// changedFor returns a channel closed at the next Sync that applies a
// revocation of the tenant, and a release to call when done waiting.
func (r *Set) changedFor(tenantID string) (<-chan struct{}, func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.waiters == nil {
		r.waiters = make(tenantWaiters)
	}
	w := r.waiters[tenantID]
	if w == nil {
		w = &tenantWaiter{ch: make(chan struct{})}
		r.waiters[tenantID] = w
	}
	w.refs++
	return w.ch, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		w.refs--
		if w.refs == 0 && r.waiters[tenantID] == w {
			delete(r.waiters, tenantID)
		}
	}
}

// wakeLocked wakes the waiters of one tenant; r.mu is held for writing.
func (r *Set) wakeLocked(tenantID string) {
	if w := r.waiters[tenantID]; w != nil {
		close(w.ch)
		delete(r.waiters, tenantID)
	}
}
