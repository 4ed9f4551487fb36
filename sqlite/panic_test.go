package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/actas-dev/actas"
)

// A panic in a caller's update closure must fail that call only: the
// writer stays usable for everyone else.
func TestPanicInWriteCallbackDoesNotStopWrites(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ten := &actas.Tenant{ID: actas.NewID(), Name: "acme", UserPoolID: actas.NewUserPoolID("local"), ClientID: actas.NewClientID(),
		Settings: actas.DefaultTenantSettings(), CreatedAt: time.Now()}
	if err := db.CreateTenant(ctx, ten, nil, nil); err != nil {
		t.Fatal(err)
	}
	_, err = db.UpdateTenant(ctx, ten.ID, func(*actas.Tenant) error { panic("boom") })
	if err == nil {
		t.Fatal("a panicking update reported success")
	}
	ctx2, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := db.UpdateTenant(ctx2, ten.ID, func(t *actas.Tenant) error { t.EndpointURL = "https://x.example"; return nil }); err != nil {
		t.Fatalf("the next write after a panic: %v", err)
	}
}
