package issuer_test

import (
	"context"
	"testing"

	"github.com/actas-dev/actas/issuer"
)

// A client created or deleted through this Issuer changes the allowed
// origins at once, with no wait for the TTL.
func TestCORSOriginsFollowClientsAtOnce(t *testing.T) {
	ctx := context.Background()
	iss, _ := newTestIssuer(t)
	ten, _, err := iss.CreateTenant(ctx, issuer.CreateTenantRequest{Name: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	allowed := func(origin string) bool {
		t.Helper()
		ok, err := iss.CORSOriginAllowed(ctx, ten.UserPoolID, origin)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	const spa = "https://spa.acme.example"
	if allowed(spa) {
		t.Fatal("an origin is allowed before any client registers it")
	}
	c, _, err := iss.CreateClient(ctx, issuer.CreateClientRequest{Tenant: "acme", Name: "SPA", Public: true,
		RedirectURIs: []string{spa + "/callback"}})
	if err != nil {
		t.Fatal(err)
	}
	if !allowed(spa) {
		t.Fatal("the origin of a new client's redirect URI is refused")
	}
	if err := iss.DeleteClient(ctx, "acme", c.ID); err != nil {
		t.Fatal(err)
	}
	if allowed(spa) {
		t.Fatal("the origin of a deleted client is still allowed")
	}
	if ok, err := iss.CORSOriginAllowed(ctx, "eu-west-1_nosuchpool", spa); ok || err != nil {
		t.Fatalf("unknown pool: %v, %v; want false, nil", ok, err)
	}
}
