package storeguard_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/storeguard"
)

// sharedStore is a store that offers actas.ThrottleStore; its throttle
// calls block until their context ends, as a dead database would.
type sharedStore struct {
	actas.Store
	calls int
}

func (s *sharedStore) ThrottleFailures(ctx context.Context, _ string, _ []string) (map[string]actas.ThrottleCount, error) {
	s.calls++
	<-ctx.Done()
	return nil, ctx.Err()
}
func (s *sharedStore) AddThrottleFailure(context.Context, string, []string, time.Time, time.Time) error {
	return nil
}
func (s *sharedStore) ClearThrottle(context.Context, string, string) error   { return nil }
func (s *sharedStore) PurgeThrottle(context.Context, time.Time) (int, error) { return 0, nil }

func TestStoreKeepsThrottleRole(t *testing.T) {
	inner := &sharedStore{}
	g := storeguard.Store(inner, storeguard.Config{Timeout: 20 * time.Millisecond, RetryEvery: time.Hour})
	ts, ok := g.(actas.ThrottleStore)
	if !ok {
		t.Fatal("the guard hides the store's ThrottleStore role: replicas would stop sharing their budget")
	}
	// Its calls are guarded: the first waits out the deadline and marks the
	// store down, the second is refused at once without reaching it.
	if _, err := ts.ThrottleFailures(context.Background(), "t", []string{"k"}); !errors.Is(err, actas.ErrUnavailable) {
		t.Fatalf("first call: %v, want ErrUnavailable", err)
	}
	if _, err := ts.ThrottleFailures(context.Background(), "t", []string{"k"}); !errors.Is(err, storeguard.ErrKnownDown) {
		t.Fatalf("second call: %v, want ErrKnownDown", err)
	}
	if inner.calls != 1 {
		t.Fatalf("store reached %d times, want 1", inner.calls)
	}

	plain := storeguard.Store(struct{ actas.Store }{}, storeguard.Config{})
	if _, ok := plain.(actas.ThrottleStore); ok {
		t.Fatal("a store without the role gained it behind the guard")
	}
}
