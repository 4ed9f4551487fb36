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
	// RetryEvery: while the store is known down, it is pinged this often
	// (in the background, each ping bounded by Timeout) until it answers.
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

	isDown atomic.Bool // read on every call

	mu     sync.Mutex
	since  time.Time     // when the outage began
	closed chan struct{} // closed by Close: stops the recovery probe
	once   sync.Once
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
	return &Guard{Store: s, cfg: c, closed: make(chan struct{})}
}

// Unwrap returns the store underneath.
func (g *Guard) Unwrap() actas.Store { return g.Store }

// Down reports whether the store is known down now.
func (g *Guard) Down() bool { return g.isDown.Load() }

// Close stops the recovery probe and closes the store.
func (g *Guard) Close() error {
	g.once.Do(func() { close(g.closed) })
	return g.Store.Close()
}

// RevocationsChanged forwards the store's notifications, if it has them
// (actas.RevocationNotifier); nil never receives.
func (g *Guard) RevocationsChanged() <-chan struct{} {
	if n, ok := g.Store.(actas.RevocationNotifier); ok {
		return n.RevocationsChanged()
	}
	return nil
}

// outcome is what one call says about the store.
type outcome int

const (
	answered outcome = iota // the database answered, whatever it said
	timedOut                // waited out the guard's deadline
	noNews                  // failed fast, or the caller gave up
)

// settle records a call's outcome: a call that waited out the guard's own
// deadline marks the store down and starts the recovery probe.
func (g *Guard) settle(o outcome) {
	if o != timedOut || g.isDown.Load() {
		return // nothing changes: the common case takes no lock
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.isDown.Load() {
		return
	}
	g.since = time.Now()
	g.isDown.Store(true)
	g.cfg.Logger.Warn("database not answering: failing requests at once until it is back",
		"timeout", g.cfg.Timeout.String())
	go g.recover()
}

// recover pings the store every RetryEvery, each ping bounded by the
// timeout, until it answers, and then ends the outage. No request waits
// for these pings: while the store is down they are all refused at once.
func (g *Guard) recover() {
	t := time.NewTicker(g.cfg.RetryEvery)
	defer t.Stop()
	for {
		select {
		case <-g.closed:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), g.cfg.Timeout)
		err := g.Store.Ping(ctx)
		cancel()
		// Any answer but unavailability ends it: the database answered,
		// or the store was closed under the probe (shutdown).
		if err == nil || !errors.Is(err, actas.ErrUnavailable) {
			g.mu.Lock()
			g.isDown.Store(false)
			outage := time.Since(g.since)
			g.mu.Unlock()
			g.cfg.Logger.Info("database answering again", "outage", outage.Round(time.Millisecond).String())
			return
		}
	}
}

// call runs fn against the store under the guard.
func call[T any](g *Guard, ctx context.Context, fn func(ctx context.Context) (T, error)) (T, error) {
	var zero T
	if g.isDown.Load() {
		return zero, ErrKnownDown
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
	case errors.Is(err, actas.ErrUnavailable) && timeout(err):
		// The driver's own timeout (a connect timeout) fired first: the
		// call waited all the same.
		o = timedOut
	case errors.Is(err, actas.ErrUnavailable):
		o = noNews
	}
	g.settle(o)
	return v, err
}

// timeout reports whether err says a wait ran out: a context deadline or
// an error whose Timeout method says so (net.Error, pgconn's).
func timeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &te) && te.Timeout())
}

// do is call for methods that return only an error.
func do(g *Guard, ctx context.Context, fn func(ctx context.Context) error) error {
	_, err := call(g, ctx, func(ctx context.Context) (struct{}, error) { return struct{}{}, fn(ctx) })
	return err
}
