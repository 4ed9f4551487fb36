// Command resourceserver is the smallest API protected by actas: it
// accepts the headers clients of the original API send (X-API-Key,
// Authorization = ID token, AccessToken) or an OAuth bearer access token,
// and refuses revoked tokens within about a second of their revocation.
//
//	ACTAS_ISSUER=http://localhost:8080/local_a1b2c3d4e \
//	ACTAS_CLIENT_ID=<clientId> ACTAS_API_KEY=<API key> \
//	go run ./examples/resourceserver
//
//	curl -H "X-API-Key: $KEY" -H "Authorization: $ID_TOKEN" localhost:9090/hello
package main

import (
	"context"
	"encoding/json"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/actas-dev/actas/verify"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	v, err := verify.New(ctx, verify.Config{
		Issuer:   os.Getenv("ACTAS_ISSUER"),
		ClientID: os.Getenv("ACTAS_CLIENT_ID"),
		APIKey:   os.Getenv("ACTAS_API_KEY"),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()
	addr := os.Getenv("ADDR")
	if addr == "" {
		addr = "localhost:9090"
	}
	srv := &http.Server{Addr: addr, Handler: handler(v), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Shutdown(context.Background())
	}()
	log.Printf("resource server on %s, trusting %s", addr, os.Getenv("ACTAS_ISSUER"))
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		log.Fatal(err)
	}
}

// handler is the API: /hello for signed-in users, /healthz for probes
// (503 while the verifier fails closed).
func handler(v *verify.Verifier) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /hello", v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := verify.ClaimsFrom(r.Context())
		body := map[string]any{"hello": c.Name(), "sub": c.Sub, "groups": c.Groups}
		if c.Act != nil {
			body["acting"] = c.Act.Username // impersonation: log who really acts
		}
		writeJSON(w, http.StatusOK, body)
	})))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		s := v.Stats()
		status := http.StatusOK
		if s.FailClosed {
			status = http.StatusServiceUnavailable
		}
		writeJSON(w, status, map[string]any{"feed_lag_ms": s.FeedLag.Milliseconds(), "revoked": s.Revoked, "fail_closed": s.FailClosed})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
