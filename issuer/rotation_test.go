package issuer_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/issuer"
	"github.com/actas-dev/actas/password"
	"github.com/actas-dev/actas/token"
)

// TestRotationRetryUnderAnotherMasterKey: the successor of a refresh
// token is derived under the master key; a retry answered by a process
// whose master key differs (a master key change between a refresh and its
// retry) would derive another token. It is refused (401) instead of being
// handed a token that is not the session's, nothing is stored, and the
// session's real successor still works.
func TestRotationRetryUnderAnotherMasterKey(t *testing.T) {
	hs, srv, _, c := raceSetup(t)
	ctx := context.Background()
	if _, err := srv.SetTenant(ctx, "t", func(t *actas.Tenant) error { t.Settings.RefreshRotation = true; return nil }); err != nil {
		t.Fatal(err)
	}
	c, err := srv.Authenticate(ctx, hs.apiKey)
	if err != nil {
		t.Fatal(err)
	}
	in, err := srv.SignIn(ctx, c, issuer.SignInRequest{Username: "alice", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	first, err := srv.Refresh(ctx, c, issuer.RefreshRequest{RefreshToken: in.RefreshToken})
	if err != nil {
		t.Fatal(err)
	}
	again, err := srv.Refresh(ctx, c, issuer.RefreshRequest{RefreshToken: in.RefreshToken})
	if err != nil || again.RefreshToken != first.RefreshToken {
		t.Fatalf("retry within the grace: %v, same successor %v", err, err == nil && again.RefreshToken == first.RefreshToken)
	}

	other := make([]byte, 32)
	other[0] = 1
	sealer, _ := token.NewSealer(other)
	cheap := password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	stranger := issuer.New(issuer.Config{Store: hs.Store, Sealer: sealer, Hasher: password.NewHasher(cheap, 1, 1, time.Second),
		PublicURL: "http://x", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	sc, err := stranger.Authenticate(ctx, hs.apiKey)
	if err != nil {
		t.Fatal(err)
	}
	_, err = stranger.Refresh(ctx, sc, issuer.RefreshRequest{RefreshToken: in.RefreshToken})
	if actas.ErrorCode(err) != actas.EUNAUTHORIZED {
		t.Fatalf("retry under another master key = %v, want 401", err)
	}
	s, err := hs.Store.Session(ctx, in.Session.ID)
	if err != nil || s.Revoked() || s.RefreshGeneration != 1 {
		t.Fatalf("session after the refused retry: %+v, %v; want unrevoked at generation 1", s, err)
	}
	if _, err := srv.Refresh(ctx, c, issuer.RefreshRequest{RefreshToken: first.RefreshToken}); err != nil {
		t.Errorf("the real successor after the refused retry: %v", err)
	}
}
