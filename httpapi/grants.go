package httpapi

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/issuer"
)

// The token endpoint, POST /<userPoolId>/oauth2/token, as a table of
// grants (one per grant_type) behind one dispatch: the request is read
// once, the grant named, and its handler called with the parsed form. A
// new grant is a new entry, not a new branch in a handler.

type grant struct {
	// apiKey: the tenant's X-API-Key authenticates the request (token
	// exchange); otherwise the OAuth client authenticates itself.
	apiKey bool
	handle func(s *Server, w http.ResponseWriter, r *http.Request, t *actas.Tenant, c *issuer.Client, form url.Values)
}

var grants = map[string]grant{
	grantTokenExchange:   {apiKey: true, handle: (*Server).tokenExchange},
	"authorization_code": {handle: (*Server).authorizationCode},
	"refresh_token":      {handle: (*Server).refreshGrant},
}

// postOAuthToken is POST /<userPoolId>/oauth2/token: it dispatches on
// grant_type.
func (s *Server) postOAuthToken(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	t, ok := s.oauthTenant(w, r)
	if !ok {
		return
	}
	form, err := readForm(r)
	if err != nil {
		s.writeOAuthError(w, r, err)
		return
	}
	gt := form.Get("grant_type")
	g, ok := grants[gt]
	if !ok {
		// A request naming none of the grants is authenticated first: by
		// the OAuth client's own credentials when it presents them
		// without an API key (SPEC §9), else by the API key as before.
		if oauthClientRequest(r, t, form) {
			cc, err := clientCredentials(r, form)
			if err == nil {
				err = s.Issuer.AuthenticateClient(r.Context(), t, cc)
			}
			if err != nil {
				s.writeGrantError(w, r, t, err)
				return
			}
		} else if _, ok := s.tenantAPIKey(w, r, t); !ok || !checkFormClientID(w, t, form) {
			return
		}
		if gt == "" {
			writeOAuth(w, http.StatusBadRequest, "invalid_request", "grant_type is required")
		} else {
			writeOAuth(w, http.StatusBadRequest, "unsupported_grant_type",
				"supported: authorization_code, refresh_token, "+grantTokenExchange)
		}
		return
	}
	var c *issuer.Client
	if g.apiKey {
		if c, ok = s.tenantAPIKey(w, r, t); !ok || !checkFormClientID(w, t, form) {
			return
		}
	}
	g.handle(s, w, r, t, c, form)
}

// oauthClientRequest tells whether a token request without an X-API-Key
// carries an OAuth client's credentials: an Authorization header
// (client_secret_basic) or a client_id other than the tenant's.
func oauthClientRequest(r *http.Request, t *actas.Tenant, form url.Values) bool {
	if r.Header.Get("X-API-Key") != "" {
		return false
	}
	id := form.Get("client_id")
	return r.Header.Get("Authorization") != "" || (id != "" && id != t.ClientID)
}

// codeResponse is the token response of the two grants (RFC 6749 §5.1,
// OpenID Connect Core §3.1.3.3).
type codeResponse struct {
	AccessToken  string `json:"access_token"`
	IDToken      string `json:"id_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	Scope        string `json:"scope"`
	RefreshToken string `json:"refresh_token,omitempty"`
}

// clientCredentials reads client_secret_basic (the Authorization header,
// RFC 6749 §2.3.1: each part form-encoded, then Basic) or
// client_secret_post (form fields), or a public client's client_id.
// Using both methods at once is invalid_request.
func clientCredentials(r *http.Request, form url.Values) (issuer.ClientCredentials, error) {
	var cc issuer.ClientCredentials
	if h := r.Header.Get("Authorization"); h != "" {
		id, secret, ok := r.BasicAuth()
		if !ok {
			return cc, issuer.ErrInvalidClient
		}
		var err1, err2 error
		cc.ID, err1 = url.QueryUnescape(id)
		cc.Secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return cc, issuer.ErrInvalidClient
		}
		cc.SecretSent = true
		if form.Has("client_secret") {
			return cc, actas.Errorf(actas.EINVALID, "use one client authentication method, not two")
		}
		if id := form.Get("client_id"); id != "" && id != cc.ID {
			return cc, issuer.ErrInvalidClient
		}
		return cc, nil
	}
	cc.ID = form.Get("client_id")
	cc.Secret, cc.SecretSent = form.Get("client_secret"), form.Has("client_secret")
	if cc.ID == "" {
		return cc, issuer.ErrInvalidClient
	}
	return cc, nil
}

// writeGrantError answers an error of the two grants: invalid_client with
// 401 and a Basic challenge (RFC 6749 §5.2), else the OAuth mapping.
func (s *Server) writeGrantError(w http.ResponseWriter, r *http.Request, t *actas.Tenant, err error) {
	if errors.Is(err, issuer.ErrInvalidClient) {
		w.Header().Set("WWW-Authenticate", `Basic realm="`+strings.ReplaceAll(s.Issuer.Issuer(t), `"`, "")+`"`)
		writeJSON(w, http.StatusUnauthorized, oauthError{Error: "invalid_client", Description: actas.ErrorMessage(err)})
		return
	}
	s.writeOAuthError(w, r, err)
}

func (s *Server) writeCodeResponse(w http.ResponseWriter, res *issuer.Result) {
	writeJSON(w, http.StatusOK, codeResponse{
		AccessToken: res.AccessToken, IDToken: res.IDToken, TokenType: "Bearer",
		ExpiresIn: res.ExpiresAt.Unix() - s.Issuer.Now().Unix(), Scope: res.Scope, RefreshToken: res.RefreshToken,
	})
}

// authorizationCode is grant_type=authorization_code (RFC 6749 §4.1.3).
func (s *Server) authorizationCode(w http.ResponseWriter, r *http.Request, t *actas.Tenant, _ *issuer.Client, form url.Values) {
	cc, err := clientCredentials(r, form)
	if err != nil {
		s.writeGrantError(w, r, t, err)
		return
	}
	res, err := s.Issuer.ExchangeCode(r.Context(), t, issuer.CodeRequest{
		Client: cc, Code: form.Get("code"), RedirectURI: form.Get("redirect_uri"),
		CodeVerifier: form.Get("code_verifier"), IP: clientIP(r), UserAgent: r.UserAgent(),
	})
	if err != nil {
		s.writeGrantError(w, r, t, err)
		return
	}
	s.writeCodeResponse(w, res)
}

// refreshGrant is grant_type=refresh_token (RFC 6749 §6) for an OAuth
// client's sessions.
func (s *Server) refreshGrant(w http.ResponseWriter, r *http.Request, t *actas.Tenant, _ *issuer.Client, form url.Values) {
	cc, err := clientCredentials(r, form)
	if err != nil {
		s.writeGrantError(w, r, t, err)
		return
	}
	res, err := s.Issuer.RefreshForClient(r.Context(), t, issuer.RefreshClientRequest{Client: cc, RefreshToken: form.Get("refresh_token")})
	s.observe(OpRefresh, err)
	if err != nil {
		s.writeGrantError(w, r, t, err)
		return
	}
	s.writeCodeResponse(w, res)
}
