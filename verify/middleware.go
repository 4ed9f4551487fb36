package verify

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

type claimsKey struct{}

// ClaimsFrom returns the claims Middleware verified for this request: those
// of the Authorization token (the ID token in the original API, or the
// bearer access token).
func ClaimsFrom(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok
}

// WithClaims returns ctx carrying c, as Middleware does (for tests of
// handlers behind it).
func WithClaims(ctx context.Context, c *Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, c)
}

// Middleware lets through only requests with a valid, unrevoked token of
// the tenant, and puts its claims in the request context (ClaimsFrom).
// It accepts what clients of the original API send:
//
//	X-API-Key:     required to be present (which keys your API accepts is
//	               its own business; this only refuses requests without)
//	Authorization: the ID token, raw or after "Bearer ", or an access
//	               token after "Bearer " (OAuth clients)
//	AccessToken:   optional; if present, a valid access token of the same
//	               user and the same session (sub and origin_jti)
//
// Errors are the actas envelope {"status":"error","message":…}: 403 without
// X-API-Key, 401 for a missing, invalid, expired or revoked token, 503
// (with Retry-After) while the revocation feed is stale and FailOpen is off.
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-API-Key") == "" {
			writeError(w, http.StatusForbidden, "Forbidden")
			return
		}
		authz := bearer(r.Header.Get("Authorization"))
		if authz == "" {
			writeError(w, http.StatusUnauthorized, "Missing Authorization token")
			return
		}
		c, err := v.Verify(authz)
		if err != nil {
			fail(w, err, "Invalid or expired Authorization token")
			return
		}
		if at := r.Header.Get("AccessToken"); at != "" {
			ac, err := v.VerifyAccess(bearer(at))
			if err != nil {
				fail(w, err, "Invalid or expired AccessToken")
				return
			}
			if ac.Sub != c.Sub || ac.OriginJti != c.OriginJti {
				writeError(w, http.StatusUnauthorized, "Tokens do not belong to the same session")
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(WithClaims(r.Context(), c)))
	})
}

func fail(w http.ResponseWriter, err error, msg string) {
	if errors.Is(err, ErrUnavailable) {
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "Token revocation status unavailable, try again later")
		return
	}
	writeError(w, http.StatusUnauthorized, msg)
}

func bearer(v string) string {
	v = strings.TrimSpace(v)
	if len(v) > 7 && strings.EqualFold(v[:7], "Bearer ") {
		return strings.TrimSpace(v[7:])
	}
	return v
}

func writeError(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(struct {
		Status  string `json:"status"`
		Message string `json:"message"`
	}{"error", msg})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	if status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="api"`)
	}
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
