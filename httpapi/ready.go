package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Check is one readiness check: Name is what /readyz reports when Fn
// fails (a short fixed word; never the error, which goes to the log).
type Check struct {
	Name string
	Fn   func(ctx context.Context) error
}

// Readiness answers GET /readyz: ready when every check passes and the
// server is not draining. Results are cached for TTL so that probes are
// cheap however often they come; draining takes effect at once.
type Readiness struct {
	Checks  []Check
	TTL     time.Duration // default 1 s
	Timeout time.Duration // for one round of checks; default 2 s
	Logger  *slog.Logger  // failures are logged here, on change only

	draining atomic.Bool

	mu      sync.Mutex // held while checking: one round at a time
	at      time.Time
	failing []string
}

// Drain makes /readyz fail from now on: the process is shutting down and
// load balancers should stop sending it requests.
func (rd *Readiness) Drain() { rd.draining.Store(true) }

// Draining reports whether Drain was called.
func (rd *Readiness) Draining() bool { return rd.draining.Load() }

// Failing returns the names of the failing checks ("draining" first
// when draining), or nil when ready.
func (rd *Readiness) Failing(ctx context.Context) []string {
	if rd.Draining() {
		return []string{"draining"}
	}
	ttl := rd.TTL
	if ttl <= 0 {
		ttl = time.Second
	}
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if !rd.at.IsZero() && time.Since(rd.at) < ttl {
		return rd.failing
	}
	timeout := rd.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	// A probe's own cancellation must not mark the service unready for
	// the next TTL, so the round runs on its own deadline.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	var failing []string
	for _, c := range rd.Checks {
		if err := c.Fn(cctx); err != nil {
			failing = append(failing, c.Name)
			if rd.Logger != nil && !contains(rd.failing, c.Name) {
				rd.Logger.Error("readiness check failed", "check", c.Name, "err", err.Error())
			}
		}
	}
	if rd.Logger != nil {
		for _, name := range rd.failing {
			if !contains(failing, name) {
				rd.Logger.Info("readiness check recovered", "check", name)
			}
		}
	}
	rd.at, rd.failing = time.Now(), failing
	return failing
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz is GET /readyz: 200 {"status":"ok"} when ready, else 503 in the
// error envelope naming the failing checks.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	var failing []string
	if s.Readiness != nil {
		failing = s.Readiness.Failing(r.Context())
	}
	if len(failing) > 0 {
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, errorBody{Status: "error", Message: "not ready: " + strings.Join(failing, ", ")})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
