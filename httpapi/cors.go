package httpapi

import (
	"net/http"
	"strconv"
	"strings"
)

// CORS for the endpoints a single-page application calls with fetch
// (SPEC §9: "a SPA with PKCE"), as Keycloak's "Web origins: +" does it.
//
//   - Discovery and JWKS are public documents: Access-Control-Allow-Origin
//     "*", never with credentials.
//   - The token, userinfo and revoke endpoints answer only an Origin that
//     is the origin of a redirect URI registered for one of the tenant's
//     OAuth clients (issuer.CORSOriginAllowed). The Origin is echoed, with
//     Vary: Origin; never Access-Control-Allow-Credentials: the SPA sends
//     tokens, not cookies. Any other Origin gets no CORS header at all, and
//     the request is answered as without CORS (a preflight is then 405):
//     the browser withholds the answer from the page.
//
// The authorize and sign-in pages and logout are navigations, not
// fetches, and /auth/* is for servers: none of them sends CORS headers.

// corsMaxAge bounds how long a browser may reuse a preflight's answer
// (Chromium caps it at 2 hours, Firefox at 24).
const corsMaxAge = 10 * 60

// corsRoute is what one CORS-enabled endpoint allows.
type corsRoute struct {
	methods string // Access-Control-Allow-Methods
	expose  string // Access-Control-Expose-Headers of actual answers, if any
	public  bool   // a public document: any origin, "*"
}

// corsRoutes are the endpoints with CORS, by the path after /<pool>/.
var corsRoutes = map[string]corsRoute{
	".well-known/openid-configuration": {methods: "GET, HEAD", public: true},
	".well-known/jwks.json":            {methods: "GET, HEAD", public: true},
	"oauth2/token":                     {methods: "POST"},
	"oauth2/userinfo":                  {methods: "GET, POST", expose: "WWW-Authenticate"}, // its 401 says why there
	"oauth2/revoke":                    {methods: "POST"},
}

// withCORS adds the CORS headers of corsRoutes and answers their
// preflights; every other request goes to next untouched.
func (s *Server) withCORS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pool, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		route, ok := corsRoutes[rest]
		if !ok || pool == "" {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		if route.public {
			h.Set("Access-Control-Allow-Origin", "*")
			if preflight {
				writePreflight(w, r, route, "")
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		h.Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		allowed, err := s.Issuer.CORSOriginAllowed(r.Context(), pool, origin)
		if err != nil {
			// The request is answered without CORS; a preflight can only
			// fail, so it fails with the store's error.
			if preflight {
				s.writeOAuthError(w, r, err)
				return
			}
			allowed = false
		}
		if !allowed || (preflight && !methodListed(route.methods, r.Header.Get("Access-Control-Request-Method"))) {
			next.ServeHTTP(w, r)
			return
		}
		h.Set("Access-Control-Allow-Origin", origin)
		if preflight {
			writePreflight(w, r, route, "Authorization, Content-Type")
			return
		}
		if route.expose != "" {
			h.Set("Access-Control-Expose-Headers", route.expose)
		}
		next.ServeHTTP(w, r)
	})
}

// writePreflight answers a CORS preflight: 204 with what the route
// allows, for at most corsMaxAge seconds.
func writePreflight(w http.ResponseWriter, r *http.Request, route corsRoute, headers string) {
	_, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	r.Pattern = "OPTIONS /{pool}/" + rest // the route of the access log and metrics
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", route.methods)
	if headers != "" {
		h.Set("Access-Control-Allow-Headers", headers)
	}
	h.Set("Access-Control-Max-Age", strconv.Itoa(corsMaxAge))
	w.WriteHeader(http.StatusNoContent)
}

// methodListed reports whether m is one of a comma-separated list of
// methods (method names are case-sensitive, RFC 9110 §9.1).
func methodListed(list, m string) bool {
	for _, l := range strings.Split(list, ",") {
		if strings.TrimSpace(l) == m {
			return true
		}
	}
	return false
}
