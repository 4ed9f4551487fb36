package issuer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// attempt reserves, as verifyCredentials does, and settles with right.
// It returns the wait of a refusal, or the reservation error.
func attempt(t *testing.T, th *throttle, p ThrottlePolicy, user, ip string, now time.Time, right bool) (time.Duration, error) {
	t.Helper()
	r, d, err := th.reserve(context.Background(), p, "t", user, ip, now, nil)
	if d > 0 || err != nil {
		return d, err
	}
	defer r.release()
	if right {
		r.ok()
	} else {
		r.fail()
	}
	return 0, nil
}

// wait returns, for tests, how long an attempt with these keys must wait before it
// may be checked, or 0.
func (t *throttle) wait(tenantID, username, ip string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	var d time.Duration
	for _, k := range throttleKeys(t.p, tenantID, username, ip) {
		if e := t.m[k.k]; e != nil && e.until.After(now) {
			d = max(d, e.until.Sub(now))
		}
	}
	return d
}

func mustFail(t *testing.T, th *throttle, p ThrottlePolicy, user, ip string, now time.Time, n int) {
	t.Helper()
	for i := range n {
		if d, err := attempt(t, th, p, user, ip, now, false); d != 0 || err != nil {
			t.Fatalf("failure %d refused: %s %v", i+1, d, err)
		}
	}
}

func TestThrottlePairBackoffDoubles(t *testing.T) {
	p := DefaultThrottle
	th := newThrottle(p)
	now := time.Unix(1_700_000_000, 0)
	mustFail(t, th, p, "alice", "1.2.3.4", now, p.PairThreshold-1)
	if d := th.wait("t", "alice", "1.2.3.4", now); d != 0 {
		t.Fatalf("throttled below the threshold: %s", d)
	}
	want := p.Base
	for range 5 {
		mustFail(t, th, p, "alice", "1.2.3.4", now, 1)
		if d := th.wait("t", "alice", "1.2.3.4", now); d != want {
			t.Fatalf("wait = %s, want %s", d, want)
		}
		// Under a delay, an attempt is refused with it, and not counted.
		if d, _ := attempt(t, th, p, "alice", "1.2.3.4", now, false); d != want {
			t.Fatalf("attempt under a delay: wait %s, want %s", d, want)
		}
		now = now.Add(want)
		want *= 2
	}
	// Another address, the victim's, is not held back by the pair.
	if d := th.wait("t", "alice", "5.6.7.8", now); d != 0 {
		t.Fatalf("victim at another address waits %s", d)
	}
	// Other users from the attacking address are not either (below the
	// address threshold).
	if d := th.wait("t", "bob", "1.2.3.4", now); d != 0 {
		t.Fatalf("another user from the same address waits %s", d)
	}
}

func TestThrottleIsCapped(t *testing.T) {
	p := DefaultThrottle
	th := newThrottle(p)
	now := time.Unix(1_700_000_000, 0)
	for range 200 { // each failure once the last delay has passed
		mustFail(t, th, p, "alice", "1.2.3.4", now, 1)
		now = now.Add(p.Cap)
	}
	mustFail(t, th, p, "alice", "1.2.3.4", now, 1)
	if d := th.wait("t", "alice", "1.2.3.4", now); d != p.Cap {
		t.Fatalf("wait = %s, want the cap %s", d, p.Cap)
	}
	// The username key saturates at its short cap: from a fresh address
	// the victim waits at most UserCap, never a lock the attacker holds.
	if d := th.wait("t", "alice", "9.9.9.9", now); d > p.UserCap || d == 0 {
		t.Fatalf("victim from a new address waits %s, want (0, %s]", d, p.UserCap)
	}
	later := now.Add(p.Cap + time.Second)
	if d := th.wait("t", "alice", "1.2.3.4", later); d != 0 {
		t.Fatalf("still throttled after the cap: %s", d)
	}
}

// TestThrottleSuccessClearsOnlyThePair: a right password proves the
// (user, address) pair, nothing more. The per-user count of failures
// from elsewhere stays, so a victim's own sign-ins hand an attacker spread
// over many addresses no fresh budget; the address count stays too.
func TestThrottleSuccessClearsOnlyThePair(t *testing.T) {
	p := DefaultThrottle
	p.UserThreshold = 10
	th := newThrottle(p)
	now := time.Unix(1_700_000_000, 0)
	mustFail(t, th, p, "alice", "192.0.2.1", now, p.PairThreshold-1)
	for n := range p.UserThreshold - p.PairThreshold { // the attacker, one guess per address
		mustFail(t, th, p, "alice", fmt.Sprintf("198.51.100.%d", n+1), now, 1)
	}
	if _, err := attempt(t, th, p, "alice", "192.0.2.1", now, true); err != nil {
		t.Fatal(err)
	}
	pair := th.m[throttleKeys(p, "t", "alice", "192.0.2.1")[0].k]
	user := th.m[throttleKeys(p, "t", "alice", "192.0.2.1")[2].k]
	addr := th.m[throttleKeys(p, "t", "alice", "192.0.2.1")[1].k]
	if pair.failures != 0 {
		t.Errorf("pair count after a success: %d, want 0", pair.failures)
	}
	if want := p.UserThreshold - 1; user.failures != want {
		t.Errorf("user count after a success: %d, want %d (untouched)", user.failures, want)
	}
	if want := p.PairThreshold - 1; addr.failures != want {
		t.Errorf("address count after a success: %d, want %d (untouched)", addr.failures, want)
	}
	// One more failure from yet another address reaches the user limit.
	mustFail(t, th, p, "alice", "203.0.113.9", now, 1)
	if d := th.wait("t", "alice", "203.0.113.10", now); d == 0 {
		t.Fatal("the victim's sign-in reset the per-user budget")
	}
}

func TestThrottleForgetsAfterWindow(t *testing.T) {
	p := DefaultThrottle
	th := newThrottle(p)
	now := time.Unix(1_700_000_000, 0)
	mustFail(t, th, p, "alice", "1.2.3.4", now, p.PairThreshold-1)
	now = now.Add(p.Window + time.Second)
	mustFail(t, th, p, "alice", "1.2.3.4", now, 1)
	if d := th.wait("t", "alice", "1.2.3.4", now); d != 0 {
		t.Fatalf("failures outside the window counted: %s", d)
	}
}

func TestThrottleMemoryBound(t *testing.T) {
	p := DefaultThrottle
	p.MaxKeys = 100
	th := newThrottle(p)
	now := time.Unix(1_700_000_000, 0)
	for i := range 10_000 {
		if _, err := attempt(t, th, p, fmt.Sprintf("user%d", i), fmt.Sprintf("10.0.%d.%d", i/250%250, i%250), now, false); err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if n := len(th.m); n > p.MaxKeys || th.lru.Len() != n {
		t.Fatalf("%d keys held (%d in the list), bound %d", n, th.lru.Len(), p.MaxKeys)
	}
}

// TestThrottleEvictionKeepsPenalties: spraying more distinct keys than
// the memory bound must not erase the penalty of the targeted account
// (the old sweep cleared the whole map). Scaled down to 1,000 keys.
func TestThrottleEvictionKeepsPenalties(t *testing.T) {
	p := DefaultThrottle
	p.MaxKeys = 1000
	th := newThrottle(p)
	now := time.Unix(1_700_000_000, 0)
	mustFail(t, th, p, "victim", "192.0.2.1", now, p.PairThreshold)
	held := th.wait("t", "victim", "192.0.2.1", now)
	if held == 0 {
		t.Fatal("the victim's pair is not under a delay")
	}
	refused := 0
	for i := range 5 * p.MaxKeys { // 5,000 spray failures: 3× the old fail-open figure
		ip := fmt.Sprintf("10.%d.%d.%d", i/65536%256, i/256%256, i%256)
		if _, err := attempt(t, th, p, fmt.Sprintf("spray%d", i), ip, now, false); errors.Is(err, errThrottleBusy) {
			refused++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if len(th.m) > p.MaxKeys {
		t.Fatalf("%d keys held, bound %d", len(th.m), p.MaxKeys)
	}
	if d := th.wait("t", "victim", "192.0.2.1", now); d != held {
		t.Fatalf("after the spray the victim waits %s, want %s", d, held)
	}
	if d, _ := attempt(t, th, p, "victim", "192.0.2.1", now, false); d == 0 {
		t.Fatal("an attempt on the victim was admitted after the spray")
	}
	t.Logf("%d of %d spray attempts refused for lack of harmless keys to evict", refused, 5*p.MaxKeys)
}

// TestThrottleFullOfPenaltiesRefusesNewKeys: when every key held
// matters, a new key is refused (fail closed) and no penalty is lost.
func TestThrottleFullOfPenaltiesRefusesNewKeys(t *testing.T) {
	p := DefaultThrottle
	p.MaxKeys = 30
	p.PairThreshold, p.IPThreshold, p.UserThreshold = 1, 1, 1
	th := newThrottle(p)
	now := time.Unix(1_700_000_000, 0)
	for i := range 10 { // 10 attempts × 3 keys, each under a delay
		mustFail(t, th, p, fmt.Sprintf("u%d", i), fmt.Sprintf("10.0.0.%d", i), now, 1)
	}
	if _, err := attempt(t, th, p, "new", "10.0.1.1", now, false); !errors.Is(err, errThrottleBusy) {
		t.Fatalf("new key with memory full of penalties: %v, want errThrottleBusy", err)
	}
	for i := range 10 {
		if d := th.wait("t", fmt.Sprintf("u%d", i), fmt.Sprintf("10.0.0.%d", i), now); d == 0 {
			t.Fatalf("penalty %d lost", i)
		}
	}
	// Counts at their threshold matter while in the window, even once
	// their delay has passed; after the window they make room.
	later := now.Add(p.Window + time.Second)
	if _, err := attempt(t, th, p, "new", "10.0.1.1", later, false); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	for d, want := range map[time.Duration]int{time.Millisecond: 1, time.Second: 1, 1500 * time.Millisecond: 2, time.Minute: 60} {
		if got := retryAfterSeconds(d); got != want {
			t.Errorf("retryAfterSeconds(%s) = %d, want %d", d, got, want)
		}
	}
}

// runParallel runs n attempts at once against th, each reserving, then
// (while every other is in flight or waiting) settling as right(i) says,
// and counts what happened.
func runParallel(t *testing.T, th *throttle, p ThrottlePolicy, n int, ip func(int) string, right func(int) bool) (checked, refused, busy atomic.Int64, rightRefused atomic.Int64) {
	t.Helper()
	now := time.Unix(1_700_000_000, 0)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			r, d, err := th.reserve(context.Background(), p, "t", "alice", ip(i), now, nil)
			switch {
			case d > 0:
				refused.Add(1)
				if right(i) {
					rightRefused.Add(1)
				}
				return
			case errors.Is(err, errThrottleBusy):
				busy.Add(1)
				return
			case err != nil:
				t.Error(err)
				return
			}
			defer r.release()
			checked.Add(1)
			time.Sleep(time.Millisecond) // a hash
			if right(i) {
				r.ok()
			} else {
				r.fail()
			}
		})
	}
	close(start)
	wg.Wait()
	return
}

// TestThrottleParallelWrongGuessesStopAtBudget: 100 parallel wrong
// guesses from one address check at most the pair's budget; the rest are
// refused with a delay.
func TestThrottleParallelWrongGuessesStopAtBudget(t *testing.T) {
	p := DefaultThrottle
	th := newThrottle(p)
	checked, refused, busy, _ := runParallel(t, th, p, 100, func(int) string { return "192.0.2.1" }, func(int) bool { return false })
	if checked.Load() != int64(p.PairThreshold) || refused.Load() != int64(100-p.PairThreshold) || busy.Load() != 0 {
		t.Fatalf("checked %d, refused %d, busy %d; want %d, %d, 0", checked.Load(), refused.Load(), busy.Load(), p.PairThreshold, 100-p.PairThreshold)
	}
}

// TestThrottleParallelRightPasswordsNeverRefused: 100 parallel right
// passwords of one user from one address all get checked.
func TestThrottleParallelRightPasswordsNeverRefused(t *testing.T) {
	p := DefaultThrottle
	th := newThrottle(p)
	checked, refused, busy, _ := runParallel(t, th, p, 100, func(int) string { return "192.0.2.1" }, func(int) bool { return true })
	if checked.Load() != 100 || refused.Load() != 0 || busy.Load() != 0 {
		t.Fatalf("checked %d, refused %d, busy %d; want 100, 0, 0", checked.Load(), refused.Load(), busy.Load())
	}
	// The address and username keys never counted a failure, so they are
	// forgotten; the pair key records its clearing (its generation).
	if len(th.m) != 1 || th.waiting != 0 {
		t.Fatalf("%d keys, %d waiting after the burst; want 1, 0", len(th.m), th.waiting)
	}
	for _, e := range th.m {
		if e.inflight != 0 || e.waiting != 0 || e.failures != 0 {
			t.Fatalf("entry %q left with %+v", e.key, e)
		}
	}
}

// TestThrottleMixedFromTwoAddresses: a service account's workers sign in
// from one address while an attacker guesses from another: every right
// password is checked, the attacker's guesses stop at its pair budget.
func TestThrottleMixedFromTwoAddresses(t *testing.T) {
	p := DefaultThrottle
	th := newThrottle(p)
	ip := func(i int) string {
		if i%2 == 0 {
			return "192.0.2.1" // workers
		}
		return "198.51.100.7" // attacker
	}
	checked, refused, busy, rightRefused := runParallel(t, th, p, 50, ip, func(i int) bool { return i%2 == 0 })
	if rightRefused.Load() != 0 || busy.Load() != 0 {
		t.Fatalf("%d right passwords refused, %d busy", rightRefused.Load(), busy.Load())
	}
	if want := int64(25 + p.PairThreshold); checked.Load() != want || refused.Load() != 25-int64(p.PairThreshold) {
		t.Fatalf("checked %d, refused %d; want %d, %d", checked.Load(), refused.Load(), want, 25-p.PairThreshold)
	}
}

// TestThrottleWaitIsBounded: an attempt waiting for one in flight gives
// up after MaxWait, and a full queue refuses at once; neither counts.
func TestThrottleWaitIsBounded(t *testing.T) {
	p := DefaultThrottle
	p.PairThreshold = 1
	p.MaxWait = time.Minute // phase 1: the waiter must still be waiting when it is counted
	p.MaxWaiting = 1
	th := newThrottle(p)
	now := time.Unix(1_700_000_000, 0)
	r, _, err := th.reserve(context.Background(), p, "t", "alice", "192.0.2.1", now, nil)
	if err != nil {
		t.Fatal(err)
	}

	// The queue is bounded: with one attempt waiting, the next is refused.
	ctx1, cancel1 := context.WithCancel(context.Background())
	waited := make(chan error, 1)
	go func() {
		_, _, err := th.reserve(ctx1, p, "t", "alice", "192.0.2.1", now, nil)
		waited <- err
	}()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		th.mu.Lock()
		w := th.waiting
		th.mu.Unlock()
		if w == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first waiter never started waiting")
		}
	}
	if _, _, err := th.reserve(context.Background(), p, "t", "alice", "192.0.2.1", now, nil); !errors.Is(err, errThrottleBusy) {
		t.Fatalf("second waiter with MaxWaiting 1: %v, want busy", err)
	}
	cancel1()
	if err := <-waited; !errors.Is(err, context.Canceled) {
		t.Fatalf("waiter whose context ended: %v, want context.Canceled", err)
	}

	// The wait is bounded in time: past MaxWait the attempt is refused busy.
	short := p
	short.MaxWait = 20 * time.Millisecond
	if _, _, err := th.reserve(context.Background(), short, "t", "alice", "192.0.2.1", now, nil); !errors.Is(err, errThrottleBusy) {
		t.Fatalf("waiter past MaxWait: %v, want busy", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := th.reserve(ctx, p, "t", "alice", "192.0.2.1", now, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("waiter with a cancelled context: %v", err)
	}
	r.release()
	if d, err := attempt(t, th, p, "alice", "192.0.2.1", now, false); d != 0 || err != nil {
		t.Fatalf("after release: %s %v (nothing was counted)", d, err)
	}
}

func TestThrottleReleaseCountsNothing(t *testing.T) {
	p := DefaultThrottle
	th := newThrottle(p)
	now := time.Unix(1_700_000_000, 0)
	for range 20 {
		r, d, err := th.reserve(context.Background(), p, "t", "alice", "192.0.2.1", now, nil)
		if d != 0 || err != nil {
			t.Fatalf("throttled after released attempts: %s %v", d, err)
		}
		r.release()
		r.release() // twice is harmless
	}
}

func TestThrottleSharedCountsMerge(t *testing.T) {
	p := DefaultThrottle
	th := newThrottle(p)
	now := time.Unix(1_700_000_000, 0)
	ctx := context.Background()
	// Another replica counted the user to its threshold just now.
	st := &sharedState{gens: th.generations(p, "t", "alice", "192.0.2.1"),
		counts: map[int]shared{0: {}, 2: {failures: p.UserThreshold, last: now.Add(-100 * time.Millisecond)}}}
	if _, d, err := th.reserve(ctx, p, "t", "alice", "192.0.2.1", now, st); err != nil || d == 0 {
		t.Fatalf("shared count at the threshold: wait %s, err %v; want a delay", d, err)
	}
	// Stale shared counts (outside the window) do not count.
	st = &sharedState{counts: map[int]shared{2: {failures: p.UserThreshold, last: now.Add(-p.Window - time.Minute)}}}
	if r, d, err := th.reserve(ctx, p, "t", "bob", "192.0.2.1", now, st); d != 0 || err != nil {
		t.Fatalf("stale shared count: %s %v", d, err)
	} else {
		r.release()
	}

	// Local failures; then another replica's success clears the shared
	// pair: the next read takes that in.
	mustFail(t, th, p, "carol", "192.0.2.1", now, p.PairThreshold)
	if d := th.wait("t", "carol", "192.0.2.1", now); d == 0 {
		t.Fatal("no delay after the pair budget")
	}
	st = &sharedState{gens: th.generations(p, "t", "carol", "192.0.2.1"), counts: map[int]shared{0: {}, 2: {}}}
	if r, d, err := th.reserve(ctx, p, "t", "carol", "192.0.2.1", now, st); d != 0 || err != nil {
		t.Fatalf("after a shared clear: %s %v", d, err)
	} else {
		r.release()
	}
	// A read that a local change overtook is ignored.
	mustFail(t, th, p, "dave", "192.0.2.1", now, p.PairThreshold-1)
	st = &sharedState{gens: th.generations(p, "t", "dave", "192.0.2.1"), counts: map[int]shared{0: {}, 2: {}}}
	mustFail(t, th, p, "dave", "192.0.2.1", now, 1) // lands between the read and the reserve
	if _, d, _ := th.reserve(ctx, p, "t", "dave", "192.0.2.1", now, st); d == 0 {
		t.Fatal("a stale shared read erased a local failure")
	}
}

func TestThrottleIPv6CountsPer64(t *testing.T) {
	p := DefaultThrottle
	th := newThrottle(p)
	now := time.Unix(1_700_000_000, 0)
	for i := range p.PairThreshold {
		mustFail(t, th, p, "alice", fmt.Sprintf("2001:db8:1:2::%x", i+1), now, 1)
	}
	if d := th.wait("t", "alice", "2001:db8:1:2::ffff", now); d == 0 {
		t.Fatal("rotating addresses within one /64 escaped the pair limit")
	}
	if d := th.wait("t", "alice", "2001:db8:1:3::1", now); d != 0 {
		t.Fatalf("another /64 is throttled: %s", d)
	}
}

// TestThrottleEvictionSparesTheAttempt: with a bound smaller than one
// attempt's keys, making its third key never evicts its first (whose
// reservation would then be counted on an entry no longer in the map).
func TestThrottleEvictionSparesTheAttempt(t *testing.T) {
	p := DefaultThrottle
	p.MaxKeys = 2
	p.PairThreshold = 1
	th := newThrottle(p)
	now := time.Unix(1_700_000_000, 0)
	r, _, err := th.reserve(context.Background(), p, "t", "alice", "192.0.2.1", now, nil)
	if err == nil {
		r.release()
		t.Fatalf("an attempt of 3 keys was admitted in a map of 2: %d keys", len(th.m))
	}
	if !errors.Is(err, errThrottleBusy) {
		t.Fatal(err)
	}
}
