package issuer

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/password"
	"github.com/actas-dev/actas/sqlite"
	"github.com/actas-dev/actas/token"
)

// newSeenIssuer is an issuer on a temporary SQLite database with one
// tenant signing with alg and one user in it, signed in.
func newSeenIssuer(t *testing.T, alg string) (*Issuer, *Client, *Result) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	mk, _ := token.ParseMasterKey(token.GenerateMasterKey())
	sealer, _ := token.NewSealer(mk)
	iss := New(Config{Store: db, Sealer: sealer, PublicURL: "http://localhost",
		Now:    func() time.Time { return time.Now().Truncate(time.Second) },
		Hasher: password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 1, 1, time.Second)})
	_, key, err := iss.CreateTenant(ctx, CreateTenantRequest{Name: "acme", Settings: actas.TenantSettings{SigningAlg: alg}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := iss.CreateUser(ctx, CreateUserRequest{Tenant: "acme", Username: "ann", Password: "correct horse",
		Email: "ann@example.com", EmailVerified: true, Groups: []string{"admin", "editors"}}); err != nil {
		t.Fatal(err)
	}
	c, err := iss.Authenticate(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	res, err := iss.SignIn(ctx, c, SignInRequest{Username: "ann", Password: "correct horse", IP: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	return iss, c, res
}

// The claims recorded when minting must be exactly what parsing the token
// gives, or a cache hit would validate something other than the token.
func TestSeenClaimsEqualParsed(t *testing.T) {
	for _, alg := range []string{actas.AlgRS256, actas.AlgES256, actas.AlgEdDSA} {
		t.Run(alg, func(t *testing.T) {
			iss, c, res := newSeenIssuer(t, alg)
			ks, err := iss.keys.get(context.Background(), c.Tenant.ID, iss.now())
			if err != nil {
				t.Fatal(err)
			}
			for _, tc := range []struct{ raw, use string }{{res.IDToken, actas.KeyUseID}, {res.AccessToken, actas.KeyUseAccess}} {
				e, hit := iss.seen.get(tokenDigest(tc.raw), c.Tenant.ID)
				if !hit {
					t.Fatalf("%s token not recorded at minting", tc.use)
				}
				parsed, key, err := token.Parse(tc.raw, func(kid string) (*token.Key, bool) {
					k, ok := ks.key(kid)
					if !ok || k.Use != tc.use {
						return nil, false
					}
					return k, true
				})
				if err != nil {
					t.Fatal(err)
				}
				if key.KID != e.kid {
					t.Errorf("%s token: recorded kid %s, signed by %s", tc.use, e.kid, key.KID)
				}
				if !reflect.DeepEqual(parsed, e.claims) {
					t.Errorf("%s token: recorded claims\n%+v\nparsed\n%+v", tc.use, e.claims, parsed)
				}
				if _, hit := iss.seen.get(tokenDigest(tc.raw), "another-tenant"); hit {
					t.Error("a token recorded for one tenant was found for another")
				}
			}
		})
	}
}

// A recorded token is still refused when it is used as the wrong kind,
// when its key is withdrawn, and a token differing in one byte is no hit.
func TestSeenTokensRecheckTrust(t *testing.T) {
	ctx := context.Background()
	iss, c, res := newSeenIssuer(t, actas.AlgES256)
	now := iss.now()
	if _, err := iss.checkToken(ctx, c.Tenant, res.AccessToken, actas.KeyUseAccess, now, false, false); err != nil {
		t.Fatalf("fresh access token refused: %v", err)
	}
	if _, err := iss.checkToken(ctx, c.Tenant, res.AccessToken, actas.KeyUseID, now, false, false); err == nil {
		t.Fatal("an access token was accepted as an ID token")
	}
	// Flip one character of the signature: not a hit, and a bad signature.
	sig := strings.LastIndexByte(res.AccessToken, '.') + 5
	forged := res.AccessToken[:sig] + string(res.AccessToken[sig]^1) + res.AccessToken[sig+1:]
	if _, hit := iss.seen.get(tokenDigest(forged), c.Tenant.ID); hit {
		t.Fatal("a token one byte away from a recorded one was a hit")
	}
	if _, err := iss.checkToken(ctx, c.Tenant, forged, actas.KeyUseAccess, now, false, false); err == nil {
		t.Fatal("a token with a changed signature was accepted")
	}
	// Withdraw the access key: the recorded token must be refused at once.
	claims, err := iss.checkToken(ctx, c.Tenant, res.AccessToken, actas.KeyUseAccess, now, false, false)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := iss.seen.get(tokenDigest(res.AccessToken), c.Tenant.ID)
	if _, err := iss.WithdrawKey(ctx, e.kid, false); err != nil {
		t.Fatal(err)
	}
	if _, err := iss.checkToken(ctx, c.Tenant, res.AccessToken, actas.KeyUseAccess, iss.now(), true, true); err == nil {
		t.Fatalf("token of withdrawn key %s accepted (session %s)", e.kid, claims.OriginJti)
	}
	// The ID token's key was not withdrawn: still accepted.
	if _, err := iss.checkToken(ctx, c.Tenant, res.IDToken, actas.KeyUseID, iss.now(), false, false); err != nil {
		t.Fatalf("ID token refused after the access key was withdrawn: %v", err)
	}
}

func TestSeenTokensBounded(t *testing.T) {
	s := newSeenTokens(4)
	c := &token.Claims{Sub: "u"}
	first := tokenDigest("t0")
	s.put(first, "ten", "k", c)
	for i := 1; i < 20; i++ {
		s.put(tokenDigest("t"+string(rune('a'+i))), "ten", "k", c)
		// A live token, used between insertions, survives eviction.
		if _, ok := s.get(first, "ten"); !ok {
			t.Fatalf("live entry evicted after %d insertions", i)
		}
		if n := len(s.cur) + len(s.prev); n > 2*4 {
			t.Fatalf("%d entries held, capacity 2×4", n)
		}
	}
	if _, ok := s.get(tokenDigest("tb"), "ten"); ok {
		t.Fatal("an old, unused entry was never evicted")
	}
}
