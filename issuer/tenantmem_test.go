package issuer

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/password"
	"github.com/actas-dev/actas/sqlite"
	"github.com/actas-dev/actas/token"
)

// memTenants makes n RS256 tenants with one user each straight through
// the store, reusing one key pair (sealed anew per kid), as actas-bench
// tenants does, and a server on them.
type memTenants struct {
	srv     *Issuer
	tenants []*actas.Tenant
	keys    []string // API key secrets
}

func newMemTenants(t testing.TB, cfg Config, n int) *memTenants {
	t.Helper()
	ctx := t.Context()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "mem.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	mk, _ := token.ParseMasterKey(token.GenerateMasterKey())
	sealer, _ := token.NewSealer(mk)
	now := time.Now().UTC()
	gen, err := token.GenerateKey(sealer, "pool", actas.KeyUseID, actas.AlgRS256, now)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := sealer.Open(gen.PrivateEnc, []byte(gen.KID))
	if err != nil {
		t.Fatal(err)
	}
	hasher := password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 2, 10, time.Second)
	hash, err := hasher.Hash(ctx, "password-1")
	if err != nil {
		t.Fatal(err)
	}
	m := &memTenants{}
	settings := actas.DefaultTenantSettings()
	for j := range n {
		tn := &actas.Tenant{ID: actas.NewID(), Name: fmt.Sprintf("mem-%06d", j), UserPoolID: actas.NewUserPoolID("local"),
			ClientID: actas.NewClientID(), EndpointURL: "http://127.0.0.1/bench", Settings: settings, CreatedAt: now}
		var keys []*actas.SigningKey
		for _, use := range []string{actas.KeyUseID, actas.KeyUseAccess} {
			kid := token.NewKID()
			keys = append(keys, &actas.SigningKey{KID: kid, TenantID: tn.ID, Use: use, Alg: actas.AlgRS256, State: actas.KeyActive,
				PrivateEnc: sealer.Seal(pkcs8, []byte(kid)), PublicDER: gen.PublicDER, CreatedAt: now})
		}
		key, secret := NewAPIKey(tn.ID, "default", now)
		if err := db.CreateTenant(ctx, tn, key, keys); err != nil {
			t.Fatal(err)
		}
		if err := db.CreateUser(ctx, &actas.User{ID: actas.NewID(), TenantID: tn.ID, Username: "u", Email: "u@x.invalid",
			PasswordHash: hash, Status: actas.UserActive, CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		m.tenants, m.keys = append(m.tenants, tn), append(m.keys, secret)
	}
	cfg.Store, cfg.Sealer, cfg.Hasher, cfg.PublicURL = db, sealer, hasher, "http://x"
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	m.srv = New(cfg)
	if err := m.srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return m
}

// serve makes tenant j's requests of actas-bench many: JWKS, discovery,
// a sign-in and a refresh.
func (m *memTenants) serve(t testing.TB, j int) {
	ctx := t.Context()
	tn, err := m.srv.TenantByPoolID(ctx, m.tenants[j].UserPoolID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.srv.JWKSDocument(ctx, tn); err != nil {
		t.Fatal(err)
	}
	if _, err := m.srv.DiscoveryJSON(ctx, tn); err != nil {
		t.Fatal(err)
	}
	c, err := m.srv.Authenticate(ctx, m.keys[j])
	if err != nil {
		t.Fatal(err)
	}
	res, err := m.srv.SignIn(ctx, c, SignInRequest{Username: "u", Password: "password-1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.srv.Refresh(ctx, c, RefreshRequest{RefreshToken: res.RefreshToken, AccessToken: res.AccessToken}); err != nil {
		t.Fatal(err)
	}
}

func heapInUse() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestTenantMemory measures what the state of one served tenant costs in
// the heap: the tenant cache entry (tenant, API key, public keys, JWKS and
// discovery), and apart from it the bounded caches every request fills
// (unsealed private keys, verified tokens). ACTAS_TENANT_MEM=N sets the
// number of tenants (default 300 in -short, else 1000).
func TestTenantMemory(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 300
	}
	if s := os.Getenv("ACTAS_TENANT_MEM"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	m := newMemTenants(t, Config{TenantCache: n, SigningKeyCache: 2 * n}, n)
	m.serve(t, 0)
	before := heapInUse()
	for j := 1; j < n; j++ {
		m.serve(t, j)
	}
	all := heapInUse()
	if f := os.Getenv("ACTAS_TENANT_MEM_PROFILE"); f != "" {
		w, err := os.Create(f)
		if err != nil {
			t.Fatal(err)
		}
		pprof.Lookup("heap").WriteTo(w, 0)
		w.Close()
	}
	m.srv.seen = newSeenTokens(seenCapacity) // drop the verified tokens
	noSeen := heapInUse()
	m.srv.keys.mu.Lock()
	m.srv.keys.lru.Init()
	clear(m.srv.keys.byKID)
	m.srv.keys.mu.Unlock()
	noPriv := heapInUse()
	per := func(b uint64) float64 { return float64(b) / float64(n-1) }
	t.Logf("%d tenants served: %.0f B/tenant in all; verified tokens %.0f B/tenant; private keys %.0f B/tenant; tenant cache entry %.0f B/tenant",
		n, per(all-before), per(all-noSeen), per(noSeen-noPriv), per(noPriv-before))
	if m.srv.cache.lru.Len() != n {
		t.Fatalf("%d tenants cached, want %d", m.srv.cache.lru.Len(), n)
	}
	runtime.KeepAlive(m)
}

// TestDiscoveryJSONIsTheDocument: the discovery document made from the
// shared template is byte for byte the serialised DiscoveryDocument.
func TestDiscoveryJSONIsTheDocument(t *testing.T) {
	m := newMemTenants(t, Config{}, 2)
	for _, tn := range m.tenants {
		d, err := m.srv.DiscoveryDocument(t.Context(), tn)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(d)
		got, err := m.srv.DiscoveryJSON(t.Context(), tn)
		if err != nil {
			t.Fatal(err)
		}
		if string(got.Body) != string(want) {
			t.Fatalf("discovery document\n%s\nwant\n%s", got.Body, want)
		}
	}
}
