package issuer

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/password"
	"github.com/actas-dev/actas/sqlite"
	"github.com/actas-dev/actas/token"
)

// tenantReads counts, per tenant, the store reads of what the tenant
// cache holds (tenant rows, API keys, signing keys), and can make one
// tenant's signing keys fail to read.
type tenantReads struct {
	actas.Store
	mu       sync.Mutex
	reads    map[string]int    // tenant id -> reads
	keyOwner map[string]string // API key id -> tenant id
	failKeys string            // tenant id whose SigningKeys fails
	pages    int               // TenantsAfter calls
	pruned   bool              // ConfigChanges answers as if the oldest change had left the log
	block    chan struct{}     // if set, TenantsAfter waits for it to close
}

func (s *tenantReads) ConfigChanges(ctx context.Context, after int64, limit int) ([]actas.ConfigChange, error) {
	list, err := s.Store.ConfigChanges(ctx, after, limit)
	if s.pruned && len(list) > 0 {
		list = list[1:]
	}
	return list, err
}

func (s *tenantReads) count(tenantID string) {
	s.mu.Lock()
	s.reads[tenantID]++
	s.mu.Unlock()
}

func (s *tenantReads) of(tenantID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads[tenantID]
}

func (s *tenantReads) reset() {
	s.mu.Lock()
	clear(s.reads)
	s.pages = 0
	s.mu.Unlock()
}

func (s *tenantReads) Tenant(ctx context.Context, id string) (*actas.Tenant, error) {
	s.count(id)
	return s.Store.Tenant(ctx, id)
}

func (s *tenantReads) TenantByPoolID(ctx context.Context, poolID string) (*actas.Tenant, []*actas.SigningKey, error) {
	t, keys, err := s.Store.TenantByPoolID(ctx, poolID)
	if err == nil {
		s.count(t.ID)
	}
	return t, keys, err
}

func (s *tenantReads) APIKey(ctx context.Context, id string) (*actas.APIKey, error) {
	k, err := s.Store.APIKey(ctx, id)
	if err == nil {
		s.count(k.TenantID)
	}
	return k, err
}

func (s *tenantReads) SigningKeys(ctx context.Context, tenantID string) ([]*actas.SigningKey, error) {
	s.count(tenantID)
	s.mu.Lock()
	fail := s.failKeys == tenantID
	s.mu.Unlock()
	if fail {
		return nil, errors.New("injected failure")
	}
	return s.Store.SigningKeys(ctx, tenantID)
}

func (s *tenantReads) TenantsAfter(ctx context.Context, afterID string, limit int) ([]*actas.Tenant, error) {
	s.mu.Lock()
	s.pages++
	block := s.block
	s.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return s.Store.TenantsAfter(ctx, afterID, limit)
}

type manyTenants struct {
	db     *sqlite.DB
	reads  *tenantReads
	srv    *Issuer // a server, on the counting store
	admin  *Issuer // another process on the same database (the CLI)
	clock  *ringClock
	keys   map[string]string // tenant name -> API key
	tenant map[string]*actas.Tenant
}

func newManyTenants(t *testing.T, cfg Config, names ...string) *manyTenants {
	t.Helper()
	ctx := t.Context()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "many.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	mk, _ := token.ParseMasterKey(token.GenerateMasterKey())
	sealer, _ := token.NewSealer(mk)
	clk := &ringClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	hasher := password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 2, 10, time.Second)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reads := &tenantReads{Store: db, reads: map[string]int{}, keyOwner: map[string]string{}}
	cfg.Store, cfg.Sealer, cfg.Hasher, cfg.Now, cfg.PublicURL, cfg.Logger = reads, sealer, hasher, clk.Now, "http://x", log
	m := &manyTenants{db: db, reads: reads, srv: New(cfg), clock: clk, keys: map[string]string{}, tenant: map[string]*actas.Tenant{},
		admin: New(Config{Store: db, Sealer: sealer, Hasher: hasher, Now: clk.Now, PublicURL: "http://x", Logger: log})}
	for _, n := range names {
		tn, key, err := m.admin.CreateTenant(ctx, CreateTenantRequest{Name: n, Settings: actas.TenantSettings{SigningAlg: actas.AlgES256}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.admin.CreateUser(ctx, CreateUserRequest{Tenant: n, Username: "u", Password: "password-1"}); err != nil {
			t.Fatal(err)
		}
		m.keys[n], m.tenant[n] = key, tn
	}
	if err := m.srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return m
}

// serve makes the requests a client and a verifier of tenant name make:
// authenticate, sign in, refresh, discovery and JWKS.
// setRotationPeriod sets the automatic key rotation period of tenant name.
func (m *manyTenants) setRotationPeriod(t *testing.T, name string, d time.Duration) {
	t.Helper()
	if _, err := m.admin.SetTenant(t.Context(), name, func(t *actas.Tenant) error {
		t.Settings.KeyRotationPeriod = actas.Duration(d)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func (m *manyTenants) serve(t *testing.T, name string) {
	t.Helper()
	ctx := t.Context()
	c, err := m.srv.Authenticate(ctx, m.keys[name])
	if err != nil {
		t.Fatal(err)
	}
	res, err := m.srv.SignIn(ctx, c, SignInRequest{Username: "u", Password: "password-1"})
	if err != nil {
		t.Fatal(err)
	}
	if c, err = m.srv.Authenticate(ctx, m.keys[name]); err != nil {
		t.Fatal(err)
	}
	if _, err := m.srv.Refresh(ctx, c, RefreshRequest{RefreshToken: res.RefreshToken}); err != nil {
		t.Fatal(err)
	}
	tn, err := m.srv.TenantByPoolID(ctx, m.tenant[name].UserPoolID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.srv.DiscoveryJSON(ctx, tn); err != nil {
		t.Fatal(err)
	}
	if _, err := m.srv.JWKSDocument(ctx, tn); err != nil {
		t.Fatal(err)
	}
}

// TestChangeToOneTenantReloadsNoOther: after tenant A's settings, API
// keys and signing keys change in another process, tenant B's next
// requests read nothing of B from the store, while A's see the change.
func TestChangeToOneTenantReloadsNoOther(t *testing.T) {
	ctx := t.Context()
	m := newManyTenants(t, Config{}, "a", "b")
	m.serve(t, "a")
	m.serve(t, "b")

	if _, err := m.admin.SetTenant(ctx, "a", func(t *actas.Tenant) error { t.EndpointURL = "https://a.example"; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := m.admin.RotateKeys(ctx, "a", 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.admin.CreateAPIKey(ctx, "a", "second"); err != nil {
		t.Fatal(err)
	}
	m.reads.reset()
	m.serve(t, "b")
	if n := m.reads.of(m.tenant["b"].ID); n != 0 {
		t.Errorf("tenant b's requests read b's tenant, API key or signing keys %d times after a change to a; want 0", n)
	}
	m.serve(t, "a")
	if n := m.reads.of(m.tenant["a"].ID); n == 0 {
		t.Error("tenant a's requests read nothing after a changed: they use stale data")
	}
	c, err := m.srv.Authenticate(ctx, m.keys["a"])
	if err != nil {
		t.Fatal(err)
	}
	if c.Tenant.EndpointURL != "https://a.example" {
		t.Errorf("a's endpoint is %q after the change", c.Tenant.EndpointURL)
	}
	// Revoking a's API key in the other process takes effect at once here.
	id := m.keys["a"][len("actas_") : len("actas_")+apiKeyIDLen]
	if err := m.admin.RevokeAPIKey(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := m.srv.Authenticate(ctx, m.keys["a"]); actas.ErrorCode(err) != actas.EFORBIDDEN {
		t.Errorf("a revoked API key still authenticates: %v", err)
	}
	m.reads.reset()
	m.serve(t, "b")
	if n := m.reads.of(m.tenant["b"].ID); n != 0 {
		t.Errorf("b read its rows %d times after a's API key was revoked; want 0", n)
	}
}

// TestChangeLogGapDropsEverything: a replica further behind than the
// change log holds cannot tell which tenants changed, so it reloads all.
func TestChangeLogGapDropsEverything(t *testing.T) {
	m := newManyTenants(t, Config{}, "a", "b")
	m.serve(t, "b")
	m.reads.pruned = true // as if it had slept through more changes than the log keeps
	if _, err := m.admin.SetTenant(t.Context(), "a", func(t *actas.Tenant) error { t.EndpointURL = "https://a.example"; return nil }); err != nil {
		t.Fatal(err)
	}
	m.reads.reset()
	m.serve(t, "b")
	if m.reads.of(m.tenant["b"].ID) == 0 {
		t.Error("a replica behind the change log's window kept b's entries: it cannot know they are current")
	}
}

// TestTenantCacheBounded: the cache holds at most its size of tenants,
// least recently used evicted, and an evicted tenant is read again.
func TestTenantCacheBounded(t *testing.T) {
	m := newManyTenants(t, Config{TenantCache: 2, SigningKeyCache: 2}, "a", "b", "c")
	for _, n := range []string{"a", "b", "c"} {
		m.serve(t, n)
	}
	if n := m.srv.cache.lru.Len(); n != 2 {
		t.Errorf("tenant cache holds %d tenants, size 2", n)
	}
	if n := m.srv.keys.lru.Len(); n != 2 {
		t.Errorf("private key cache holds %d keys, size 2", n)
	}
	if n := len(m.srv.cache.byPool); n > 2 {
		t.Errorf("pool index holds %d entries for 2 cached tenants", n)
	}
	m.reads.reset()
	m.serve(t, "c") // the most recent: cached
	if n := m.reads.of(m.tenant["c"].ID); n != 0 {
		t.Errorf("the most recently used tenant read its rows %d times", n)
	}
	m.serve(t, "a") // evicted
	if m.reads.of(m.tenant["a"].ID) == 0 {
		t.Error("an evicted tenant was served without reading it again")
	}
}

// publicDocs makes the requests of a verifier of tenant name: the tenant
// by its userPoolId, its JWKS and its discovery document. It returns the
// tenant and the JWKS.
func (m *manyTenants) publicDocs(t *testing.T, name string) (*actas.Tenant, *Document) {
	t.Helper()
	ctx := t.Context()
	tn, err := m.srv.TenantByPoolID(ctx, m.tenant[name].UserPoolID)
	if err != nil {
		t.Fatal(err)
	}
	d, err := m.srv.JWKSDocument(ctx, tn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.srv.DiscoveryJSON(ctx, tn); err != nil {
		t.Fatal(err)
	}
	return tn, d
}

// TestColdTenantPublicEndpointsReadOnce: a tenant's first JWKS and
// discovery read its tenant and its keys in one store read
// (TenantByPoolID), and no private key.
func TestColdTenantPublicEndpointsReadOnce(t *testing.T) {
	m := newManyTenants(t, Config{}, "a")
	m.reads.reset()
	tn, d := m.publicDocs(t, "a")
	if n := m.reads.of(tn.ID); n != 1 {
		t.Errorf("a cold tenant's JWKS and discovery made %d store reads of its rows, want 1", n)
	}
	if got := strings.Count(string(d.Body), `"kid"`); got != 2 {
		t.Errorf("JWKS %s: %d keys, want the ID and access keys", d.Body, got)
	}
	// The keys it read serve signing too: only the private halves are read.
	m.reads.reset()
	m.serve(t, "a")
	if n := m.reads.of(tn.ID); n != 3 { // the API key, and the private halves of the two keys a sign-in signs with
		t.Errorf("first sign-in after JWKS read the tenant's rows %d times, want 3", n)
	}
}

// TestPrivateKeysUnsealedOnFirstSign: JWKS and discovery need only
// public keys; a tenant's private keys are unsealed when it first signs.
func TestPrivateKeysUnsealedOnFirstSign(t *testing.T) {
	ctx := t.Context()
	m := newManyTenants(t, Config{}, "a")
	tn, d1 := m.publicDocs(t, "a")
	if n := m.srv.keys.lru.Len(); n != 0 {
		t.Fatalf("%d private keys unsealed to serve JWKS and discovery", n)
	}
	d2, err := m.srv.JWKSDocument(ctx, tn)
	if err != nil {
		t.Fatal(err)
	}
	if &d1.Body[0] != &d2.Body[0] || d1.ETag != d2.ETag || !strings.HasPrefix(d1.ETag, `"`) {
		t.Error("JWKS serialised again for an unchanged key set")
	}
	m.serve(t, "a")
	if n := m.srv.keys.lru.Len(); n != 2 {
		t.Fatalf("%d private keys unsealed after signing, want the ID and access keys", n)
	}
	// A rotation changes the document and its validator.
	if _, err := m.admin.RotateKeys(ctx, "a", time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := m.srv.Authenticate(ctx, m.keys["a"]); err != nil {
		t.Fatal(err)
	}
	d3, err := m.srv.JWKSDocument(ctx, tn)
	if err != nil {
		t.Fatal(err)
	}
	if d3.ETag == d1.ETag || strings.Count(string(d3.Body), `"kid"`) != 4 {
		t.Errorf("after a rotation JWKS is %s (ETag %s, was %s), want 4 keys and a new ETag", d3.Body, d3.ETag, d1.ETag)
	}
	// Once the retired keys leave JWKS, the cached document goes stale by itself.
	m.clock.Add(2*time.Hour + actas.DefaultAccessTTL)
	d4, err := m.srv.JWKSDocument(ctx, tn)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(d4.Body), `"kid"`); n != 2 {
		t.Errorf("JWKS after the retired keys' time has %d keys, want 2", n)
	}
}

// TestAutomaticRotationNoneDue: with rotation on for every tenant and
// none due, a pass writes nothing, and later passes do not read the
// tenants' keys again until they can be due.
func TestAutomaticRotationNoneDue(t *testing.T) {
	ctx := t.Context()
	names := []string{"a", "b", "c", "d"}
	m := newManyTenants(t, Config{}, names...)
	for _, n := range names {
		m.setRotationPeriod(t, n, 24*time.Hour)
	}
	v0, _ := m.db.ConfigVersion(ctx)
	m.reads.reset()
	if n, err := m.srv.RotateDueKeys(ctx); n != 0 || err != nil {
		t.Fatalf("first pass rotated %d: %v", n, err)
	}
	if v, _ := m.db.ConfigVersion(ctx); v != v0 {
		t.Errorf("a pass with no rotation due wrote %d configuration changes", v-v0)
	}
	for _, n := range names {
		if r := m.reads.of(m.tenant[n].ID); r != 1 {
			t.Errorf("first pass read tenant %s's keys %d times, want 1", n, r)
		}
	}
	m.reads.reset()
	m.clock.Add(time.Hour)
	if n, err := m.srv.RotateDueKeys(ctx); n != 0 || err != nil {
		t.Fatalf("second pass rotated %d: %v", n, err)
	}
	for _, n := range names {
		if r := m.reads.of(m.tenant[n].ID); r != 0 {
			t.Errorf("second pass, hours before any can be due, read tenant %s's keys %d times", n, r)
		}
	}
	if m.reads.pages != 1 {
		t.Errorf("a pass over 4 tenants read %d pages", m.reads.pages)
	}
	// Once due, each is rotated exactly once.
	m.clock.Add(24 * time.Hour)
	if n, err := m.srv.RotateDueKeys(ctx); n != len(names) || err != nil {
		t.Fatalf("rotated %d of %d due tenants: %v", n, len(names), err)
	}
	if n, err := m.srv.RotateDueKeys(ctx); n != 0 || err != nil {
		t.Fatalf("rotated %d again while rotations were pending: %v", n, err)
	}
}

// TestAutomaticRotationGoesOnPastAFailure: one tenant whose keys cannot
// be read is reported, by name, and the others are rotated.
func TestAutomaticRotationGoesOnPastAFailure(t *testing.T) {
	ctx := t.Context()
	names := []string{"a", "b", "c"}
	m := newManyTenants(t, Config{}, names...)
	for _, n := range names {
		m.setRotationPeriod(t, n, 24*time.Hour)
	}
	m.clock.Add(25 * time.Hour)
	// The failing tenant is whichever comes first by id.
	first := m.tenant["a"]
	for _, n := range names {
		if m.tenant[n].ID < first.ID {
			first = m.tenant[n]
		}
	}
	m.reads.failKeys = first.ID
	n, err := m.srv.RotateDueKeys(ctx)
	if n != 2 {
		t.Errorf("rotated %d tenants, want the 2 that did not fail", n)
	}
	if err == nil || !strings.Contains(err.Error(), "tenant "+first.Name) {
		t.Errorf("error %v does not name the failing tenant %s", err, first.Name)
	}
}

// TestAutomaticRotationBoundedPerTick: a background tick rotates at most
// rotateMaxPerTick tenants, leaving the rest for the next ticks.
func TestAutomaticRotationBoundedPerTick(t *testing.T) {
	ctx := t.Context()
	names := []string{"a", "b", "c", "d", "e"}
	m := newManyTenants(t, Config{}, names...)
	for _, n := range names {
		m.setRotationPeriod(t, n, 24*time.Hour)
	}
	m.clock.Add(25 * time.Hour)
	total := 0
	for tick := 0; ; tick++ {
		n, done, err := m.srv.rotateStep(ctx, rotateMaxPerTick)
		if err != nil {
			t.Fatal(err)
		}
		if n > rotateMaxPerTick {
			t.Fatalf("one tick rotated %d tenants, bound %d", n, rotateMaxPerTick)
		}
		total += n
		if done {
			break
		}
		if tick > 10 {
			t.Fatal("the pass never completes")
		}
	}
	if total != len(names) {
		t.Errorf("a pass of bounded ticks rotated %d of %d due tenants", total, len(names))
	}
}

// TestRotationNeverDelaysRevocationSync: while the automatic rotation is
// stuck (here: its tenant listing never answers), revocations made by
// another process still reach this one at the sync's pace.
func TestRotationNeverDelaysRevocationSync(t *testing.T) {
	old := rotateTick
	rotateTick = time.Millisecond
	t.Cleanup(func() { rotateTick = old })
	ctx := t.Context()
	m := newManyTenants(t, Config{}, "a")
	block := make(chan struct{})
	defer close(block)
	m.reads.mu.Lock()
	m.reads.block = block
	m.reads.mu.Unlock()
	bg, stop := context.WithCancel(ctx)
	defer stop()
	go m.srv.Maintain(bg, 5*time.Millisecond, time.Hour)
	deadline := time.Now().Add(5 * time.Second)
	for { // the rotation is stuck in its listing
		m.reads.mu.Lock()
		p := m.reads.pages
		m.reads.mu.Unlock()
		if p > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the automatic rotation never started")
		}
		time.Sleep(time.Millisecond)
	}
	c, err := m.admin.Authenticate(ctx, m.keys["a"])
	if err != nil {
		t.Fatal(err)
	}
	res, err := m.admin.SignIn(ctx, c, SignInRequest{Username: "u", Password: "password-1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.admin.RevokeSession(ctx, res.Session.ID); err != nil {
		t.Fatal(err)
	}
	for !m.srv.revoked.Revoked(res.Session.ID) {
		if time.Now().After(deadline) {
			t.Fatal("a revocation made elsewhere was not synced while the rotation was stuck")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestAutomaticRotationQuietUntilDueOrChanged: after a complete pass with
// none due, the background loop skips its passes (no page of tenants
// read) until a change is made in the store or the first tenant can be
// due.
func TestAutomaticRotationQuietUntilDueOrChanged(t *testing.T) {
	ctx := t.Context()
	names := []string{"a", "b"}
	m := newManyTenants(t, Config{}, names...)
	for _, n := range names {
		m.setRotationPeriod(t, n, 24*time.Hour)
	}
	if m.srv.rotationQuiet(ctx, m.clock.Now()) {
		t.Fatal("quiet before any pass")
	}
	if n, err := m.srv.RotateDueKeys(ctx); n != 0 || err != nil {
		t.Fatalf("first pass rotated %d: %v", n, err)
	}
	m.reads.reset()
	m.clock.Add(time.Hour)
	if !m.srv.rotationQuiet(ctx, m.clock.Now()) {
		t.Fatal("not quiet after a pass with none due and no change")
	}
	if m.reads.pages != 0 {
		t.Errorf("the quiet check read %d pages of tenants", m.reads.pages)
	}
	// Past the first due time: a pass is needed.
	if m.srv.rotationQuiet(ctx, m.clock.Now().Add(24*time.Hour)) {
		t.Error("quiet although a tenant can be due")
	}
	// A change anywhere (here a setting of tenant b) ends the quiet.
	m.setRotationPeriod(t, "b", 48*time.Hour)
	if m.srv.rotationQuiet(ctx, m.clock.Now()) {
		t.Fatal("quiet although a tenant's settings changed since the pass")
	}
	if n, err := m.srv.RotateDueKeys(ctx); n != 0 || err != nil {
		t.Fatalf("the pass after the change rotated %d: %v", n, err)
	}
	if !m.srv.rotationQuiet(ctx, m.clock.Now()) {
		t.Error("not quiet after the pass that saw the change")
	}
}
