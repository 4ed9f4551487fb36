package issuer

import (
	"math"

	"github.com/actas-dev/actas"
	"sync"
	"time"
)

// ThrottlePolicy bounds password guessing. Failures are counted per
// (username, client address), per client address, and per username;
// past a threshold each key waits an exponentially growing delay (base,
// doubling, capped) before it may try again. Counts are forgotten after
// Window without failures.
//
// Lockout as denial of service: a per-username lock is what lets an
// attacker lock a victim out (Keycloak's docs warn of it). actas keeps the
// strict limit on the (username, address) pair, so guessing from one
// address is slow while the victim, from another address, is unaffected;
// the per-username limit is high and its delay short (UserCap), so
// guessing from many addresses is bounded without a lock that an
// attacker can hold on a victim for long.
type ThrottlePolicy struct {
	PairThreshold int           // failures per (username, address) before delays start
	IPThreshold   int           // failures per address
	UserThreshold int           // failures per username, from any address
	Base          time.Duration // first delay
	Cap           time.Duration // longest delay for pair and address keys
	UserCap       time.Duration // longest delay for the username key
	Window        time.Duration // failures older than this are forgotten
	MaxKeys       int           // memory bound
}

// DefaultThrottle is the policy of a tenant with default settings.
var DefaultThrottle = ThrottlePolicy{
	PairThreshold: actas.DefaultThrottlePairFailures,
	IPThreshold:   actas.DefaultThrottleIPFailures,
	UserThreshold: actas.DefaultThrottleUserFailures,
	Base:          time.Second,
	Cap:           actas.DefaultThrottleMaxDelay,
	UserCap:       time.Minute,
	Window:        time.Hour,
	MaxKeys:       200_000,
}

// throttlePolicy returns a tenant's policy: the defaults with the
// tenant's limits.
func throttlePolicy(s actas.TenantSettings) ThrottlePolicy {
	p := DefaultThrottle
	p.PairThreshold = s.ThrottlePairFailures
	p.IPThreshold = s.ThrottleIPFailures
	p.UserThreshold = s.ThrottleUserFailures
	p.Cap = s.ThrottleMaxDelay.D()
	p.UserCap = min(p.UserCap, p.Cap)
	return p
}

type throttleEntry struct {
	failures int
	last     time.Time
	until    time.Time
}

// throttle is an in-memory failure counter. Each replica keeps its own;
// see docs/design.md for why that is enough. Its memory bound and window
// come from p; the thresholds and caps of each call come from the
// tenant's policy.
type throttle struct {
	p  ThrottlePolicy
	mu sync.Mutex
	m  map[string]*throttleEntry
}

func newThrottle(p ThrottlePolicy) *throttle {
	return &throttle{p: p, m: make(map[string]*throttleEntry)}
}

func throttleKeys(tenantID, username, ip string) (pair, addr, user string) {
	return "p\x00" + tenantID + "\x00" + username + "\x00" + ip, "a\x00" + tenantID + "\x00" + ip, "u\x00" + tenantID + "\x00" + username
}

// wait returns how long the caller must wait before trying, or 0.
func (t *throttle) wait(tenantID, username, ip string, now time.Time) time.Duration {
	pair, addr, user := throttleKeys(tenantID, username, ip)
	t.mu.Lock()
	defer t.mu.Unlock()
	var d time.Duration
	for _, k := range []string{pair, addr, user} {
		if e := t.m[k]; e != nil && e.until.After(now) {
			d = max(d, e.until.Sub(now))
		}
	}
	return d
}

// fail records a failed attempt under policy p.
func (t *throttle) fail(p ThrottlePolicy, tenantID, username, ip string, now time.Time) {
	pair, addr, user := throttleKeys(tenantID, username, ip)
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.m)+3 > t.p.MaxKeys { // a failure adds up to three keys
		t.sweep(now)
	}
	t.bump(p, pair, p.PairThreshold, p.Cap, now)
	t.bump(p, addr, p.IPThreshold, p.Cap, now)
	t.bump(p, user, p.UserThreshold, p.UserCap, now)
}

func (t *throttle) bump(p ThrottlePolicy, k string, threshold int, limit time.Duration, now time.Time) {
	e := t.m[k]
	if e == nil || now.Sub(e.last) > t.p.Window {
		e = &throttleEntry{}
		t.m[k] = e
	}
	e.failures++
	e.last = now
	if over := e.failures - threshold; over >= 0 {
		d := time.Duration(float64(p.Base) * math.Pow(2, float64(min(over, 30))))
		e.until = now.Add(min(d, limit))
	}
}

// succeed forgets the failures of the (username, address) pair and of the
// username: the right password from this address proves nothing is amiss
// here. The address count stays, so one address cannot reset its own
// count by signing in to an account it owns between guesses at others.
func (t *throttle) succeed(tenantID, username, ip string) {
	pair, _, user := throttleKeys(tenantID, username, ip)
	t.mu.Lock()
	delete(t.m, pair)
	delete(t.m, user)
	t.mu.Unlock()
}

// sweep drops entries that no longer matter; if that frees too little,
// it drops everything (failing open on memory pressure rather than
// growing without bound).
func (t *throttle) sweep(now time.Time) {
	for k, e := range t.m {
		if now.Sub(e.last) > t.p.Window || (!e.until.After(now) && e.failures < t.p.PairThreshold) {
			delete(t.m, k)
		}
	}
	if len(t.m)+3 > t.p.MaxKeys*9/10 {
		clear(t.m)
	}
}

// retryAfterSeconds rounds a wait up to whole seconds, at least 1.
func retryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
