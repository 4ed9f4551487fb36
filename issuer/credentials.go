package issuer

import (
	"context"
	"strings"
	"time"

	"github.com/actas-dev/actas"
)

// Replicas share the per-user and per-(user, address) failure counts
// through a store that implements actas.ThrottleStore (PostgreSQL): the
// credential check reads both keys in one statement before it reserves,
// and writes them in one statement after a failure. Per-address counts
// stay in each replica's memory (docs/security.md has the arithmetic).

// sharedKeys returns the store keys of an attempt: pair first, then user.
// A store key holds no NUL (PostgreSQL text cannot), and the address,
// which has no spaces, comes before the username, so keys cannot meet.
func sharedKeys(userKey, ip string) []string {
	userKey = strings.ReplaceAll(userKey, "\x00", "\uFFFD")
	return []string{"p " + addressKey(ip) + " " + userKey, "u " + userKey}
}

// sharedIndex maps sharedKeys' order to throttleKeys' (pair 0, user 2).
var sharedIndex = [2]int{0, 2}

// sharedThrottle reads what every replica counted for the attempt's
// pair and user keys; nil without a shared store.
func (i *Issuer) sharedThrottle(ctx context.Context, tenantID, userKey, ip string, p ThrottlePolicy) (*sharedState, error) {
	ts, ok := i.store.(actas.ThrottleStore)
	if !ok {
		return nil, nil
	}
	st := &sharedState{gens: i.throttle.generations(p, tenantID, userKey, ip), counts: map[int]shared{}}
	keys := sharedKeys(userKey, ip)
	counts, err := ts.ThrottleFailures(ctx, tenantID, keys)
	if err != nil {
		return nil, wrap("read sign-in failures", err)
	}
	for n, k := range keys {
		c := counts[k]
		st.counts[sharedIndex[n]] = shared{failures: c.Failures, last: c.Last}
	}
	return st, nil
}

// sharedWriteTimeout bounds a write of the shared counts. It runs even if
// the client has gone: a guess whose answer was computed is counted.
const sharedWriteTimeout = 5 * time.Second

// recordSharedFailure counts a failure in the shared store, before the
// replica counts it itself (see sharedState). A store that fails here
// costs the other replicas one failure's worth of knowledge, which is
// logged; this replica still counts it.
func (i *Issuer) recordSharedFailure(ctx context.Context, tenantID, userKey, ip string, p ThrottlePolicy, now time.Time) {
	ts, ok := i.store.(actas.ThrottleStore)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sharedWriteTimeout)
	defer cancel()
	if err := ts.AddThrottleFailure(ctx, tenantID, sharedKeys(userKey, ip), now, now.Add(-p.Window)); err != nil {
		i.log.Warn("recording a sign-in failure for other replicas failed", "err", err)
	}
}

// clearSharedPair forgets the shared (user, address) count after a right
// password, before the replica does, if there was one to forget: a
// success writes nothing otherwise.
func (i *Issuer) clearSharedPair(ctx context.Context, tenantID, userKey, ip string, st *sharedState) {
	ts, ok := i.store.(actas.ThrottleStore)
	if !ok || st == nil || st.counts[0].failures == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sharedWriteTimeout)
	defer cancel()
	if err := ts.ClearThrottle(ctx, tenantID, sharedKeys(userKey, ip)[0]); err != nil {
		i.log.Warn("clearing a sign-in failure count failed", "err", err)
	}
}
