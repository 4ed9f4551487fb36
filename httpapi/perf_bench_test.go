package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/httpapi"
	"github.com/actas-dev/actas/internal/cputime"
	"github.com/actas-dev/actas/issuer"
	"github.com/actas-dev/actas/password"
	"github.com/actas-dev/actas/sqlite"
	"github.com/actas-dev/actas/token"
)

// BenchmarkRefreshHTTP is one refresh end to end through the handler
// (middleware, API key, JSON in and out, access log to a discarding
// handler), with no network, on a real SQLite store. x-crypto is the
// time per op over two signatures measured in the same run.
func BenchmarkRefreshHTTP(b *testing.B) {
	for _, alg := range []string{actas.AlgRS256, actas.AlgES256} {
		b.Run(alg, func(b *testing.B) {
			ctx := context.Background()
			db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			sealer, _ := token.NewSealer(make([]byte, 32))
			cheap := password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
			iss := issuer.New(issuer.Config{Store: db, Sealer: sealer, Hasher: password.NewHasher(cheap, 4, 100, time.Minute),
				PublicURL: "http://127.0.0.1:8080", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err := iss.Start(ctx); err != nil {
				b.Fatal(err)
			}
			_, key, err := iss.CreateTenant(ctx, issuer.CreateTenantRequest{Name: "bench", Settings: actas.TenantSettings{SigningAlg: alg}})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := iss.CreateUser(ctx, issuer.CreateUserRequest{Tenant: "bench", Username: "alice", Password: "correct horse battery"}); err != nil {
				b.Fatal(err)
			}
			h := (&httpapi.Server{Issuer: iss, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}).Handler()
			do := func(body []byte) *httptest.ResponseRecorder {
				r := httptest.NewRequest(http.MethodPost, "/auth/token", bytes.NewReader(body))
				r.Header.Set("X-API-Key", key)
				r.Header.Set("Content-Type", "application/json")
				r.RemoteAddr = "127.0.0.1:40000"
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				return w
			}
			w := do([]byte(`{"username":"alice","password":"correct horse battery"}`))
			if w.Code != http.StatusOK {
				b.Fatalf("sign in: %d %s", w.Code, w.Body)
			}
			body := w.Body.Bytes() // a client posts the whole previous response back
			var check struct{ Session struct{ RefreshToken string } }
			if err := json.Unmarshal(body, &check); err != nil || check.Session.RefreshToken == "" {
				b.Fatalf("sign-in body: %s", body)
			}
			crypto := 2 * signOnce(b, alg).wall
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for b.Loop() {
				if w := do(body); w.Code != http.StatusOK {
					b.Fatalf("refresh: %d %s", w.Code, w.Body)
				}
			}
			per := time.Since(start) / time.Duration(b.N)
			b.ReportMetric(float64(crypto.Nanoseconds()), "crypto-ns/op")
			b.ReportMetric(float64(per)/float64(crypto), "x-crypto")
		})
	}
}

func signOnce(b *testing.B, alg string) cost {
	sealer, _ := token.NewSealer(make([]byte, 32))
	now := time.Now()
	sk, err := token.GenerateKey(sealer, "t", actas.KeyUseAccess, alg, now)
	if err != nil {
		b.Fatal(err)
	}
	k, err := token.LoadKey(sealer, sk)
	if err != nil {
		b.Fatal(err)
	}
	c := &token.Claims{Sub: actas.NewID(), EventID: actas.NewID(), TokenUse: "access", Iss: "http://127.0.0.1:8080/local_abcdefghi",
		Exp: now.Add(time.Hour).Unix(), Iat: now.Unix(), Jti: actas.NewID(), OriginJti: actas.NewID(), ClientID: "c", Username: "alice"}
	return measure(func() {
		if _, err := k.Sign(c); err != nil {
			b.Fatal(err)
		}
	})
}

// cost is what one run of an operation took: wall time, and CPU time of
// the process (0 where the platform does not report it).
type cost struct{ wall, cpu time.Duration }

// measure runs f for 200 ms, one at a time, and returns its cost per run.
func measure(f func()) cost {
	n := 0
	c0, t0 := cputime.Process(), time.Now()
	for time.Since(t0) < 200*time.Millisecond {
		f()
		n++
	}
	return cost{wall: time.Since(t0) / time.Duration(n), cpu: (cputime.Process() - c0) / time.Duration(n)}
}
