package storeguard_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/storeguard"
)

// deadRoles is a store whose database has stopped answering: its group
// and client reads block until their context ends (or, unbounded, give up
// after a second so that a missing guard fails the test instead of hanging
// it).
type deadRoles struct {
	actas.Store // nil: only the methods below are called
	calls       atomic.Int64
}

func (s *deadRoles) wait(ctx context.Context, what string) error {
	s.calls.Add(1)
	select {
	case <-ctx.Done():
		return fmt.Errorf("%s: %w: %w", what, actas.ErrUnavailable, ctx.Err())
	case <-time.After(time.Second):
		return fmt.Errorf("%s: %w: called without a deadline", what, actas.ErrUnavailable)
	}
}

func (s *deadRoles) Groups(ctx context.Context, _ string) ([]*actas.Group, error) {
	return nil, s.wait(ctx, "groups")
}

func (s *deadRoles) OAuthClient(ctx context.Context, _, _ string) (*actas.OAuthClient, error) {
	return nil, s.wait(ctx, "oauth client")
}

func (s *deadRoles) Close() error { return nil }

// TestGuardRefusesRolesWhenDown: the calls of the roles actas.Store embeds
// (GroupStore, ClientStore) are guarded like the others: the first waits
// out the deadline and marks the store down, the next ones are refused at
// once with ErrKnownDown without reaching the store.
func TestGuardRefusesRolesWhenDown(t *testing.T) {
	const timeout = 30 * time.Millisecond
	inner := &deadRoles{}
	g := storeguard.Wrap(inner, storeguard.Config{Timeout: timeout, RetryEvery: time.Hour})
	defer g.Close()
	ctx := context.Background()

	start := time.Now()
	_, err := g.Groups(ctx, "t")
	if !errors.Is(err, actas.ErrUnavailable) {
		t.Fatalf("Groups on a hung database = %v, want ErrUnavailable", err)
	}
	if took := time.Since(start); took > timeout+500*time.Millisecond {
		t.Errorf("Groups on a hung database took %v, want about %v", took, timeout)
	}
	if !g.Down() {
		t.Fatal("not known down after Groups waited out the timeout")
	}

	start = time.Now()
	if _, err := g.Groups(ctx, "t"); !errors.Is(err, storeguard.ErrKnownDown) {
		t.Errorf("Groups while known down = %v, want ErrKnownDown", err)
	}
	if _, err := g.OAuthClient(ctx, "t", "c"); !errors.Is(err, storeguard.ErrKnownDown) {
		t.Errorf("OAuthClient while known down = %v, want ErrKnownDown", err)
	}
	if took := time.Since(start); took > timeout/2 {
		t.Errorf("calls while known down took %v, want at once", took)
	}
	if n := inner.calls.Load(); n != 1 {
		t.Errorf("the store was reached %d times, want 1 (the call that found it down)", n)
	}
}
