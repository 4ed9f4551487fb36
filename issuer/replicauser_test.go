package issuer_test

import (
	"context"
	"testing"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/issuer"
)

// TestRefreshSeesAnotherReplicasUserChange: a refresh reads the user with
// its session (no cache), so a change made on another replica (here the
// administrator's issuer on the same database) shows in the very next
// refresh on this one: a new profile in the tokens, and a disabled user
// refused.
func TestRefreshSeesAnotherReplicasUserChange(t *testing.T) {
	ctx := context.Background()
	_, srv, admin, c := raceSetup(t)
	first, err := srv.SignIn(ctx, c, issuer.SignInRequest{Username: "alice", Password: "correct horse battery", IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	req := issuer.RefreshRequest{RefreshToken: first.RefreshToken}
	if _, err := srv.Refresh(ctx, c, req); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.UpdateUser(ctx, "t", "alice", func(u *actas.User) error {
		u.FirstName, u.Email = "Alicia", "alicia@example.com"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	res, err := srv.Refresh(ctx, c, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.User.FirstName != "Alicia" || res.User.Email != "alicia@example.com" {
		t.Errorf("refresh after a change on another replica: user %q %q, want Alicia alicia@example.com", res.User.FirstName, res.User.Email)
	}
	claims, err := srv.VerifyIDToken(ctx, res.Tenant, res.IDToken)
	if err != nil {
		t.Fatal(err)
	}
	if claims.GivenName != "Alicia" {
		t.Errorf("ID token given_name %q, want Alicia", claims.GivenName)
	}
	if _, err := admin.UpdateUser(ctx, "t", "alice", func(u *actas.User) error { u.Status = actas.UserDisabled; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Refresh(ctx, c, req); err == nil {
		t.Error("refresh of a user disabled on another replica: accepted")
	}
}
