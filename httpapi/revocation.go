package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/actas-dev/actas/issuer"
	"github.com/actas-dev/actas/revocation"
)

// Revocation for every verifier: the OAuth revocation (RFC 7009) and
// introspection (RFC 7662) endpoints, and actas's revocation feed, a long
// poll that package verify follows. All three authenticate the tenant by
// X-API-Key and answer errors in the OAuth JSON format.

// postRevoke is POST /<userPoolId>/oauth2/revoke (RFC 7009 §2). Every
// token, valid or not, gets 200 with an empty body (§2.2); token_type_hint
// is accepted and not needed.
func (s *Server) postRevoke(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	c, form, ok := s.oauthClient(w, r)
	if !ok {
		return
	}
	raw := form.Get("token")
	if raw == "" {
		writeOAuth(w, http.StatusBadRequest, "invalid_request", "token is required")
		return
	}
	if err := s.Issuer.Revoke(r.Context(), c, raw); err != nil {
		s.writeOAuthError(w, r, err)
		return
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

// postIntrospect is POST /<userPoolId>/oauth2/introspect (RFC 7662 §2).
func (s *Server) postIntrospect(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	c, form, ok := s.oauthClient(w, r)
	if !ok {
		return
	}
	raw := form.Get("token")
	if raw == "" {
		writeOAuth(w, http.StatusBadRequest, "invalid_request", "token is required")
		return
	}
	in, err := s.Issuer.Introspect(r.Context(), c, raw)
	if err != nil {
		s.writeOAuthError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, in)
}

// getRevocations is GET /<userPoolId>/revocations?after=<seq>&wait=<s>,
// the revocation feed (see revocation.Set.Feed). It is not an OAuth
// endpoint, but it answers errors as they do.
func (s *Server) getRevocations(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	c, ok := s.apiKeyClient(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	var after int64
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			writeOAuth(w, http.StatusBadRequest, "invalid_request", "after must be a non-negative integer")
			return
		}
		after = n
	}
	var wait time.Duration
	if v := q.Get("wait"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > int(revocation.MaxFeedWait/time.Second) {
			writeOAuth(w, http.StatusBadRequest, "invalid_request", "wait must be an integer from 0 to 30")
			return
		}
		wait = time.Duration(n) * time.Second
	}
	if wait > 0 {
		// The server's WriteTimeout may be about as long as the longest
		// wait: give this answer the time it needs, or wait less.
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(wait + 10*time.Second)); err != nil {
			wait = min(wait, 10*time.Second)
		}
	}
	f, err := s.Issuer.RevocationFeed(r.Context(), c, after, wait)
	if err != nil {
		s.writeOAuthError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, f)
}

// apiKeyClient authenticates a request without a body: the tenant of the
// path and its API key in X-API-Key, as oauthClient does. It answers the
// error itself and returns false on failure.
func (s *Server) apiKeyClient(w http.ResponseWriter, r *http.Request) (*issuer.Client, bool) {
	t, ok := s.oauthTenant(w, r)
	if !ok {
		return nil, false
	}
	return s.tenantAPIKey(w, r, t)
}

// Unwrap lets http.ResponseController reach the connection (the feed
// extends its write deadline).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
