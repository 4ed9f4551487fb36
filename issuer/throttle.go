package issuer

import (
	"math"
	"net/netip"

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
	ip = addressKey(ip)
	return "p\x00" + tenantID + "\x00" + username + "\x00" + ip, "a\x00" + tenantID + "\x00" + ip, "u\x00" + tenantID + "\x00" + username
}

// addressKey is the unit an address is counted in: an IPv4 address, or
// the /64 of an IPv6 one (a single host commonly holds a whole /64, so
// counting its addresses one by one would count nothing).
func addressKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || a.Is4() || a.Is4In6() {
		return ip
	}
	p, err := a.Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}

// wait returns how long the caller must wait before trying, or 0.
func (t *throttle) wait(tenantID, username, ip string, now time.Time) time.Duration {
	pair, addr, user := throttleKeys(tenantID, username, ip)
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.waitLocked(now, pair, addr, user)
}

func (t *throttle) waitLocked(now time.Time, keys ...string) time.Duration {
	var d time.Duration
	for _, k := range keys {
		if e := t.m[k]; e != nil && e.until.After(now) {
			d = max(d, e.until.Sub(now))
		}
	}
	return d
}

// begin is called before a password is checked. If the caller must wait
// it returns how long; otherwise it counts the attempt as a failure at
// once, so that a burst of parallel guesses is counted before any of
// them has finished hashing. The caller then reports success (succeed)
// or that no password was checked at all (undo); a failure needs no
// further call.
func (t *throttle) begin(p ThrottlePolicy, tenantID, username, ip string, now time.Time) time.Duration {
	pair, addr, user := throttleKeys(tenantID, username, ip)
	t.mu.Lock()
	defer t.mu.Unlock()
	if d := t.waitLocked(now, pair, addr, user); d > 0 {
		return d
	}
	t.failLocked(p, now, pair, addr, user)
	return 0
}

// fail records a failed attempt under policy p.
func (t *throttle) fail(p ThrottlePolicy, tenantID, username, ip string, now time.Time) {
	pair, addr, user := throttleKeys(tenantID, username, ip)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.failLocked(p, now, pair, addr, user)
}

func (t *throttle) failLocked(p ThrottlePolicy, now time.Time, pair, addr, user string) {
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

// unbump takes back one counted failure of k.
func (t *throttle) unbump(k string) {
	if e := t.m[k]; e != nil && e.failures > 0 {
		e.failures--
	}
}

// succeed forgets the failures of the (username, address) pair and of the
// username: the right password from this address proves nothing is amiss
// here. The address count only loses the attempt begin counted, so one
// address cannot reset its own count by signing in to an account it owns
// between guesses at others.
func (t *throttle) succeed(tenantID, username, ip string) {
	pair, addr, user := throttleKeys(tenantID, username, ip)
	t.mu.Lock()
	delete(t.m, pair)
	delete(t.m, user)
	t.unbump(addr)
	t.mu.Unlock()
}

// undo takes back the failure begin counted for an attempt whose password
// was never checked (the hasher was busy, the store failed).
func (t *throttle) undo(tenantID, username, ip string) {
	pair, addr, user := throttleKeys(tenantID, username, ip)
	t.mu.Lock()
	t.unbump(pair)
	t.unbump(addr)
	t.unbump(user)
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
