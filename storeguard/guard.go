package storeguard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/actas-dev/actas"
)

// Defaults of Config.
const (
	DefaultTimeout    = 2 * time.Second
	DefaultRetryEvery = 250 * time.Millisecond
)

// Config tunes a Guard. Zero values take the defaults.
type Config struct {
	// Timeout bounds a call whose context has no deadline.
	Timeout time.Duration
	// RetryEvery: while the store is known down, at most one call per
	// RetryEvery goes through to find out whether it is back.
	RetryEvery time.Duration
	Logger     *slog.Logger // the outage's start and end; default slog.Default()
}

// ErrKnownDown is the error of a call refused at once because the store
// is known down. It wraps actas.ErrUnavailable.
var ErrKnownDown = fmt.Errorf("%w: known down, not tried", actas.ErrUnavailable)

// Guard is an actas.Store that fails fast; see the package comment. It is
// safe for concurrent use.
type Guard struct {
	actas.Store
	cfg Config

	isDown atomic.Bool // down, readable without mu: the path of every call

	mu       sync.Mutex
	down     bool
	since    time.Time // when the outage began
	nextTry  time.Time // while down: when the next trial may go through
	trialing bool      // while down: a trial call is in flight
}

// Wrap returns s guarded.
func Wrap(s actas.Store, c Config) *Guard {
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.RetryEvery <= 0 {
		c.RetryEvery = DefaultRetryEvery
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return &Guard{Store: s, cfg: c}
}

// Unwrap returns the store underneath.
func (g *Guard) Unwrap() actas.Store { return g.Store }

// Down reports whether the store is known down now.
func (g *Guard) Down() bool { return g.isDown.Load() }

// RevocationsChanged forwards the store's notifications, if it has them
// (actas.RevocationNotifier); nil never receives.
func (g *Guard) RevocationsChanged() <-chan struct{} {
	if n, ok := g.Store.(actas.RevocationNotifier); ok {
		return n.RevocationsChanged()
	}
	return nil
}

// admit decides whether a call may go to the store: always while it is
// up; while it is down, one trial at a time, at most one per RetryEvery.
func (g *Guard) admit() (trial bool, err error) {
	if !g.isDown.Load() {
		return false, nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.down {
		return false, nil
	}
	now := time.Now()
	if g.trialing || now.Before(g.nextTry) {
		return false, ErrKnownDown
	}
	g.trialing, g.nextTry = true, now.Add(g.cfg.RetryEvery)
	return true, nil
}

// outcome is what one call says about the store.
type outcome int

const (
	answered outcome = iota // the database answered, whatever it said
	timedOut                // waited out the guard's deadline
	noNews                  // failed fast, or the caller gave up
)

// settle records a call's outcome: a call that waited out the guard's
// own deadline marks the store down; any answer from the database (even
// "not found") marks it up.
func (g *Guard) settle(trial bool, o outcome) {
	if !trial && (o == noNews || (o == answered && !g.isDown.Load())) {
		return // nothing changes: the common case takes no lock
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if trial {
		g.trialing = false
	}
	switch {
	case o == timedOut && !g.down:
		now := time.Now()
		g.down, g.since, g.nextTry = true, now, now.Add(g.cfg.RetryEvery)
		g.isDown.Store(true)
		g.cfg.Logger.Warn("database not answering: failing requests at once until it is back",
			"timeout", g.cfg.Timeout.String())
	case o == answered && g.down:
		g.down = false
		g.isDown.Store(false)
		g.cfg.Logger.Info("database answering again", "outage", time.Since(g.since).Round(time.Millisecond).String())
	}
}

// call runs fn against the store under the guard.
func call[T any](g *Guard, ctx context.Context, fn func(ctx context.Context) (T, error)) (T, error) {
	var zero T
	trial, err := g.admit()
	if err != nil {
		return zero, err
	}
	cctx, cancel := ctx, context.CancelFunc(func() {})
	own := false
	if _, ok := ctx.Deadline(); !ok {
		cctx, cancel = context.WithTimeout(ctx, g.cfg.Timeout)
		own = true
	}
	defer cancel()
	v, err := fn(cctx)
	o := answered
	switch {
	case err == nil:
	case ctx.Err() != nil:
		o = noNews // the caller gave up: this says nothing of the store
	case own && errors.Is(cctx.Err(), context.DeadlineExceeded):
		o = timedOut
		if !errors.Is(err, actas.ErrUnavailable) {
			// A store that returned the bare context error: a storage
			// timeout all the same.
			err = fmt.Errorf("%w: %w", actas.ErrUnavailable, err)
		}
	case errors.Is(err, actas.ErrUnavailable):
		o = noNews
	}
	g.settle(trial, o)
	return v, err
}

// do is call for methods that return only an error.
func do(g *Guard, ctx context.Context, fn func(ctx context.Context) error) error {
	_, err := call(g, ctx, func(ctx context.Context) (struct{}, error) { return struct{}{}, fn(ctx) })
	return err
}
