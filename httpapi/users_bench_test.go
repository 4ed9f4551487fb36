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
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/httpapi"
	"github.com/actas-dev/actas/issuer"
	"github.com/actas-dev/actas/password"
	"github.com/actas-dev/actas/sqlite"
	"github.com/actas-dev/actas/token"
)

// usersBench is a real SQLite store, an issuer and the handler, with a
// tenant "bench", an administrator and its sign-in headers.
type usersBench struct {
	iss     *issuer.Issuer
	db      *sqlite.DB
	h       http.Handler
	key     string
	headers []string
}

func newUsersBench(b *testing.B) *usersBench {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	sealer, _ := token.NewSealer(make([]byte, 32))
	cheap := password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	iss := issuer.New(issuer.Config{Store: db, Sealer: sealer, Hasher: password.NewHasher(cheap, 4, 100, time.Minute),
		PublicURL: "http://127.0.0.1:8080", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := iss.Start(ctx); err != nil {
		b.Fatal(err)
	}
	_, key, err := iss.CreateTenant(ctx, issuer.CreateTenantRequest{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := iss.CreateUser(ctx, issuer.CreateUserRequest{Tenant: "bench", Username: "root", Password: "correct horse battery",
		Groups: []string{actas.GroupAdmin}}); err != nil {
		b.Fatal(err)
	}
	ub := &usersBench{iss: iss, db: db, key: key,
		h: (&httpapi.Server{Issuer: iss, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}).Handler()}
	w := ub.do("POST", "/auth/token", []byte(`{"username":"root","password":"correct horse battery"}`))
	var res struct {
		Session struct{ Authorization, AccessToken string }
	}
	if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil || w.Code != 200 {
		b.Fatalf("sign in: %d %s", w.Code, w.Body)
	}
	ub.headers = []string{"Authorization", res.Session.Authorization, "AccessToken", res.Session.AccessToken}
	return ub
}

func (ub *usersBench) do(method, path string, body []byte, headers ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, bytes.NewReader(body))
	r.Header.Set("X-API-Key", ub.key)
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	r.RemoteAddr = "127.0.0.1:40000"
	w := httptest.NewRecorder()
	ub.h.ServeHTTP(w, r)
	return w
}

// BenchmarkGetUser is GET /user with a valid token pair, through the
// handler. x-verify is its time over one RS256 verification measured in
// the same run: the issue asks for at least half the RS256-verify bound
// per core, that is x-verify ≤ 2.
func BenchmarkGetUser(b *testing.B) {
	ub := newUsersBench(b)
	verify := verifyOnce(b)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		if w := ub.do("GET", "/user", nil, ub.headers...); w.Code != http.StatusOK {
			b.Fatalf("GET /user: %d %s", w.Code, w.Body)
		}
	}
	per := time.Since(start) / time.Duration(b.N)
	b.ReportMetric(float64(verify.Nanoseconds()), "verify-ns/op")
	b.ReportMetric(float64(per)/float64(verify), "x-verify")
}

func verifyOnce(b *testing.B) time.Duration {
	sealer, _ := token.NewSealer(make([]byte, 32))
	now := time.Now()
	sk, err := token.GenerateKey(sealer, "t", actas.KeyUseAccess, actas.AlgRS256, now)
	if err != nil {
		b.Fatal(err)
	}
	k, err := token.LoadKey(sealer, sk)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := k.Sign(&token.Claims{Sub: actas.NewID(), TokenUse: "access", Iss: "i", Exp: now.Add(time.Hour).Unix(), Iat: now.Unix(), Jti: actas.NewID()})
	if err != nil {
		b.Fatal(err)
	}
	lookup := func(string) (*token.Key, bool) { return k, true }
	n := 0
	t0 := time.Now()
	for time.Since(t0) < 200*time.Millisecond {
		if _, _, err := token.Parse(raw, lookup); err != nil {
			b.Fatal(err)
		}
		n++
	}
	return time.Since(t0) / time.Duration(n)
}

// BenchmarkSearchUsers is GET /user/search/{text} at 1,000 and 100,000
// users in the tenant (10 matches each time). p99-ratio, on the large
// tenant, is its p99 over the small tenant's p99 measured in the same run:
// the issue asks for at most 1.5.
func BenchmarkSearchUsers(b *testing.B) {
	var p99small time.Duration
	for _, n := range []int{1000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			ub := newUsersBench(b)
			ctx := context.Background()
			t, err := ub.db.TenantByName(ctx, "bench")
			if err != nil {
				b.Fatal(err)
			}
			// Concurrent inserts share commits (the store's group commit).
			var wg sync.WaitGroup
			errs := make(chan error, 1)
			for w := range 64 {
				wg.Go(func() {
					for i := w; i < n; i += 64 {
						name := fmt.Sprintf("user%06d", i)
						if i%(n/10) == 0 {
							name = fmt.Sprintf("target%02d", i/(n/10))
						}
						now := time.Now()
						u := &actas.User{ID: actas.NewID(), TenantID: t.ID, Username: name, Email: name + "@example.com",
							FirstName: "First" + name, LastName: "Last" + name, PasswordHash: "x", Status: actas.UserActive,
							CreatedAt: now, UpdatedAt: now}
						if err := ub.db.CreateUser(ctx, u); err != nil {
							select {
							case errs <- err:
							default:
							}
							return
						}
					}
				})
			}
			wg.Wait()
			select {
			case err := <-errs:
				b.Fatal(err)
			default:
			}
			var lat []time.Duration
			b.ResetTimer()
			for b.Loop() {
				t0 := time.Now()
				w := ub.do("GET", "/user/search/targ?limit=100", nil, ub.headers...)
				lat = append(lat, time.Since(t0))
				if w.Code != http.StatusOK || bytes.Count(w.Body.Bytes(), []byte(`"userId"`)) != 10 {
					b.Fatalf("search: %d %.200s", w.Code, w.Body)
				}
			}
			slices.Sort(lat)
			p99 := lat[len(lat)*99/100]
			b.ReportMetric(float64(p99.Microseconds()), "p99-µs")
			if n == 1000 {
				p99small = p99
			} else if p99small > 0 {
				b.ReportMetric(float64(p99)/float64(p99small), "p99-ratio")
			}
		})
	}
}
