package httpapi

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/issuer"
)

// The OAuth endpoints under /<userPoolId>/oauth2/ take form-encoded
// bodies, authenticate the tenant by X-API-Key, and answer errors in the
// OAuth JSON format (RFC 6749 §5.2), not the /auth/* envelope.

type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// oauthErrorCode maps a domain error to an OAuth error code and status.
// Sentinel errors of the issuer that need a finer code are matched first.
func oauthErrorCode(err error) (string, int) {
	switch {
	case errors.Is(err, issuer.ErrReasonRequired):
		return "invalid_request", http.StatusBadRequest
	}
	switch actas.ErrorCode(err) {
	case actas.EINVALID:
		return "invalid_request", http.StatusBadRequest
	case actas.ETOOLARGE:
		return "invalid_request", http.StatusRequestEntityTooLarge
	case actas.EUNAUTHORIZED:
		return "invalid_grant", http.StatusBadRequest
	case actas.EFORBIDDEN:
		return "access_denied", http.StatusForbidden
	case actas.EPRECONDITION:
		return "invalid_target", http.StatusBadRequest
	case actas.ETHROTTLED:
		return "slow_down", http.StatusTooManyRequests
	case actas.EUNAVAILABLE:
		return "temporarily_unavailable", http.StatusServiceUnavailable
	}
	return "server_error", http.StatusInternalServerError
}

// writeOAuthError answers err in the OAuth error format.
func (s *Server) writeOAuthError(w http.ResponseWriter, r *http.Request, err error) {
	code, status := oauthErrorCode(err)
	if status >= 500 {
		setCause(r, err)
	}
	setRetryAfter(w, status, err)
	writeJSON(w, status, oauthError{Error: code, Description: actas.ErrorMessage(err)})
}

// writeOAuth writes a specific OAuth error.
func writeOAuth(w http.ResponseWriter, status int, code, desc string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `APIKey realm="actas", header="X-API-Key"`)
	}
	writeJSON(w, status, oauthError{Error: code, Description: desc})
}

// readForm reads a bounded application/x-www-form-urlencoded body.
// Parameters may not repeat (RFC 6749 §3.2: "Request and response
// parameters MUST NOT be included more than once").
func readForm(r *http.Request) (url.Values, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, actas.Errorf(actas.EINVALID, "Content-Type must be application/x-www-form-urlencoded")
	}
	body, err := io.ReadAll(r.Body)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, errTooLarge
	} else if err != nil {
		return nil, actas.Errorf(actas.EINVALID, "unreadable body")
	}
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, actas.Errorf(actas.EINVALID, "malformed form body")
	}
	for k, vals := range v {
		if len(vals) > 1 {
			return nil, actas.Errorf(actas.EINVALID, "parameter %q repeated", truncateParam(k))
		}
	}
	return v, nil
}

func truncateParam(k string) string {
	if len(k) > 32 {
		return k[:32]
	}
	return k
}

// oauthClient authenticates an OAuth request: the tenant of the path, its
// API key in X-API-Key, and the client_id form field if sent. It answers
// the error itself and returns false on failure.
func (s *Server) oauthClient(w http.ResponseWriter, r *http.Request) (*issuer.Client, url.Values, bool) {
	t, ok := s.oauthTenant(w, r)
	if !ok {
		return nil, nil, false
	}
	c, ok := s.tenantAPIKey(w, r, t)
	if !ok {
		return nil, nil, false
	}
	form, err := readForm(r)
	if err != nil {
		s.writeOAuthError(w, r, err)
		return nil, nil, false
	}
	if !checkFormClientID(w, t, form) {
		return nil, nil, false
	}
	return c, form, true
}

// oauthTenant resolves the tenant of an OAuth endpoint's path.
func (s *Server) oauthTenant(w http.ResponseWriter, r *http.Request) (*actas.Tenant, bool) {
	t, err := s.Issuer.TenantByPoolID(r.Context(), r.PathValue("pool"))
	if errors.Is(err, actas.ErrNotFound) {
		writeOAuth(w, http.StatusNotFound, "invalid_request", "unknown user pool")
		return nil, false
	} else if err != nil {
		s.writeOAuthError(w, r, err)
		return nil, false
	}
	setTenant(r, t.Name)
	return t, true
}

// tenantAPIKey authenticates the X-API-Key of a request to tenant t's
// OAuth endpoints.
func (s *Server) tenantAPIKey(w http.ResponseWriter, r *http.Request, t *actas.Tenant) (*issuer.Client, bool) {
	c, err := s.Issuer.Authenticate(r.Context(), r.Header.Get("X-API-Key"))
	if err != nil {
		if actas.ErrorCode(err) == actas.EFORBIDDEN {
			writeOAuth(w, http.StatusUnauthorized, "invalid_client", "missing or invalid X-API-Key")
		} else {
			s.writeOAuthError(w, r, err)
		}
		return nil, false
	}
	if c.Tenant.ID != t.ID {
		writeOAuth(w, http.StatusUnauthorized, "invalid_client", "the API key does not belong to this user pool")
		return nil, false
	}
	return c, true
}

// checkFormClientID refuses a client_id form field other than the
// tenant's, on the endpoints the API key authenticates.
func checkFormClientID(w http.ResponseWriter, t *actas.Tenant, form url.Values) bool {
	if id := form.Get("client_id"); id != "" && id != t.ClientID {
		writeOAuth(w, http.StatusUnauthorized, "invalid_client", "client_id does not match the API key")
		return false
	}
	return true
}

// isOAuthPath reports whether a path is one of the form-encoded OAuth
// endpoints, whose errors use the OAuth JSON format.
func isOAuthPath(path string) bool {
	pool, rest, ok := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	return ok && pool != "" && strings.HasPrefix(rest, "oauth2/")
}

// oauthMethodNotAllowed answers a wrong method on an OAuth endpoint.
func oauthMethodNotAllowed(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", "POST")
	writeJSON(w, http.StatusMethodNotAllowed, oauthError{Error: "invalid_request", Description: "use POST"})
}
