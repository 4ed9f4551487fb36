package issuer

import (
	"container/list"
	"context"
	"errors"
	"math"
	"net/netip"
	"sync"
	"time"

	"github.com/actas-dev/actas"
)

// ThrottlePolicy bounds password guessing. Failures are counted per
// (username, client address), per client address, and per username;
// past a threshold each key waits an exponentially growing delay (base,
// doubling, capped) before it may try again. Counts are forgotten after
// Window without failures.
//
// Failures are what is counted, never attempts: a right password costs a
// key nothing, however many sign-ins of one user run at once. Parallel
// wrong guesses still cannot test more passwords than a key's budget:
// at most its remaining budget may be in flight (hashing) at once, and
// attempts beyond that wait, at most MaxWait and at most MaxWaiting per
// key, for the outcome of those in flight (see reserve).
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
	MaxWait       time.Duration // longest an attempt waits for those in flight
	MaxWaiting    int           // attempts waiting on one key at once
	MaxWaitingAll int           // attempts waiting on all keys at once
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
	MaxWait:       5 * time.Second,
	MaxWaiting:    256,
	MaxWaitingAll: 4096,
}

// throttlePolicy returns a tenant's policy: the issuer's base policy
// with the tenant's limits.
func throttlePolicy(base ThrottlePolicy, s actas.TenantSettings) ThrottlePolicy {
	p := base
	p.PairThreshold = s.ThrottlePairFailures
	p.IPThreshold = s.ThrottleIPFailures
	p.UserThreshold = s.ThrottleUserFailures
	p.Cap = s.ThrottleMaxDelay.D()
	p.UserCap = min(p.UserCap, p.Cap)
	return p
}

// errThrottleBusy: an attempt could not wait for the outcome of those in
// flight (queue full, waited MaxWait, or no memory for its keys). Nothing
// was counted; the caller answers 503 with Retry-After, as for a
// saturated hasher.
var errThrottleBusy = errors.New("throttle: too many attempts waiting")

type throttleEntry struct {
	key       string
	failures  int
	threshold int // of the last failure's policy
	last      time.Time
	until     time.Time
	gen       uint64        // throttle.seq at the entry's last change of count
	inflight  int           // reservations holding this key
	waiting   int           // attempts waiting for one of them to settle
	changed   chan struct{} // closed when one settles; nil while nobody waits
	elem      *list.Element // in throttle.lru
}

// count returns the failures that still count at now.
func (e *throttleEntry) count(p ThrottlePolicy, now time.Time) int {
	if now.Sub(e.last) > p.Window {
		return 0
	}
	return e.failures
}

// budget is how many attempts on the key may be in flight at once: its
// failures left before delays start, and one probe at a time past the
// threshold once a delay has run out.
func (e *throttleEntry) budget(p ThrottlePolicy, threshold int, now time.Time) int {
	return max(1, threshold-e.count(p, now))
}

// harmless reports whether forgetting the entry costs an attacker
// nothing: nothing in flight or waiting, no delay running, and fewer
// failures than its threshold (or none within the window).
func (e *throttleEntry) harmless(p ThrottlePolicy, now time.Time) bool {
	return e.inflight == 0 && e.waiting == 0 && !e.until.After(now) &&
		(e.count(p, now) < max(1, e.threshold) || e.failures == 0)
}

func (e *throttleEntry) notify() {
	if e.changed != nil {
		close(e.changed)
		e.changed = nil
	}
}

// throttle is the failure counter of one replica. With a store that
// implements actas.ThrottleStore, the per-user and per-pair counts are
// also kept there, so replicas share them (verifyCredentials). Its memory
// bound and window come from p; the thresholds and caps of each call
// come from the tenant's policy.
type throttle struct {
	p       ThrottlePolicy
	mu      sync.Mutex
	m       map[string]*throttleEntry
	lru     list.List // of *throttleEntry, least recently failed or reserved first
	waiting int       // attempts waiting, over all keys
	seq     uint64    // generations of entries' counts
}

func newThrottle(p ThrottlePolicy) *throttle {
	return &throttle{p: p, m: make(map[string]*throttleEntry)}
}

// throttleKey is one key of an attempt with its policy.
type throttleKey struct {
	k         string
	threshold int
	cap       time.Duration
}

func throttleKeys(p ThrottlePolicy, tenantID, username, ip string) [3]throttleKey {
	ip = addressKey(ip)
	return [3]throttleKey{
		{"p\x00" + tenantID + "\x00" + username + "\x00" + ip, p.PairThreshold, p.Cap},
		{"a\x00" + tenantID + "\x00" + ip, p.IPThreshold, p.Cap},
		{"u\x00" + tenantID + "\x00" + username, p.UserThreshold, p.UserCap},
	}
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

// shared is what a ThrottleStore holds for a key: the failures of every
// replica. verifyCredentials reads it before reserving.
type shared struct {
	failures int
	last     time.Time
}

// sharedState is what verifyCredentials read from a ThrottleStore for an
// attempt: the counts of the shared keys by index in throttleKeys (a key
// absent from counts has none), and the local generations of the keys
// just before the read. The store is the truth for those keys, since a
// replica writes a change there before it makes it locally; so a key
// whose generation is unchanged when the attempt reserves takes the
// store's count (another replica's failures, or its clearing by a right
// password), and one changed meanwhile keeps its fresher local count.
type sharedState struct {
	counts map[int]shared
	gens   [3]uint64
}

// generations returns the local generations of an attempt's keys, for
// sharedState.
func (t *throttle) generations(p ThrottlePolicy, tenantID, username, ip string) [3]uint64 {
	var g [3]uint64
	t.mu.Lock()
	defer t.mu.Unlock()
	for n, k := range throttleKeys(p, tenantID, username, ip) {
		if e := t.m[k.k]; e != nil {
			g[n] = e.gen
		}
	}
	return g
}

// reservation is the right to check one password against the keys of an
// attempt. The caller settles it with fail or ok, and releases it in any
// case (a deferred release after fail or ok does nothing): an attempt
// whose password was never checked counts for nothing.
type reservation struct {
	t       *throttle
	p       ThrottlePolicy
	now     time.Time
	keys    [3]throttleKey
	entries [3]*throttleEntry
	done    bool
}

// reserve waits until every key of the attempt has budget for one more
// attempt in flight, and takes it. It returns a positive wait if a key is
// under a delay (the caller answers 429 with Retry-After), errThrottleBusy
// if the attempt could not wait, or ctx's error. st, if not nil, is what
// a shared store holds for the attempt's keys; it is taken in once,
// before any wait.
func (t *throttle) reserve(ctx context.Context, p ThrottlePolicy, tenantID, username, ip string, now time.Time, st *sharedState) (*reservation, time.Duration, error) {
	keys := throttleKeys(p, tenantID, username, ip)
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	t.mu.Lock()
	defer t.mu.Unlock()
	for {
		var es [3]*throttleEntry
		for n, k := range keys {
			e := t.entry(k.k, now, &keys)
			if e == nil {
				return nil, 0, errThrottleBusy // memory full of keys that matter
			}
			if st != nil && st.counts != nil && e.gen == st.gens[n] {
				if s, ok := st.counts[n]; ok { // the address key is not shared
					t.merge(p, e, k, s, now)
				}
			}
			es[n] = e
		}
		st = nil // the read is stale once we have waited
		var wait time.Duration
		var blocked *throttleEntry
		for n, e := range es {
			if e.until.After(now) {
				wait = max(wait, e.until.Sub(now))
			}
			if blocked == nil && e.inflight >= e.budget(p, keys[n].threshold, now) {
				blocked = e
			}
		}
		if wait > 0 {
			return nil, wait, nil
		}
		if blocked == nil {
			for _, e := range es {
				e.inflight++
				t.lru.MoveToBack(e.elem)
			}
			return &reservation{t: t, p: p, now: now, keys: keys, entries: es}, 0, nil
		}
		// Wait for an attempt in flight on the blocked key to settle: if
		// it was right, budget is left; if wrong, the key may now be
		// under a delay, which the next turn reports.
		if blocked.waiting >= p.MaxWaiting || t.waiting >= p.MaxWaitingAll {
			return nil, 0, errThrottleBusy
		}
		if timer == nil {
			timer = time.NewTimer(p.MaxWait)
		}
		if blocked.changed == nil {
			blocked.changed = make(chan struct{})
		}
		ch := blocked.changed
		blocked.waiting++
		t.waiting++
		t.mu.Unlock()
		var err error
		select {
		case <-ch:
		case <-timer.C:
			err = errThrottleBusy
		case <-ctx.Done():
			err = ctx.Err()
		}
		t.mu.Lock()
		blocked.waiting--
		t.waiting--
		if err != nil {
			return nil, 0, err
		}
	}
}

// entry returns the entry of k, making one if needed. To stay within the
// memory bound it forgets the least recently used harmless entry; entries
// that matter (a delay running, a count at its threshold, an attempt in
// flight or waiting) are kept, and if a bounded look finds none to
// forget, entry returns nil: the new key is refused rather than an old
// penalty dropped (no failing open under a spray of keys).
func (t *throttle) entry(k string, now time.Time, attempt *[3]throttleKey) *throttleEntry {
	if e := t.m[k]; e != nil {
		return e
	}
	if len(t.m) >= t.p.MaxKeys && !t.evict(now, attempt) {
		return nil
	}
	e := &throttleEntry{key: k}
	e.elem = t.lru.PushBack(e)
	t.m[k] = e
	return e
}

// evictScan bounds the entries one eviction looks at. Entries that
// matter are moved to the back as they are passed over, so the next
// eviction looks at others.
const evictScan = 64

func (t *throttle) evict(now time.Time, attempt *[3]throttleKey) bool {
	for range min(evictScan, t.lru.Len()) {
		el := t.lru.Front()
		e := el.Value.(*throttleEntry)
		ours := e.key == attempt[0].k || e.key == attempt[1].k || e.key == attempt[2].k
		if e.harmless(t.p, now) && !ours { // never a key the attempt is taking
			t.lru.Remove(el)
			delete(t.m, e.key)
			return true
		}
		t.lru.MoveToBack(el)
	}
	return false
}

// merge sets e to what the store says every replica counted for k.
func (t *throttle) merge(p ThrottlePolicy, e *throttleEntry, k throttleKey, s shared, now time.Time) {
	if now.Sub(s.last) > p.Window {
		s = shared{}
	}
	e.failures, e.last, e.threshold, e.until = s.failures, s.last, k.threshold, time.Time{}
	if over := e.failures - k.threshold; over >= 0 {
		e.until = s.last.Add(delay(p, over, k.cap))
	}
}

// fail settles the reservation as a wrong password: every key counts one
// failure.
func (r *reservation) fail() {
	r.settle(func(n int, e *throttleEntry, k throttleKey) { r.t.bump(r.p, e, k, r.now) })
}

// ok settles the reservation as a right password: it clears the count of
// the (username, address) pair, the only thing a right password proves.
// The address and username counts stay and decay with time, so neither
// an address signing in to an account it owns between guesses at others,
// nor a victim's own sign-ins, hands an attacker a fresh budget.
func (r *reservation) ok() {
	r.settle(func(n int, e *throttleEntry, _ throttleKey) {
		if n == 0 {
			e.failures, e.until = 0, time.Time{}
			r.t.seq++
			e.gen = r.t.seq
		}
	})
}

// release settles an unsettled reservation as an attempt whose password
// was never checked (the hasher was busy, the store failed): it counts
// for nothing.
func (r *reservation) release() { r.settle(nil) }

func (r *reservation) settle(fn func(int, *throttleEntry, throttleKey)) {
	if r.done {
		return
	}
	r.done = true
	t := r.t
	t.mu.Lock()
	defer t.mu.Unlock()
	for n, e := range r.entries {
		e.inflight--
		if fn != nil {
			fn(n, e, r.keys[n])
		}
		e.notify()
		if e.inflight == 0 && e.waiting == 0 && e.failures == 0 && e.gen == 0 && e.until.IsZero() {
			// Never counted a failure: made again it is the same entry, so
			// it need not take memory (a key per tenant, user and address
			// of every successful sign-in) until the bound evicts it.
			t.lru.Remove(e.elem)
			delete(t.m, e.key)
		}
	}
}

func (t *throttle) bump(p ThrottlePolicy, e *throttleEntry, k throttleKey, now time.Time) {
	if now.Sub(e.last) > p.Window {
		e.failures = 0
	}
	e.failures++
	e.last = now
	e.threshold = k.threshold
	t.seq++
	e.gen = t.seq
	if over := e.failures - k.threshold; over >= 0 {
		e.until = now.Add(delay(p, over, k.cap))
	}
	t.lru.MoveToBack(e.elem)
}

// delay is the wait after failures past the threshold: Base, doubling,
// capped.
func delay(p ThrottlePolicy, over int, limit time.Duration) time.Duration {
	d := time.Duration(float64(p.Base) * math.Pow(2, float64(min(over, 30))))
	return min(d, limit)
}

// retryAfterSeconds rounds a wait up to whole seconds, at least 1.
func retryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
