package storeguard

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actas-dev/actas"
)

// hanging is a store whose database can stop answering: while hung, a
// call blocks until its context ends, as a query on a connection whose
// packets are dropped does.
type hanging struct {
	actas.Store // nil: only the methods below are called
	hung        atomic.Bool
	calls       atomic.Int64
	pings       atomic.Int64
}

func (h *hanging) Tenant(ctx context.Context, id string) (*actas.Tenant, error) {
	h.calls.Add(1)
	if h.hung.Load() {
		<-ctx.Done()
		return nil, fmt.Errorf("tenant: %w: %w", actas.ErrUnavailable, ctx.Err())
	}
	if id == "missing" {
		return nil, fmt.Errorf("tenant: %w", actas.ErrNotFound)
	}
	return &actas.Tenant{ID: id}, nil
}

func (h *hanging) Ping(ctx context.Context) error {
	h.pings.Add(1)
	if h.hung.Load() {
		<-ctx.Done()
		return fmt.Errorf("ping: %w: %w", actas.ErrUnavailable, ctx.Err())
	}
	return nil
}

func (h *hanging) Close() error { return nil }

func (h *hanging) ProbeWrite(ctx context.Context, at time.Time) error {
	h.calls.Add(1)
	if h.hung.Load() {
		<-ctx.Done()
		return ctx.Err() // a store that does not map the context error
	}
	return nil
}

func (h *hanging) PurgeExpired(ctx context.Context, now time.Time) (int, int, error) {
	_, ok := ctx.Deadline()
	if ok {
		return 0, 0, errors.New("purge got a deadline")
	}
	return 1, 2, nil
}

// TestGuardFailsFast: a call on a hung database fails with ErrUnavailable
// after the timeout, not later; the calls after it fail at once without
// reaching the store, while a background ping every RetryEvery looks for
// the database; its first answer ends the outage for everyone.
func TestGuardFailsFast(t *testing.T) {
	const timeout = 80 * time.Millisecond
	h := &hanging{}
	g := Wrap(h, Config{Timeout: timeout, RetryEvery: 40 * time.Millisecond})
	ctx := context.Background()
	if _, err := g.Tenant(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	h.hung.Store(true)

	start := time.Now()
	_, err := g.Tenant(ctx, "a")
	took := time.Since(start)
	if !errors.Is(err, actas.ErrUnavailable) || actas.ErrorCode(err) != actas.EUNAVAILABLE {
		t.Fatalf("call on a hung database = %v, want ErrUnavailable", err)
	}
	if took < timeout || took > timeout+200*time.Millisecond {
		t.Errorf("call on a hung database took %v, want about %v", took, timeout)
	}
	if !g.Down() {
		t.Fatal("not known down after a call waited out the timeout")
	}

	// Known down: 50 concurrent calls answer at once and none reaches the
	// store; only the background probe pings it.
	before := h.calls.Load()
	var wg sync.WaitGroup
	var slow atomic.Int64
	for range 50 {
		wg.Go(func() {
			s := time.Now()
			_, err := g.Tenant(ctx, "a")
			if !errors.Is(err, actas.ErrUnavailable) || !errors.Is(err, ErrKnownDown) {
				t.Errorf("call while down = %v", err)
			}
			if time.Since(s) > timeout/2 {
				slow.Add(1)
			}
		})
	}
	wg.Wait()
	if n := h.calls.Load() - before; n != 0 {
		t.Errorf("%d calls reached the store while it was known down", n)
	}
	if slow.Load() > 0 {
		t.Errorf("%d calls waited while the store was known down", slow.Load())
	}
	if err := g.ProbeWrite(ctx, time.Now()); !errors.Is(err, actas.ErrUnavailable) {
		t.Errorf("probe while down = %v, want ErrUnavailable", err)
	}
	time.Sleep(200 * time.Millisecond)
	if h.pings.Load() == 0 {
		t.Error("no recovery ping while down")
	}

	// The database comes back: within a RetryEvery and a ping the outage
	// ends by itself, without any request.
	h.hung.Store(false)
	back := time.Now()
	for g.Down() {
		if time.Since(back) > 2*time.Second {
			t.Fatal("still known down 2 s after the database came back")
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("up again %v after the database came back", time.Since(back).Round(time.Millisecond))
	if _, err := g.Tenant(ctx, "a"); err != nil {
		t.Errorf("call after recovery: %v", err)
	}
	_ = g.Close()
}

// TestGuardRecoveryStopsOnClose: closing the guard while the store is
// down stops the recovery probe.
func TestGuardRecoveryStopsOnClose(t *testing.T) {
	h := &hanging{}
	g := Wrap(h, Config{Timeout: 30 * time.Millisecond, RetryEvery: 10 * time.Millisecond})
	h.hung.Store(true)
	_, _ = g.Tenant(context.Background(), "a")
	if !g.Down() {
		t.Fatal("not down")
	}
	_ = g.Close()
	time.Sleep(100 * time.Millisecond) // a ping in flight ends
	n := h.pings.Load()
	time.Sleep(100 * time.Millisecond)
	if h.pings.Load() != n {
		t.Error("the recovery probe kept pinging after Close")
	}
}

// TestGuardKeepsCallerDeadlines: a caller's own deadline is kept (an
// administrator's long operation), a caller's cancellation says nothing
// about the store, and PurgeExpired runs on the store's own bound.
func TestGuardKeepsCallerDeadlines(t *testing.T) {
	h := &hanging{}
	g := Wrap(h, Config{Timeout: 50 * time.Millisecond})
	h.hung.Store(true)

	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _ = g.Tenant(ctx, "a")
	if took := time.Since(start); took < 140*time.Millisecond {
		t.Errorf("call with its own 150 ms deadline ended after %v", took)
	}
	if g.Down() {
		t.Error("a caller's deadline marked the store down")
	}

	ctx, cancel = context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	_, _ = g.Tenant(ctx, "a")
	if g.Down() {
		t.Error("a caller's cancellation marked the store down")
	}

	// A store that returns the bare context error on a timeout: a
	// storage timeout all the same.
	if err := g.ProbeWrite(context.Background(), time.Now()); !errors.Is(err, actas.ErrUnavailable) {
		t.Errorf("timed-out probe = %v, want ErrUnavailable", err)
	}
	_ = g.Close()

	if n, m, err := g.PurgeExpired(context.Background(), time.Now()); err != nil || n != 1 || m != 2 {
		t.Errorf("PurgeExpired = %d, %d, %v", n, m, err)
	}
}

// TestGuardPassesFastFaults: a fault that fails fast (a full disk) is
// returned as it is and does not open the circuit.
func TestGuardPassesFastFaults(t *testing.T) {
	full := fmt.Errorf("create session: %w: disk full", actas.ErrUnavailable)
	f := &failing{err: full}
	g := Wrap(f, Config{Timeout: time.Second})
	for range 3 {
		if err := g.ProbeWrite(context.Background(), time.Now()); !errors.Is(err, full) {
			t.Errorf("probe = %v, want the store's own error", err)
		}
	}
	if g.Down() || f.calls.Load() != 3 {
		t.Errorf("down %v after %d fast failures, want up after 3 calls", g.Down(), f.calls.Load())
	}
}

type failing struct {
	actas.Store
	err   error
	calls atomic.Int64
}

func (f *failing) ProbeWrite(context.Context, time.Time) error { f.calls.Add(1); return f.err }

// BenchmarkGuardOverhead: the cost the guard adds to one store call (a
// deadline and an atomic load), against the same call unguarded.
func BenchmarkGuardOverhead(b *testing.B) {
	h := &hanging{}
	g := Wrap(h, Config{})
	ctx := context.Background()
	b.Run("raw", func(b *testing.B) {
		for b.Loop() {
			_, _ = h.Tenant(ctx, "a")
		}
	})
	b.Run("guarded", func(b *testing.B) {
		for b.Loop() {
			_, _ = g.Tenant(ctx, "a")
		}
	})
	b.Run("guarded-parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_, _ = g.Tenant(ctx, "a")
			}
		})
	})
}

// driverTimeout is a store whose driver times out on its own (a connect
// timeout shorter than the guard's deadline).
type driverTimeout struct {
	actas.Store
}

func (d *driverTimeout) Close() error { return nil }

type timeoutErr struct{}

func (timeoutErr) Error() string { return "i/o timeout" }
func (timeoutErr) Timeout() bool { return true }

func (d *driverTimeout) Tenant(ctx context.Context, id string) (*actas.Tenant, error) {
	return nil, fmt.Errorf("tenant: %w: %w", actas.ErrUnavailable, timeoutErr{})
}

func (d *driverTimeout) Ping(ctx context.Context) error {
	<-ctx.Done()
	return fmt.Errorf("ping: %w: %w", actas.ErrUnavailable, ctx.Err())
}

// TestGuardDriverTimeoutMarksDown: a driver timeout that fires before the
// guard's deadline marks the store down just the same.
func TestGuardDriverTimeoutMarksDown(t *testing.T) {
	g := Wrap(&driverTimeout{}, Config{Timeout: 50 * time.Millisecond})
	defer g.Close()
	if _, err := g.Tenant(context.Background(), "a"); !errors.Is(err, actas.ErrUnavailable) {
		t.Fatal(err)
	}
	if !g.Down() {
		t.Error("a driver timeout did not mark the store down")
	}
}
