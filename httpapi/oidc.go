package httpapi

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/issuer"
)

// The per-tenant OpenID Connect endpoints: discovery and JWKS, under the
// issuer <public-url>/<userPoolId>.

func (s *Server) tenantOf(w http.ResponseWriter, r *http.Request) (*actas.Tenant, bool) {
	t, err := s.Issuer.TenantByPoolID(r.Context(), r.PathValue("pool"))
	if errors.Is(err, actas.ErrNotFound) {
		s.writeError(w, r, actas.Errorf(actas.ENOTFOUND, "Not Found"))
		return nil, false
	} else if err != nil {
		s.writeError(w, r, err)
		return nil, false
	}
	setTenant(r, t.Name)
	return t, true
}

func (s *Server) discovery(w http.ResponseWriter, r *http.Request) {
	t, ok := s.tenantOf(w, r)
	if !ok {
		return
	}
	d, err := s.Issuer.DiscoveryJSON(r.Context(), t)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeDocument(w, r, d)
}

func (s *Server) jwks(w http.ResponseWriter, r *http.Request) {
	t, ok := s.tenantOf(w, r)
	if !ok {
		return
	}
	d, err := s.Issuer.JWKSDocument(r.Context(), t)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeDocument(w, r, d)
}

// writeDocument answers with a cached public document, or 304 Not
// Modified if the client's If-None-Match names its ETag (RFC 9110 §13.1.2).
// max-age is short enough that a verifier sees a "next" key well before
// it signs (rotation delays are longer than this).
func writeDocument(w http.ResponseWriter, r *http.Request, d *issuer.Document) {
	h := w.Header()
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("ETag", d.ETag)
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatches(inm, d.ETag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(d.Body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(d.Body)
	}
}

// etagMatches reports whether an If-None-Match value matches etag: "*",
// or a list of entity tags compared weakly (RFC 9110 §13.1.2).
func etagMatches(header, etag string) bool {
	if strings.TrimSpace(header) == "*" {
		return true
	}
	for _, tag := range strings.Split(header, ",") {
		if strings.TrimPrefix(strings.TrimSpace(tag), "W/") == etag {
			return true
		}
	}
	return false
}
