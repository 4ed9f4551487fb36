package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/httpapi"
	"github.com/actas-dev/actas/internal/cputime"
	"github.com/actas-dev/actas/internal/cputime/benchcpu"
	"github.com/actas-dev/actas/issuer"
	"github.com/actas-dev/actas/password"
	"github.com/actas-dev/actas/sqlite"
	"github.com/actas-dev/actas/token"
)

// httpEnv is a handler on a real SQLite store with one tenant of one
// signing algorithm and its user alice.
type httpEnv struct {
	h      http.Handler
	key    string
	db     *sqlite.DB
	sealer *token.Sealer
}

var cheapHash = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func newHTTPEnv(b *testing.B, alg string) *httpEnv {
	b.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	sealer, _ := token.NewSealer(make([]byte, 32))
	iss := newBenchIssuer(b, db, sealer)
	_, key, err := iss.CreateTenant(ctx, issuer.CreateTenantRequest{Name: "bench", Settings: actas.TenantSettings{SigningAlg: alg}})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := iss.CreateUser(ctx, issuer.CreateUserRequest{Tenant: "bench", Username: "alice", Password: "correct horse battery"}); err != nil {
		b.Fatal(err)
	}
	return &httpEnv{h: benchHandler(iss), key: key, db: db, sealer: sealer}
}

func newBenchIssuer(b *testing.B, db *sqlite.DB, sealer *token.Sealer) *issuer.Issuer {
	b.Helper()
	iss := issuer.New(issuer.Config{Store: db, Sealer: sealer, Hasher: password.NewHasher(cheapHash, 4, 100, time.Minute),
		PublicURL: "http://127.0.0.1:8080", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := iss.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	// As actas serve does: the revocation sync runs beside the requests.
	bg, stop := context.WithCancel(context.Background())
	b.Cleanup(stop)
	go iss.Maintain(bg, time.Second, time.Hour)
	return iss
}

func benchHandler(iss *issuer.Issuer) http.Handler {
	return (&httpapi.Server{Issuer: iss, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}).Handler()
}

// do serves one request to /auth/token with the API key.
func (e *httpEnv) do(h http.Handler, method string, body []byte, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "/auth/token", bytes.NewReader(body))
	r.Header.Set("X-API-Key", e.key)
	r.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	r.RemoteAddr = "127.0.0.1:40000"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// signIn returns the body of a sign-in response through h, which a
// client posts back whole to refresh.
func (e *httpEnv) signIn(b *testing.B, h http.Handler) []byte {
	body, err := e.trySignIn(h)
	if err != nil {
		b.Fatal(err)
	}
	return body
}

func (e *httpEnv) trySignIn(h http.Handler) ([]byte, error) {
	w := e.do(h, http.MethodPost, []byte(`{"username":"alice","password":"correct horse battery"}`))
	if w.Code != http.StatusOK {
		return nil, fmt.Errorf("sign in: %d %s", w.Code, w.Body)
	}
	body := w.Body.Bytes()
	var check struct{ Session struct{ RefreshToken string } }
	if err := json.Unmarshal(body, &check); err != nil || check.Session.RefreshToken == "" {
		return nil, fmt.Errorf("sign-in body: %s", body)
	}
	return body, nil
}

// BenchmarkRefreshHTTP is one refresh end to end through the handler
// (middleware, API key, JSON in and out, access log to a discarding
// handler), with no network, on a real SQLite store. x-crypto is the
// time per op over two signatures measured in the same run.
func BenchmarkRefreshHTTP(b *testing.B) {
	for _, alg := range []string{actas.AlgRS256, actas.AlgES256} {
		b.Run(alg, func(b *testing.B) {
			e := newHTTPEnv(b, alg)
			body := e.signIn(b, e.h) // a client posts the whole previous response back
			crypto := 2 * signOnce(b, alg).wall
			b.ReportAllocs()
			b.ResetTimer()
			defer benchcpu.PerOp(b)()
			start := time.Now()
			for b.Loop() {
				if w := e.do(e.h, http.MethodPost, body); w.Code != http.StatusOK {
					b.Fatalf("refresh: %d %s", w.Code, w.Body)
				}
			}
			per := time.Since(start) / time.Duration(b.N)
			b.ReportMetric(float64(crypto.Nanoseconds()), "crypto-ns/op")
			b.ReportMetric(float64(per)/float64(crypto), "x-crypto")
		})
	}
}

// BenchmarkRefreshHTTPParallel is the refresh scenario of scripts/bench.sh
// in process: 32 concurrent clients refreshing 256 sessions round robin
// (rotation off, the tenant default). cpu-ns/op is the CPU of the whole
// process per refresh (the clients' share is building a request and
// reading a recorder); 1e9 over it is refreshes per core-second, and
// x-crypto-cpu is it over the two signatures.
func BenchmarkRefreshHTTPParallel(b *testing.B) {
	for _, alg := range []string{actas.AlgRS256, actas.AlgES256} {
		b.Run(alg, func(b *testing.B) {
			e := newHTTPEnv(b, alg)
			bodies := make([][]byte, 256)
			for i := range bodies {
				bodies[i] = e.signIn(b, e.h)
			}
			crypto := 2 * signOnce(b, alg).cpu // CPU against CPU
			var next atomic.Int64
			b.SetParallelism(16)
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cputime.Process()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					body := bodies[int(next.Add(1))%len(bodies)]
					if w := e.do(e.h, http.MethodPost, body); w.Code != http.StatusOK {
						b.Errorf("refresh: %d %s", w.Code, w.Body)
						return
					}
				}
			})
			cpu := (cputime.Process() - cpu0) / time.Duration(b.N)
			b.ReportMetric(float64(cpu.Nanoseconds()), "cpu-ns/op")
			b.ReportMetric(float64(crypto.Nanoseconds()), "crypto-ns/op")
			b.ReportMetric(float64(cpu)/float64(crypto), "x-crypto-cpu")
		})
	}
}

// BenchmarkExpireHTTPParallel is the expire scenario of scripts/bench.sh
// in process: 32 concurrent DELETE /auth/token of distinct RS256
// sessions, each naming its session by the AccessToken header and the
// whole sign-in response. The sessions were signed in on another
// replica of the same database (as the bench tool signs its own tokens),
// so this server verifies two signatures per expire. Run it with a fixed
// count (-benchtime=2000x): it signs in b.N sessions first.
func BenchmarkExpireHTTPParallel(b *testing.B) {
	e := newHTTPEnv(b, actas.AlgRS256)
	other := benchHandler(newBenchIssuer(b, e.db, e.sealer))
	type sess struct {
		body   []byte
		access string
	}
	sessions := make([]sess, b.N)
	var (
		wg   sync.WaitGroup
		next atomic.Int64
	)
	for range 16 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < b.N; i = int(next.Add(1)) - 1 {
				body, err := e.trySignIn(other)
				var r struct{ Session struct{ AccessToken string } }
				if err == nil {
					err = json.Unmarshal(body, &r)
				}
				if err != nil {
					b.Error(err)
					return
				}
				sessions[i] = sess{body, r.Session.AccessToken}
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		return
	}
	next.Store(0)
	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	defer benchcpu.PerOp(b)()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s := sessions[int(next.Add(1)-1)%len(sessions)]
			if w := e.do(e.h, http.MethodDelete, s.body, "AccessToken", s.access); w.Code != http.StatusOK {
				b.Errorf("expire: %d %s", w.Code, w.Body)
				return
			}
		}
	})
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
