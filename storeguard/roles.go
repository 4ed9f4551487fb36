package storeguard

import (
	"context"
	"time"

	"github.com/actas-dev/actas"
)

// Store returns s guarded, keeping the optional roles s offers beside
// actas.Store (today actas.ThrottleStore): the issuer finds them by type
// assertion, and a guard that hid them would silently make replicas stop
// sharing their sign-in failure budget.
func Store(s actas.Store, c Config) actas.Store {
	g := Wrap(s, c)
	if ts, ok := s.(actas.ThrottleStore); ok {
		return &throttleGuard{Guard: g, ts: ts}
	}
	return g
}

// throttleGuard is a Guard over a store that shares throttle counts; those
// calls are guarded like every other.
type throttleGuard struct {
	*Guard
	ts actas.ThrottleStore
}

var _ actas.ThrottleStore = (*throttleGuard)(nil)

func (g *throttleGuard) ThrottleFailures(ctx context.Context, tenantID string, keys []string) (map[string]actas.ThrottleCount, error) {
	return call(g.Guard, ctx, func(ctx context.Context) (map[string]actas.ThrottleCount, error) {
		return g.ts.ThrottleFailures(ctx, tenantID, keys)
	})
}

func (g *throttleGuard) AddThrottleFailure(ctx context.Context, tenantID string, keys []string, now, reset time.Time) error {
	return do(g.Guard, ctx, func(ctx context.Context) error { return g.ts.AddThrottleFailure(ctx, tenantID, keys, now, reset) })
}

func (g *throttleGuard) ClearThrottle(ctx context.Context, tenantID, key string) error {
	return do(g.Guard, ctx, func(ctx context.Context) error { return g.ts.ClearThrottle(ctx, tenantID, key) })
}

// PurgeThrottle is background work, left to the store's own bound as
// PurgeExpired is.
func (g *throttleGuard) PurgeThrottle(ctx context.Context, before time.Time) (int, error) {
	return g.ts.PurgeThrottle(ctx, before)
}
