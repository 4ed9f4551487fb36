package httpapi

import (
	"errors"
	"net/http"

	"github.com/actas-dev/actas"
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
	d, err := s.Issuer.DiscoveryDocument(r.Context(), t)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) jwks(w http.ResponseWriter, r *http.Request) {
	t, ok := s.tenantOf(w, r)
	if !ok {
		return
	}
	b, err := s.Issuer.JWKS(r.Context(), t)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// Short enough that a verifier sees a "next" key well before it signs
	// (rotation delays are longer than this).
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}
