package issuer_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/issuer"
	"github.com/actas-dev/actas/password"
	"github.com/actas-dev/actas/sqlite"
	"github.com/actas-dev/actas/token"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newTestIssuer(t *testing.T) (*issuer.Issuer, *testClock) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	mk, _ := token.ParseMasterKey(token.GenerateMasterKey())
	sealer, _ := token.NewSealer(mk)
	clk := &testClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	return issuer.New(issuer.Config{
		Store: db, Sealer: sealer, Now: clk.Now, PublicURL: "http://localhost",
		Hasher: password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 1, 1, time.Second),
	}), clk
}

func TestAutomaticKeyRotation(t *testing.T) {
	ctx := context.Background()
	iss, clk := newTestIssuer(t)
	ten, _, err := iss.CreateTenant(ctx, issuer.CreateTenantRequest{Name: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := iss.CreateTenant(ctx, issuer.CreateTenantRequest{Name: "quiet"}); err != nil {
		t.Fatal(err)
	}
	if _, err := iss.SetTenant(ctx, "acme", func(t *actas.Tenant) error {
		t.Settings.KeyRotationPeriod = actas.Duration(7 * 24 * time.Hour)
		t.Settings.KeyRotationDelay = actas.Duration(10 * time.Minute)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		keys, err := iss.Store().SigningKeys(ctx, ten.ID)
		if err != nil {
			t.Fatal(err)
		}
		return len(keys)
	}
	if n, err := iss.RotateDueKeys(ctx); err != nil || n != 0 {
		t.Fatalf("rotated %d tenants before the period: %v", n, err)
	}
	clk.Add(7*24*time.Hour + time.Minute)
	if n, err := iss.RotateDueKeys(ctx); err != nil || n != 1 {
		t.Fatalf("after the period: rotated %d, %v; want exactly acme", n, err)
	}
	if got := count(); got != 4 {
		t.Fatalf("%d keys after one rotation, want 4", got)
	}
	// While the new keys wait to activate, nothing more happens.
	clk.Add(time.Minute)
	if n, _ := iss.RotateDueKeys(ctx); n != 0 {
		t.Fatal("rotated again while a rotation was pending")
	}
	// Once they sign, the period starts again from their activation.
	clk.Add(7 * 24 * time.Hour)
	if n, _ := iss.RotateDueKeys(ctx); n != 0 {
		t.Fatal("rotated before a full period after the last activation")
	}
	clk.Add(15 * time.Minute)
	if n, _ := iss.RotateDueKeys(ctx); n != 1 {
		t.Fatal("second rotation not done")
	}
}

func TestKeyRotationSettingsValidated(t *testing.T) {
	ctx := context.Background()
	iss, _ := newTestIssuer(t)
	if _, _, err := iss.CreateTenant(ctx, issuer.CreateTenantRequest{Name: "acme"}); err != nil {
		t.Fatal(err)
	}
	_, err := iss.SetTenant(ctx, "acme", func(t *actas.Tenant) error {
		t.Settings.KeyRotationPeriod = actas.Duration(time.Hour)
		return nil
	})
	if actas.ErrorCode(err) != actas.EINVALID {
		t.Fatalf("a one-hour rotation period was accepted: %v", err)
	}
}
