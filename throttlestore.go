package actas

import (
	"context"
	"time"
)

// ThrottleStore is implemented by stores that many replicas share
// (PostgreSQL): it keeps sign-in failure counts where every replica sees
// them, so that an attacker who spreads guesses over N replicas gets the
// budget of one. The issuer reads the counts of an attempt's keys once
// per password check and writes only on a failure (and when a right
// password clears a count that a failure wrote). A store used by one
// process (SQLite) need not implement it: the issuer's memory is then
// the whole truth.
//
// A key is an opaque string without NUL bytes, unique within a tenant.
type ThrottleStore interface {
	// ThrottleFailures returns the counts of those keys that have one.
	ThrottleFailures(ctx context.Context, tenantID string, keys []string) (map[string]ThrottleCount, error)
	// AddThrottleFailure counts one failure at now against each key,
	// starting afresh a key whose last failure was before reset.
	AddThrottleFailure(ctx context.Context, tenantID string, keys []string, now, reset time.Time) error
	// ClearThrottle forgets a key's count.
	ClearThrottle(ctx context.Context, tenantID, key string) error
	// PurgeThrottle forgets every count whose last failure was before t,
	// and returns how many.
	PurgeThrottle(ctx context.Context, before time.Time) (int, error)
}

// ThrottleCount is a key's failures and the time of the last.
type ThrottleCount struct {
	Failures int
	Last     time.Time
}
