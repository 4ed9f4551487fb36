package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/actas-dev/actas"
)

// MaxBodyBytes bounds every request body (SPEC §2: 64 KiB, else 413).
const MaxBodyBytes = 64 << 10

// Server serves the actas HTTP API for one Issuer.
type Server struct {
	Issuer Service // usually an *issuer.Issuer (service.go)
	Logger *slog.Logger
	// TrustedProxy, if set, reports whether a direct peer is a trusted
	// reverse proxy, whose X-Forwarded-For is then believed (clientip.go).
	TrustedProxy func(ip string) bool
	// Operations endpoints and hooks (ops.go): all optional.
	Observer  Observer     // metrics hooks
	Readiness *Readiness   // GET /readyz checks; nil: always ready
	Metrics   http.Handler // served at GET /metrics when set
}

// Handler returns the complete handler: routes wrapped in the shared
// middleware.
func (s *Server) Handler() http.Handler {
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /auth/token", s.postToken)
	mux.HandleFunc("DELETE /auth/token", s.deleteToken)
	mux.HandleFunc("/auth/token", s.methodNotAllowed("POST, DELETE"))
	mux.HandleFunc("POST /auth/impersonate", s.postImpersonate)
	mux.HandleFunc("/auth/impersonate", s.methodNotAllowed("POST"))
	mux.HandleFunc("POST /{pool}/oauth2/token", s.postOAuthToken)
	mux.HandleFunc("POST /{pool}/oauth2/revoke", s.postRevoke)
	mux.HandleFunc("POST /{pool}/oauth2/introspect", s.postIntrospect)
	for _, p := range []string{"token", "revoke", "introspect"} {
		mux.HandleFunc("/{pool}/oauth2/"+p, oauthMethodNotAllowed)
	}
	s.mountSignIn(mux) // browser sign-in, SPEC §9 (signin.go)
	mux.HandleFunc("GET /{pool}/revocations", s.getRevocations)
	mux.HandleFunc("GET /{pool}/.well-known/openid-configuration", s.discovery)
	mux.HandleFunc("GET /{pool}/.well-known/jwks.json", s.jwks)
	s.mountOps(mux) // /healthz, /readyz, /metrics, /openapi.yaml
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, actas.Errorf(actas.ENOTFOUND, "Not Found"))
	})
	return s.middleware(s.withCORS(s.withUsers(mux))) // CORS (cors.go); SPEC §7 and POST /auth/password (users.go)
}

func (s *Server) methodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{Status: "error", Message: "Method Not Allowed"})
	}
}

type reqState struct {
	id     string
	tenant string
	ip     string // the client address (clientip.go)
	cause  error
}

type stateKey struct{}

func state(r *http.Request) *reqState {
	st, _ := r.Context().Value(stateKey{}).(*reqState)
	if st == nil {
		return &reqState{}
	}
	return st
}

func setCause(r *http.Request, err error) { state(r).cause = err }
func setTenant(r *http.Request, t string) { state(r).tenant = t }

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// middleware applies, in one place, what every route shares: a request id,
// security headers, the body limit, panic recovery and one access log line
// per request. It never logs headers or bodies: they carry secrets.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		st := &reqState{id: requestID(r.Header.Get("X-Request-Id")), ip: s.clientAddr(r)}
		r = r.WithContext(context.WithValue(r.Context(), stateKey{}, st))
		h := w.Header()
		h.Set("X-Request-Id", st.id)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				// No stack trace, even in the log (SPEC §2): the panic's
				// value, bounded, is enough to find it with the request id.
				s.Logger.Error("panic serving request", "request_id", st.id, "panic", truncateLog(fmt.Sprint(p), 200))
				if sw.status == 0 {
					s.writeError(sw, r, actas.Errorf(actas.EINTERNAL, "Internal error"))
				}
			}
			s.logRequest(r, st, sw, time.Since(start))
		}()
		if r.ContentLength > MaxBodyBytes {
			if isOAuthPath(r.URL.Path) {
				s.writeOAuthError(sw, r, errTooLarge)
			} else {
				s.writeError(sw, r, errTooLarge)
			}
			return
		}
		guardFraming(sw, r) // framing.go
		r.Body = http.MaxBytesReader(sw, r.Body, MaxBodyBytes)
		next.ServeHTTP(sw, r)
	})
}

func (s *Server) logRequest(r *http.Request, st *reqState, sw *statusWriter, d time.Duration) {
	status := sw.status
	if status == 0 {
		status = http.StatusOK
	}
	route := r.Pattern
	if route == "" {
		route = "unmatched"
	}
	attrs := []any{
		"request_id", st.id, "method", r.Method, "route", route, "status", status,
		"duration_ms", float64(d.Microseconds()) / 1000, "bytes", sw.bytes,
	}
	if st.tenant != "" {
		attrs = append(attrs, "tenant", st.tenant)
	}
	attrs = append(attrs, "client_ip", st.ip)
	if s.Observer.Request != nil {
		s.Observer.Request(metricMethod(r.Method), route, status, d)
	}
	if st.cause != nil && status >= 500 {
		var e *actas.Error
		if errors.As(st.cause, &e) && e.Code == actas.EUNAVAILABLE {
			// Load shed on purpose (too many sign-ins in progress, too
			// many feed waiters): the service works as designed, so a
			// warning; a flood of them must not bury real errors.
			s.Logger.Warn("request shed", attrs...)
			return
		}
		// The operation that failed and its class, not the driver's text:
		// that can carry SQL or file paths, which never reach a log line.
		s.Logger.Error("request failed", append(attrs, "err_op", errOp(st.cause), "err_code", actas.ErrorCode(st.cause))...)
		return
	}
	s.Logger.Info("request", attrs...)
}

// errOp returns the outermost operation of a wrapped error: the text up
// to the first ": " ("create session" of "create session: sqlite: …").
func errOp(err error) string {
	op, _, _ := strings.Cut(err.Error(), ": ")
	return truncateLog(op, 80)
}

func truncateLog(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// requestID returns the client's request id if it is sane (1–128
// characters of [A-Za-z0-9._:-]), else a fresh one.
func requestID(in string) string {
	if in != "" && len(in) <= 128 {
		ok := true
		for i := 0; i < len(in); i++ {
			c := in[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
				ok = false
				break
			}
		}
		if ok {
			return in
		}
	}
	return actas.NewID()
}
