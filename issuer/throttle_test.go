package issuer

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestThrottlePairBackoffDoubles(t *testing.T) {
	th := newThrottle(DefaultThrottle)
	now := time.Unix(1_700_000_000, 0)
	for i := 0; i < DefaultThrottle.PairThreshold-1; i++ {
		th.fail(DefaultThrottle, "t", "alice", "1.2.3.4", now)
		if d := th.wait("t", "alice", "1.2.3.4", now); d != 0 {
			t.Fatalf("throttled after %d failures: %s", i+1, d)
		}
	}
	want := DefaultThrottle.Base
	for range 5 {
		th.fail(DefaultThrottle, "t", "alice", "1.2.3.4", now)
		if d := th.wait("t", "alice", "1.2.3.4", now); d != want {
			t.Fatalf("wait = %s, want %s", d, want)
		}
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
	th := newThrottle(DefaultThrottle)
	now := time.Unix(1_700_000_000, 0)
	for range 200 {
		th.fail(DefaultThrottle, "t", "alice", "1.2.3.4", now)
	}
	if d := th.wait("t", "alice", "1.2.3.4", now); d != DefaultThrottle.Cap {
		t.Fatalf("wait = %s, want the cap %s", d, DefaultThrottle.Cap)
	}
	// The username key saturates at its short cap: from a fresh address
	// the victim waits at most UserCap, never a lock the attacker holds.
	if d := th.wait("t", "alice", "9.9.9.9", now); d > DefaultThrottle.UserCap || d == 0 {
		t.Fatalf("victim from a new address waits %s, want (0, %s]", d, DefaultThrottle.UserCap)
	}
	// The delay ends.
	later := now.Add(DefaultThrottle.Cap + time.Second)
	if d := th.wait("t", "alice", "1.2.3.4", later); d != 0 {
		t.Fatalf("still throttled after the cap: %s", d)
	}
}

func TestThrottleForgetsAndSucceeds(t *testing.T) {
	th := newThrottle(DefaultThrottle)
	now := time.Unix(1_700_000_000, 0)
	for range DefaultThrottle.PairThreshold {
		th.fail(DefaultThrottle, "t", "alice", "1.2.3.4", now)
	}
	th.succeed("t", "alice", "1.2.3.4")
	if d := th.wait("t", "alice", "1.2.3.4", now); d != 0 {
		t.Fatalf("success did not clear the pair: %s", d)
	}
	for range DefaultThrottle.PairThreshold - 1 {
		th.fail(DefaultThrottle, "t", "alice", "1.2.3.4", now)
	}
	// Past the window, old failures no longer count.
	now = now.Add(DefaultThrottle.Window + time.Second)
	th.fail(DefaultThrottle, "t", "alice", "1.2.3.4", now)
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
		th.fail(DefaultThrottle, "t", string(rune('a'+i%26))+time.Duration(i).String(), "1.2.3.4", now)
	}
	if n := len(th.m); n > p.MaxKeys {
		t.Fatalf("%d keys held, bound %d", n, p.MaxKeys)
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	for d, want := range map[time.Duration]int{time.Millisecond: 1, time.Second: 1, 1500 * time.Millisecond: 2, time.Minute: 60} {
		if got := retryAfterSeconds(d); got != want {
			t.Errorf("retryAfterSeconds(%s) = %d, want %d", d, got, want)
		}
	}
}

func TestThrottleCountsParallelAttempts(t *testing.T) {
	th := newThrottle(DefaultThrottle)
	now := time.Unix(1_700_000_000, 0)
	admitted := 0
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			// All begin before any finishes: none has reported a result.
			if th.begin(DefaultThrottle, "t", "alice", "192.0.2.1", now) == 0 {
				mu.Lock()
				admitted++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if admitted != DefaultThrottle.PairThreshold {
		t.Fatalf("%d parallel guesses reached the password check, want %d", admitted, DefaultThrottle.PairThreshold)
	}
}

func TestThrottleUndoAndSucceed(t *testing.T) {
	th := newThrottle(DefaultThrottle)
	now := time.Unix(1_700_000_000, 0)
	for range 20 { // attempts whose password was never checked count for nothing
		if d := th.begin(DefaultThrottle, "t", "alice", "192.0.2.1", now); d != 0 {
			t.Fatalf("throttled after undone attempts: %s", d)
		}
		th.undo("t", "alice", "192.0.2.1")
	}
	for range 60 { // successes do not add up against the address
		if d := th.begin(DefaultThrottle, "t", "alice", "192.0.2.1", now); d != 0 {
			t.Fatalf("throttled after successful sign-ins: %s", d)
		}
		th.succeed("t", "alice", "192.0.2.1")
	}
}

func TestThrottleIPv6CountsPer64(t *testing.T) {
	th := newThrottle(DefaultThrottle)
	now := time.Unix(1_700_000_000, 0)
	for i := range DefaultThrottle.PairThreshold {
		th.begin(DefaultThrottle, "t", "alice", fmt.Sprintf("2001:db8:1:2::%x", i+1), now)
	}
	if d := th.wait("t", "alice", "2001:db8:1:2::ffff", now); d == 0 {
		t.Fatal("rotating addresses within one /64 escaped the pair limit")
	}
	if d := th.wait("t", "alice", "2001:db8:1:3::1", now); d != 0 {
		t.Fatalf("another /64 is throttled: %s", d)
	}
}
