package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/issuer"
	"github.com/actas-dev/actas/password"
	"github.com/actas-dev/actas/token"
)

// actas-bench tenants: many tenants at once, for tests and benchmarks of
// a server with many tenants (docs/performance.md, many tenants). It
// writes through the store, as `actas tenant create` does, but fast:
//
//   - Key material is generated once per -key-pool slot and reused, each
//     tenant's keys with their own kids and sealed anew under the master
//     key (the kid is the sealing's associated data), so 10,000 RS256
//     tenants do not cost 20,000 RSA key generations.
//   - Every tenant gets one user, "u", whose password is hashed once,
//     with cheap argon2id parameters (the hash carries its parameters, so
//     the server checks it as cheaply): sign-ins in a benchmark of many
//     tenants then measure the tenant, not argon2id.
//
// The tenants, with their API keys, are written to -out (JSON lines).

type benchTenant struct {
	Name       string `json:"name"`
	ID         string `json:"id"`
	UserPoolID string `json:"userPoolId"`
	ClientID   string `json:"clientId"`
	APIKey     string `json:"apiKey"`
	Username   string `json:"username"`
	Password   string `json:"password"`
}

func tenantsMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("actas-bench tenants", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		dbSpec   = fs.String("db", os.Getenv("ACTAS_DB"), "the server's --db (sqlite:PATH or postgres://…)")
		n        = fs.Int("n", 1000, "tenants to create")
		prefix   = fs.String("prefix", "many", "tenant names are PREFIX-000001 …")
		alg      = fs.String("alg", actas.AlgRS256, "signing algorithm")
		rotation = fs.Duration("rotation", 0, "key_rotation_period of every tenant (0: off)")
		pool     = fs.Int("key-pool", 8, "distinct key pairs to reuse across tenants")
		out      = fs.String("out", "", "write the tenants here, one JSON object a line (required)")
		workers  = fs.Int("workers", 2*runtime.NumCPU(), "tenants written at once")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 1 || *n > 1_000_000 {
		return errors.New("-n must be between 1 and 1e6")
	}
	if *out == "" {
		return errors.New("-out is required")
	}
	if *pool < 1 || *pool > 1000 {
		return errors.New("-key-pool must be between 1 and 1000")
	}
	t, err := parseTarget(*dbSpec)
	if err != nil {
		return err
	}
	mk, err := masterKey(t)
	if err != nil {
		return err
	}
	sealer, err := token.NewSealer(mk)
	if err != nil {
		return err
	}
	db, err := openStore(ctx, t)
	if err != nil {
		return err
	}
	defer db.Close()

	settings := actas.TenantSettings{SigningAlg: *alg, KeyRotationPeriod: actas.Duration(*rotation)}.WithDefaults()
	if err := settings.Validate(); err != nil {
		return err
	}
	now := time.Now().UTC()
	// The key pool: PKCS#8 private keys with their public halves.
	type material struct{ pkcs8, pub []byte }
	var keys []material
	for range *pool {
		k, err := token.GenerateKey(sealer, "pool", actas.KeyUseID, *alg, now)
		if err != nil {
			return err
		}
		der, err := sealer.Open(k.PrivateEnc, []byte(k.KID))
		if err != nil {
			return err
		}
		keys = append(keys, material{der, k.PublicDER})
	}
	pw := "pw-" + actas.RandomLower(20)
	cheap := password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	hash, err := password.NewHasher(cheap, 1, 1, time.Minute).Hash(ctx, pw)
	if err != nil {
		return err
	}

	f, err := os.OpenFile(*out, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	var (
		mu      sync.Mutex
		enc     = json.NewEncoder(f)
		first   error
		next    atomic.Int64
		wg      sync.WaitGroup
		created atomic.Int64
	)
	t0 := time.Now()
	for range max(1, *workers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1))
				if i > *n || ctx.Err() != nil {
					return
				}
				bt, err := createBenchTenant(ctx, db, sealer, fmt.Sprintf("%s-%06d", *prefix, i), settings, keys[i%len(keys)].pkcs8, keys[i%len(keys)].pub, hash, pw, now)
				mu.Lock()
				if err != nil {
					first = cmpErr(first, err)
				} else {
					err = enc.Encode(bt)
					first = cmpErr(first, err)
				}
				mu.Unlock()
				if err != nil {
					return
				}
				if c := created.Add(1); c%1000 == 0 {
					fmt.Fprintf(stderr, "%d tenants, %.0f/s\n", c, float64(c)/time.Since(t0).Seconds())
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	el := time.Since(t0)
	fmt.Fprintf(stdout, "created %d tenants in %s (%.0f tenants/s)\n", created.Load(), el.Round(time.Millisecond), float64(created.Load())/el.Seconds())
	return nil
}

func createBenchTenant(ctx context.Context, db actas.Store, sealer *token.Sealer, name string, settings actas.TenantSettings,
	pkcs8, pub []byte, hash, pw string, now time.Time) (*benchTenant, error) {
	t := &actas.Tenant{ID: actas.NewID(), Name: name, UserPoolID: actas.NewUserPoolID("local"), ClientID: actas.NewClientID(),
		EndpointURL: "http://127.0.0.1/bench", Settings: settings, CreatedAt: now}
	var keys []*actas.SigningKey
	for _, use := range []string{actas.KeyUseID, actas.KeyUseAccess} {
		kid := token.NewKID()
		keys = append(keys, &actas.SigningKey{KID: kid, TenantID: t.ID, Use: use, Alg: settings.SigningAlg, State: actas.KeyActive,
			PrivateEnc: sealer.Seal(pkcs8, []byte(kid)), PublicDER: pub, CreatedAt: now})
	}
	key, secret := issuer.NewAPIKey(t.ID, "default", now)
	if err := db.CreateTenant(ctx, t, key, keys); err != nil {
		return nil, fmt.Errorf("create tenant %s: %w", name, err)
	}
	u := &actas.User{ID: actas.NewID(), TenantID: t.ID, Username: "u", Email: "u@bench.invalid", EmailVerified: true,
		PasswordHash: hash, Status: actas.UserActive, CreatedAt: now, UpdatedAt: now}
	if err := db.CreateUser(ctx, u); err != nil {
		return nil, fmt.Errorf("create user of %s: %w", name, err)
	}
	return &benchTenant{Name: name, ID: t.ID, UserPoolID: t.UserPoolID, ClientID: t.ClientID, APIKey: secret, Username: "u", Password: pw}, nil
}
