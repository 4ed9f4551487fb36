package issuer_test

import (
	"context"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/internal/cputime/benchcpu"
	"github.com/actas-dev/actas/issuer"
	"github.com/actas-dev/actas/password"
	"github.com/actas-dev/actas/sqlite"
	"github.com/actas-dev/actas/token"
)

// Hot-path benchmarks at the issuer level, on a real SQLite store
// (synchronous=FULL) in a temporary directory. Each reports its cost as a
// ratio to the irreducible crypto measured in the same run
// (x-crypto: 1.0 would be signing and nothing else).

var cheap = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

type benchEnv struct {
	iss    *issuer.Issuer
	client *issuer.Client
	first  *issuer.Result
	db     *sqlite.DB
	sealer *token.Sealer
	key    string // the tenant's API key
}

func newBenchEnv(b *testing.B, alg string) *benchEnv { return newBenchEnvHash(b, alg, cheap) }

func newBenchEnvHash(b *testing.B, alg string, hp password.Params) *benchEnv {
	b.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	sealer, err := token.NewSealer(make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	iss := issuer.New(issuer.Config{Store: db, Sealer: sealer, Hasher: password.NewHasher(hp, 4, 1000, time.Minute),
		PublicURL: "http://127.0.0.1:8080"})
	if err := iss.Start(ctx); err != nil {
		b.Fatal(err)
	}
	_, key, err := iss.CreateTenant(ctx, issuer.CreateTenantRequest{Name: "bench", Settings: actas.TenantSettings{SigningAlg: alg}})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := iss.CreateUser(ctx, issuer.CreateUserRequest{Tenant: "bench", Username: "alice", Password: "correct horse battery",
		Email: "alice@example.com", EmailVerified: true}); err != nil {
		b.Fatal(err)
	}
	c, err := iss.Authenticate(ctx, key)
	if err != nil {
		b.Fatal(err)
	}
	res, err := iss.SignIn(ctx, c, issuer.SignInRequest{Username: "alice", Password: "correct horse battery", IP: "127.0.0.1"})
	if err != nil {
		b.Fatal(err)
	}
	return &benchEnv{iss: iss, client: c, first: res, db: db, sealer: sealer, key: key}
}

// signCost measures one signature with alg, as the issuer signs.
func signCost(b *testing.B, alg string) time.Duration {
	b.Helper()
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
	n := 0
	t0 := time.Now()
	for time.Since(t0) < 200*time.Millisecond {
		if _, err := k.Sign(c); err != nil {
			b.Fatal(err)
		}
		n++
	}
	return time.Since(t0) / time.Duration(n)
}

func reportVsCrypto(b *testing.B, start time.Time, crypto time.Duration) {
	per := time.Since(start) / time.Duration(b.N)
	b.ReportMetric(float64(crypto.Nanoseconds()), "crypto-ns/op")
	b.ReportMetric(float64(per)/float64(crypto), "x-crypto")
}

// BenchmarkRefresh is one refresh (no rotation): a refresh token lookup,
// the check of the access token sent along, a durable session update and
// the minting of an ID and an access token, serially.
func BenchmarkRefresh(b *testing.B) {
	for _, alg := range []string{actas.AlgRS256, actas.AlgES256} {
		b.Run(alg, func(b *testing.B) {
			e := newBenchEnv(b, alg)
			crypto := 2 * signCost(b, alg)
			req := issuer.RefreshRequest{RefreshToken: e.first.RefreshToken, AccessToken: e.first.AccessToken}
			b.ReportAllocs()
			b.ResetTimer()
			defer benchcpu.PerOp(b)()
			start := time.Now()
			for b.Loop() {
				if _, err := e.iss.Refresh(b.Context(), e.client, req); err != nil {
					b.Fatal(err)
				}
			}
			reportVsCrypto(b, start, crypto)
		})
	}
}

// BenchmarkRefreshParallel is many concurrent refreshes of different
// sessions: the durable writes share commits (sqlite group commit).
func BenchmarkRefreshParallel(b *testing.B) {
	for _, alg := range []string{actas.AlgRS256, actas.AlgES256} {
		b.Run(alg, func(b *testing.B) {
			e := newBenchEnv(b, alg)
			crypto := 2 * signCost(b, alg)
			var reqs []issuer.RefreshRequest
			for range 64 {
				r, err := e.iss.SignIn(b.Context(), e.client, issuer.SignInRequest{Username: "alice", Password: "correct horse battery", IP: "127.0.0.1"})
				if err != nil {
					b.Fatal(err)
				}
				reqs = append(reqs, issuer.RefreshRequest{RefreshToken: r.RefreshToken, AccessToken: r.AccessToken})
			}
			b.SetParallelism(8)
			b.ResetTimer()
			defer benchcpu.PerOp(b)()
			start := time.Now()
			var next atomicCounter
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := e.iss.Refresh(b.Context(), e.client, reqs[next.add()%len(reqs)]); err != nil {
						b.Error(err)
						return
					}
				}
			})
			// Wall time per op against the crypto of one core.
			reportVsCrypto(b, start, crypto)
		})
	}
}

// BenchmarkVerifyAccessToken is what a resource server pays per call:
// signature, claims and the revocation lookup.
func BenchmarkVerifyAccessToken(b *testing.B) {
	for _, alg := range []string{actas.AlgRS256, actas.AlgES256, actas.AlgEdDSA} {
		b.Run(alg, func(b *testing.B) {
			e := newBenchEnv(b, alg)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.iss.VerifyAccessToken(b.Context(), e.first.Tenant, e.first.AccessToken); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkExpire is one logout: the tokens of the body checked, the
// session and its descendants revoked durably, the answer read back.
func BenchmarkExpire(b *testing.B) {
	e := newBenchEnv(b, actas.AlgRS256)
	// Sessions to expire, made beforehand (sign-in with cheap hashing).
	sessions := make([]*issuer.Result, 0, 1024)
	for range cap(sessions) {
		r, err := e.iss.SignIn(b.Context(), e.client, issuer.SignInRequest{Username: "alice", Password: "correct horse battery", IP: "127.0.0.1"})
		if err != nil {
			b.Fatal(err)
		}
		sessions = append(sessions, r)
	}
	b.ReportAllocs()
	b.ResetTimer()
	defer benchcpu.PerOp(b)()
	i := 0
	for b.Loop() {
		r := sessions[i%len(sessions)] // past len: idempotent repeats
		i++
		if _, err := e.iss.Expire(b.Context(), e.client, issuer.ExpireRequest{HeaderAccessToken: r.AccessToken,
			AccessToken: r.AccessToken, IDToken: r.IDToken, RefreshToken: r.RefreshToken}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExpireParallel is the expire scenario of scripts/bench.sh: 32
// concurrent logouts of distinct sessions whose tokens this issuer has
// never seen (they were issued by another replica on the same database,
// as the bench tool signs its own), so each expire verifies two RS256
// signatures. Run it with a fixed count (-benchtime=2000x): it signs in
// b.N sessions first.
func BenchmarkExpireParallel(b *testing.B) {
	e := newBenchEnv(b, actas.AlgRS256)
	sessions := signInMany(b, e, b.N)
	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	defer benchcpu.PerOp(b)()
	var next atomicCounter
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := sessions[(next.add()-1)%len(sessions)]
			if _, err := e.iss.Expire(b.Context(), e.client, issuer.ExpireRequest{HeaderAccessToken: r.AccessToken,
				AccessToken: r.AccessToken, IDToken: r.IDToken, RefreshToken: r.RefreshToken}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// signInMany signs in n sessions of alice on another issuer of e's
// database (a second replica), concurrently, so that e.iss has seen none
// of their tokens.
func signInMany(b *testing.B, e *benchEnv, n int) []*issuer.Result {
	b.Helper()
	other := issuer.New(issuer.Config{Store: e.db, Sealer: e.sealer, Hasher: password.NewHasher(cheap, 4, 1000, time.Minute),
		PublicURL: "http://127.0.0.1:8080"})
	if err := other.Start(b.Context()); err != nil {
		b.Fatal(err)
	}
	c, err := other.Authenticate(b.Context(), e.key)
	if err != nil {
		b.Fatal(err)
	}
	out := make([]*issuer.Result, n)
	var (
		wg   sync.WaitGroup
		next atomicCounter
		fail atomic.Value
	)
	for range 16 {
		wg.Go(func() {
			for i := next.add() - 1; i < n; i = next.add() - 1 {
				r, err := other.SignIn(b.Context(), c, issuer.SignInRequest{Username: "alice", Password: "correct horse battery", IP: "127.0.0.1"})
				if err != nil {
					fail.Store(err)
					return
				}
				out[i] = r
			}
		})
	}
	wg.Wait()
	if err, _ := fail.Load().(error); err != nil {
		b.Fatal(err)
	}
	return out
}

// BenchmarkSignIn is one sign-in with the real argon2id parameters
// (OWASP: m=19 MiB, t=2, p=1): the password check, two signatures and a
// durable session insert with its audit event, serially. x-crypto is the
// cost over one argon2id verification plus two signatures measured in the
// same run.
func BenchmarkSignIn(b *testing.B) {
	e := newBenchEnvHash(b, actas.AlgRS256, password.OWASP)
	phc := password.Hash("correct horse battery", password.OWASP)
	t0 := time.Now()
	const hashes = 5
	for range hashes {
		if ok, _ := password.Verify(phc, "correct horse battery"); !ok {
			b.Fatal("verify failed")
		}
	}
	hash := time.Since(t0) / hashes
	crypto := hash + 2*signCost(b, actas.AlgRS256)
	b.ReportMetric(float64(hash.Nanoseconds()), "argon2id-ns")
	req := issuer.SignInRequest{Username: "alice", Password: "correct horse battery", IP: "127.0.0.1"}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		if _, err := e.iss.SignIn(b.Context(), e.client, req); err != nil {
			b.Fatal(err)
		}
	}
	reportVsCrypto(b, start, crypto)
}

// BenchmarkSignInParallel is BenchmarkSignIn from every core at once, one
// user from one address: the pattern of a service account whose workers
// sign in together, which the old throttle refused with 429. x-crypto
// per core: the wall time per sign-in times the cores, over one argon2id
// verification plus two signatures measured in the same run (the hash
// bound; 1.0 would be the throttle, store and issuer costing nothing);
// x-parallel-crypto-per-core is the same over a hash measured while every
// core hashes, as the sign-ins do.
func BenchmarkSignInParallel(b *testing.B) {
	e := newBenchEnvHash(b, actas.AlgRS256, password.OWASP)
	phc := password.Hash("correct horse battery", password.OWASP)
	t0 := time.Now()
	for range 3 {
		_, _ = password.Verify(phc, "correct horse battery")
	}
	sign := 2 * signCost(b, actas.AlgRS256)
	crypto := time.Since(t0)/3 + sign
	// The bound as the cores see it when all hash at once (memory
	// bandwidth is shared): a hash per core, every core at once.
	procs := runtime.GOMAXPROCS(0)
	t0 = time.Now()
	var wg sync.WaitGroup
	for range procs {
		wg.Go(func() {
			for range 3 {
				_, _ = password.Verify(phc, "correct horse battery")
			}
		})
	}
	wg.Wait()
	cryptoParallel := time.Since(t0)/3 + sign
	req := issuer.SignInRequest{Username: "alice", Password: "correct horse battery", IP: "127.0.0.1"}
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.iss.SignIn(context.Background(), e.client, req); err != nil {
				b.Error(err)
				return
			}
		}
	})
	per := time.Since(start) * time.Duration(procs) / time.Duration(b.N)
	b.ReportMetric(float64(crypto.Nanoseconds()), "crypto-ns/op")
	b.ReportMetric(float64(per)/float64(crypto), "x-crypto-per-core")
	b.ReportMetric(float64(per)/float64(cryptoParallel), "x-parallel-crypto-per-core")
}
