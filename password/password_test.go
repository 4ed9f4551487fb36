package password

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// fast keeps tests quick; one test uses the real OWASP parameters.
var fast = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashVerifyOWASP(t *testing.T) {
	h := Hash("correct horse", OWASP)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("PHC string %q does not carry the OWASP parameters", h)
	}
	if ok, err := Verify(h, "correct horse"); err != nil || !ok {
		t.Fatalf("Verify(right) = %v, %v", ok, err)
	}
	if ok, err := Verify(h, "correct horsE"); err != nil || ok {
		t.Fatalf("Verify(wrong) = %v, %v", ok, err)
	}
}

func TestSaltIsPerHash(t *testing.T) {
	if Hash("pw", fast) == Hash("pw", fast) {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
}

func TestVerifyRejectsMalformed(t *testing.T) {
	good := Hash("pw", fast)
	parts := strings.Split(good, "$")
	cases := map[string]string{
		"empty":        "",
		"bcrypt":       "$2a$10$abcdefghijklmnopqrstuu",
		"argon2i":      strings.Replace(good, "argon2id", "argon2i", 1),
		"version":      strings.Replace(good, "v=19", "v=16", 1),
		"huge memory":  "$argon2id$v=19$m=4194304,t=2,p=1$" + parts[4] + "$" + parts[5],
		"huge time":    "$argon2id$v=19$m=64,t=1000,p=1$" + parts[4] + "$" + parts[5],
		"zero threads": "$argon2id$v=19$m=64,t=1,p=0$" + parts[4] + "$" + parts[5],
		"bad salt":     "$argon2id$v=19$m=64,t=1,p=1$***$" + parts[5],
		"short key":    "$argon2id$v=19$m=64,t=1,p=1$" + parts[4] + "$AAAA",
		"extra field":  good + "$x",
	}
	for name, phc := range cases {
		t.Run(name, func(t *testing.T) {
			if ok, err := Verify(phc, "pw"); !errors.Is(err, ErrMalformed) || ok {
				t.Fatalf("Verify(%q) = %v, %v; want ErrMalformed", phc, ok, err)
			}
		})
	}
}

func TestHasherBoundsConcurrency(t *testing.T) {
	h := NewHasher(fast, 1, 0, 10*time.Millisecond)
	// Hold the only slot, then every other caller must fail fast.
	if err := h.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Verify(context.Background(), h.dummy, "x"); !errors.Is(err, ErrBusy) {
		t.Fatalf("second caller with no queue: err = %v, want ErrBusy", err)
	}
	h.release()
	if ok, err := h.Verify(context.Background(), Hash("pw", fast), "pw"); err != nil || !ok {
		t.Fatalf("after release: %v, %v", ok, err)
	}
}

func TestHasherQueueWaitsThenGivesUp(t *testing.T) {
	// A waiter that gets the slot within maxWait succeeds. maxWait is long
	// so that a loaded machine cannot make the waiter give up before the
	// test has seen it queue.
	h := NewHasher(fast, 1, 4, time.Minute)
	if err := h.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := h.Hash(context.Background(), "pw"); done <- err }()
	for h.InFlight() < 2 {
		time.Sleep(time.Millisecond)
	}
	h.release()
	if err := <-done; err != nil {
		t.Fatalf("waiter that got the slot: %v", err)
	}

	// A waiter that does not, gives up with ErrBusy and leaves the queue.
	h = NewHasher(fast, 1, 4, 20*time.Millisecond)
	if err := h.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Hash(context.Background(), "pw"); !errors.Is(err, ErrBusy) {
		t.Fatalf("waiter past maxWait: err = %v, want ErrBusy", err)
	}
	if got := h.InFlight(); got != 1 {
		t.Fatalf("InFlight after timeout = %d, want 1 (queue slot leaked)", got)
	}
	h.release()
}

func TestHasherNeverExceedsConcurrency(t *testing.T) {
	const limit = 2
	h := NewHasher(fast, limit, 100, time.Second)
	var mu sync.Mutex
	running, peak := 0, 0
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := h.acquire(context.Background()); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			running++
			peak = max(peak, running)
			mu.Unlock()
			time.Sleep(time.Millisecond)
			mu.Lock()
			running--
			mu.Unlock()
			h.release()
		}()
	}
	wg.Wait()
	if peak > limit || peak == 0 {
		t.Fatalf("peak concurrency %d, want 1..%d", peak, limit)
	}
}

func TestVerifyDummyIsFalse(t *testing.T) {
	h := NewHasher(fast, 1, 1, time.Second)
	if ok, err := h.VerifyDummy(context.Background(), "actas-dummy-password"); ok || err != nil {
		t.Fatalf("VerifyDummy = %v, %v; want false, nil", ok, err)
	}
}

// The dummy hash costs no argon2id run to make, but verifying against it
// costs the Hasher's parameters, like a real hash: decode gives them back.
func TestDummyHashHasHasherParams(t *testing.T) {
	h := NewHasher(OWASP, 1, 1, time.Second)
	p, salt, key, err := decode(h.dummy)
	if err != nil || p != OWASP || len(salt) != int(OWASP.SaltLen) || len(key) != int(OWASP.KeyLen) {
		t.Fatalf("decode(dummy) = %+v, salt %d, key %d, %v; want %+v", p, len(salt), len(key), err, OWASP)
	}
	if other := NewHasher(OWASP, 1, 1, time.Second); other.dummy == h.dummy {
		t.Fatal("two Hashers made the same dummy hash: the salt and key must be random")
	}
}

func BenchmarkArgon2idOWASP(b *testing.B) {
	h := Hash("benchmark password", OWASP)
	for b.Loop() {
		_, _ = Verify(h, "benchmark password")
	}
}
