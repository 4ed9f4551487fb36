package httpapi

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/issuer"
)

// deprecatedSince is when the original API deprecated /auth/impersonate
// (2024-06-18), as an RFC 9745 Deprecation value.
const deprecatedSince = "@1718668800"

type impersonateRequest struct {
	Username string `json:"username"`
	Reason   string `json:"reason"`
}

// bearer strips an optional "Bearer " prefix (the original API sends the
// ID token raw; OAuth clients send it as a bearer token).
func bearer(v string) string {
	if len(v) > 7 && strings.EqualFold(v[:7], "Bearer ") {
		return strings.TrimSpace(v[7:])
	}
	return strings.TrimSpace(v)
}

// postImpersonate is POST /auth/impersonate (deprecated; its successor is
// the token-exchange grant at /<userPoolId>/oauth2/token).
func (s *Server) postImpersonate(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	w.Header().Set("Deprecation", deprecatedSince)
	c, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	w.Header().Set("Link", "<"+s.Issuer.Issuer(c.Tenant)+"/oauth2/token>; rel=\"successor-version\"")
	var req impersonateRequest
	if err := readJSON(r, &req, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.Issuer.Impersonate(r.Context(), c, issuer.ImpersonateRequest{
		IDToken:     bearer(r.Header.Get("Authorization")),
		AccessToken: bearer(r.Header.Get("AccessToken")),
		Username:    req.Username,
		Reason:      req.Reason,
		IP:          clientIP(r),
		UserAgent:   r.UserAgent(),
	})
	s.observe(OpImpersonate, err)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resultResponse(res)) // RefreshToken is "": not refreshable
}

// Token exchange (RFC 8693) identifiers.
const (
	grantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	tokenTypeAccess    = "urn:ietf:params:oauth:token-type:access_token"
	tokenTypeUsername  = "urn:actas:params:oauth:token-type:username"
)

type exchangeResponse struct {
	AccessToken     string `json:"access_token"`
	IssuedTokenType string `json:"issued_token_type"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int64  `json:"expires_in"`
	IDToken         string `json:"id_token"`
}

// tokenExchange is the token-exchange grant of POST
// /<userPoolId>/oauth2/token (grants.go): impersonation (RFC 8693 §2),
// with the caller's access token as actor_token and the target's
// username as subject_token. The tenant's API key authenticates it.
func (s *Server) tokenExchange(w http.ResponseWriter, r *http.Request, _ *actas.Tenant, c *issuer.Client, form url.Values) {
	switch {
	case form.Get("subject_token") == "" || form.Get("subject_token_type") == "":
		writeOAuth(w, http.StatusBadRequest, "invalid_request", "subject_token and subject_token_type are required")
		return
	case form.Get("subject_token_type") != tokenTypeUsername:
		writeOAuth(w, http.StatusBadRequest, "invalid_request", "subject_token_type must be "+tokenTypeUsername)
		return
	case form.Get("actor_token") == "":
		writeOAuth(w, http.StatusBadRequest, "invalid_request", "actor_token is required")
		return
	// SPEC §3 names no actor_token_type: a missing one means the access
	// token, the only actor token accepted (RFC 8693 wants it sent; a
	// client that follows the spec does not send it).
	case form.Get("actor_token_type") != "" && form.Get("actor_token_type") != tokenTypeAccess:
		writeOAuth(w, http.StatusBadRequest, "invalid_request", "actor_token_type must be "+tokenTypeAccess)
		return
	case form.Get("requested_token_type") != "" && form.Get("requested_token_type") != tokenTypeAccess:
		writeOAuth(w, http.StatusBadRequest, "invalid_request", "requested_token_type must be "+tokenTypeAccess)
		return
	}
	res, err := s.Issuer.Impersonate(r.Context(), c, issuer.ImpersonateRequest{
		AccessToken: form.Get("actor_token"),
		Username:    form.Get("subject_token"),
		Reason:      form.Get("reason"),
		IP:          clientIP(r),
		UserAgent:   r.UserAgent(),
		ViaExchange: true,
	})
	s.observe(OpTokenExchange, err)
	if err != nil {
		s.writeOAuthError(w, r, err)
		return
	}
	expiresIn := res.ExpiresAt.Unix() - s.Issuer.Now().Unix()
	writeJSON(w, http.StatusOK, exchangeResponse{
		AccessToken:     res.AccessToken,
		IssuedTokenType: tokenTypeAccess,
		TokenType:       "Bearer",
		ExpiresIn:       expiresIn,
		IDToken:         res.IDToken,
	})
}
