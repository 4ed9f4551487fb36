package httpapi

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/actas-dev/actas"
)

// TestRetryAfterSurvivesWrapping: the Retry-After an *actas.Error asks for
// reaches the client in both error formats even when the error is wrapped
// on its way up, and a storage sentinel without one gets 1.
func TestRetryAfterSurvivesWrapping(t *testing.T) {
	throttled := &actas.Error{Code: actas.ETHROTTLED, Message: "Too many failed attempts, try again later", RetryAfter: 7}
	cases := []struct {
		name   string
		err    error
		status int
		retry  string
	}{
		{"bare", throttled, 429, "7"},
		{"wrapped", fmt.Errorf("sign in: %w", throttled), 429, "7"},
		{"wrapped twice", fmt.Errorf("a: %w", fmt.Errorf("b: %w", &actas.Error{Code: actas.EUNAVAILABLE, Message: "busy", RetryAfter: 3})), 503, "3"},
		{"storage sentinel", fmt.Errorf("create session: %w", actas.ErrUnavailable), 503, "1"},
		{"not retryable", actas.Errorf(actas.EUNAUTHORIZED, "no"), 401, ""},
	}
	s := &Server{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, format := range []string{"envelope", "oauth"} {
				w := httptest.NewRecorder()
				r := httptest.NewRequest(http.MethodPost, "/auth/token", nil)
				if format == "oauth" {
					s.writeOAuthError(w, r, c.err)
				} else {
					s.writeError(w, r, c.err)
				}
				if format == "envelope" && w.Code != c.status {
					t.Errorf("%s: status %d, want %d", format, w.Code, c.status)
				}
				if got := w.Header().Get("Retry-After"); got != c.retry {
					t.Errorf("%s: Retry-After %q, want %q", format, got, c.retry)
				}
			}
		})
	}
}
