package httpapi

import (
	_ "embed"
	"net/http"
)

// OpenAPI is the OpenAPI 3 description of every endpoint, served at
// GET /openapi.yaml. cmd/actas's contract test validates real answers
// against it, so it stays true.
//
//go:embed openapi.yaml
var OpenAPI []byte

// mountOps mounts the operations endpoints: liveness, readiness, metrics
// and the API description. They carry no tenant and need no API key.
func (s *Server) mountOps(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	if s.Metrics != nil {
		mux.Handle("GET /metrics", s.Metrics)
	}
	mux.HandleFunc("GET /openapi.yaml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		_, _ = w.Write(OpenAPI)
	})
}
