package verify

import (
	"sync"
	"testing"
	"time"
)

// feedLog records the feed calls a fake issuer received.
type feedLog struct {
	mu    sync.Mutex
	calls []feedCall
}

type feedCall struct {
	wait   string
	failed bool // answered 503
	at     time.Time
}

func (l *feedLog) add(wait string, failed bool) {
	l.mu.Lock()
	l.calls = append(l.calls, feedCall{wait: wait, failed: failed, at: time.Now()})
	l.mu.Unlock()
}

func (l *feedLog) snapshot() []feedCall {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]feedCall(nil), l.calls...)
}

// TestFeedRepollsAtOnceAfterAFailure: after a failed feed call the
// verifier asks again with wait=0, so the first call after the issuer is
// back is answered at once and the verifier is fresh within one round
// trip (plus the backoff), not after a whole long poll.
func TestFeedRepollsAtOnceAfterAFailure(t *testing.T) {
	f := newFakeIssuer(t)
	// FeedMaxStale 10 s: the long poll waits 5 s when all is well.
	v := f.verifier(t, func(c *Config) { c.FeedMaxStale = 10 * time.Second })
	if v.pollWait != 5*time.Second {
		t.Fatalf("pollWait = %v, want 5s", v.pollWait)
	}
	time.Sleep(100 * time.Millisecond) // the first long poll is waiting
	f.down.Store(true)
	f.mu.Lock() // wake the long poll so that the next call fails
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()
	deadline := time.Now().Add(3 * time.Second)
	for v.Stats().FeedErrors < 3 {
		if time.Now().After(deadline) {
			t.Fatal("the feed calls did not fail")
		}
		time.Sleep(10 * time.Millisecond)
	}
	back := time.Now()
	f.down.Store(false)
	for v.Stats().LastSync.Before(back) {
		if time.Since(back) > 3*time.Second {
			t.Fatal("the verifier did not hear from the feed within 3 s of its return")
		}
		time.Sleep(5 * time.Millisecond)
	}
	took := time.Since(back)
	t.Logf("fresh again %v after the feed came back", took.Round(time.Millisecond))
	if took > 1500*time.Millisecond {
		t.Errorf("fresh again only after %v: it waited out a long poll", took)
	}

	// Let the long poll resume after the recovery call.
	deadline = time.Now().Add(3 * time.Second)
	var calls []feedCall
	for {
		calls = f.feedLog.snapshot()
		if n := len(calls); n >= 2 && !calls[n-1].failed && !calls[n-2].failed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no call after the recovery: %+v", calls)
		}
		time.Sleep(10 * time.Millisecond)
	}
	var failures, recoveries int
	for i := 1; i < len(calls); i++ {
		switch {
		case calls[i-1].failed:
			failures++
			if calls[i].wait != "0" {
				t.Errorf("call %d after a failed call asked wait=%s, want 0", i, calls[i].wait)
			}
		case failures > 0:
			// The first good answer after the outage: the long poll resumes.
			recoveries++
			if calls[i].wait != "5" {
				t.Errorf("call %d after the recovery asked wait=%s, want the long poll's 5", i, calls[i].wait)
			}
		}
	}
	if failures < 2 || recoveries == 0 {
		t.Fatalf("calls %+v: want failures and then a recovery", calls)
	}
}
