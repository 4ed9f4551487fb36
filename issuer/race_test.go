package issuer_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/issuer"
	"github.com/actas-dev/actas/password"
	"github.com/actas-dev/actas/sqlite"
	"github.com/actas-dev/actas/token"
)

// hookStore runs a function just before the next CreateSession: the
// moment an administrator's change can slip between the issuer's checks
// and the commit of the session they allowed.
type hookStore struct {
	actas.Store
	beforeCreate func()
	staleVersion *int64 // if set, the next ConfigVersion answers this
	apiKey       string // the tenant's, set by raceSetup
}

func (h *hookStore) ConfigVersion(ctx context.Context) (int64, error) {
	if v := h.staleVersion; v != nil {
		h.staleVersion = nil
		return *v, nil
	}
	return h.Store.ConfigVersion(ctx)
}

func (h *hookStore) CreateSession(ctx context.Context, s *actas.Session, rt *actas.RefreshToken, ev *actas.AuditEvent) error {
	if f := h.beforeCreate; f != nil {
		h.beforeCreate = nil
		f()
	}
	return h.Store.CreateSession(ctx, s, rt, ev)
}

// raceSetup: a server issuer on a hooked store and an "administrator"
// issuer (another process, the CLI) on the same database.
func raceSetup(t *testing.T) (hs *hookStore, srv, admin *issuer.Issuer, c *issuer.Client) {
	t.Helper()
	ctx := context.Background()
	// Not t.TempDir: the issuer's revocation follower may still run a
	// read as the store closes, and a reader opening then recreates the
	// WAL's side files; t.TempDir's cleanup fails the test on that race,
	// which says nothing about what the test checks.
	dir, err := os.MkdirTemp("", "actas-race-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	db, err := sqlite.Open(ctx, filepath.Join(dir, "race.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sealer, _ := token.NewSealer(make([]byte, 32))
	cheap := password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hs = &hookStore{Store: db}
	srv = issuer.New(issuer.Config{Store: hs, Sealer: sealer, Hasher: password.NewHasher(cheap, 2, 10, time.Minute), PublicURL: "http://x", Logger: log})
	admin = issuer.New(issuer.Config{Store: db, Sealer: sealer, Hasher: password.NewHasher(cheap, 2, 10, time.Minute), PublicURL: "http://x", Logger: log})
	_, key, err := admin.CreateTenant(ctx, issuer.CreateTenantRequest{Name: "t", Settings: actas.TenantSettings{SigningAlg: actas.AlgES256}})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		name   string
		groups []string
	}{{"alice", nil}, {"boss", []string{actas.GroupImpersonator}}} {
		if _, err := admin.CreateUser(ctx, issuer.CreateUserRequest{Tenant: "t", Username: u.name, Password: "correct horse battery", Groups: u.groups}); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	hs.apiKey = key
	if c, err = srv.Authenticate(ctx, key); err != nil {
		t.Fatal(err)
	}
	return hs, srv, admin, c
}

func TestSignInRacingAnAdministrator(t *testing.T) {
	for name, change := range map[string]func(ctx context.Context, admin *issuer.Issuer) error{
		"password changed": func(ctx context.Context, admin *issuer.Issuer) error {
			_, err := admin.SetPassword(ctx, "t", "alice", "a brand new password")
			return err
		},
		"user disabled": func(ctx context.Context, admin *issuer.Issuer) error {
			_, err := admin.UpdateUser(ctx, "t", "alice", func(u *actas.User) error { u.Status = actas.UserDisabled; return nil })
			return err
		},
		"user deleted": func(ctx context.Context, admin *issuer.Issuer) error { return admin.DeleteUser(ctx, "t", "alice") },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			hs, srv, admin, c := raceSetup(t)
			hs.beforeCreate = func() {
				if err := change(ctx, admin); err != nil {
					t.Error(err)
				}
			}
			res, err := srv.SignIn(ctx, c, issuer.SignInRequest{Username: "alice", Password: "correct horse battery", IP: "192.0.2.1"})
			if err == nil {
				t.Fatalf("sign-in that raced the change succeeded (refresh token issued: %t)", res.RefreshToken != "")
			}
			if actas.ErrorCode(err) != actas.EUNAUTHORIZED {
				t.Fatalf("err = %v, want 401", err)
			}
			// Nothing the raced sign-in created is alive.
			list, err := srv.Store().Sessions(ctx, actas.SessionFilter{TenantID: c.Tenant.ID, ActiveAt: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 0 {
				t.Fatalf("%d live sessions after the raced sign-in", len(list))
			}
		})
	}
}

func TestImpersonationRacingGroupRemoval(t *testing.T) {
	ctx := context.Background()
	hs, srv, admin, c := raceSetup(t)
	boss, err := srv.SignIn(ctx, c, issuer.SignInRequest{Username: "boss", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	hs.beforeCreate = func() {
		if _, err := admin.UpdateUser(ctx, "t", "boss", func(u *actas.User) error { u.Groups = nil; return nil }); err != nil {
			t.Error(err)
		}
	}
	_, err = srv.Impersonate(ctx, c, issuer.ImpersonateRequest{IDToken: boss.IDToken, AccessToken: boss.AccessToken, Username: "alice"})
	if actas.ErrorCode(err) != actas.EFORBIDDEN {
		t.Fatalf("impersonation racing the group removal: err = %v, want 403", err)
	}
	list, err := srv.Store().Sessions(ctx, actas.SessionFilter{TenantID: c.Tenant.ID, ActiveAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		if s.Impersonated() {
			t.Fatal("the raced impersonation session is alive")
		}
	}
}

// TestSlowRequestCannotResurrectAWithdrawnKey: a request that read the
// config version before a key was withdrawn, and stores it late, must not
// make the key set from before the withdrawal look current to a request
// that started after it.
func TestSlowRequestCannotResurrectAWithdrawnKey(t *testing.T) {
	ctx := context.Background()
	hs, srv, admin, c := raceSetup(t)
	res, err := srv.SignIn(ctx, c, issuer.SignInRequest{Username: "alice", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.VerifyAccessToken(ctx, c.Tenant, res.AccessToken); err != nil { // key set cached
		t.Fatal(err)
	}
	before, _ := hs.Store.ConfigVersion(ctx)
	kid := kidOf(t, res.AccessToken)
	if _, err := admin.WithdrawKey(ctx, kid, false); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Authenticate(ctx, hs.apiKey); err != nil { // a request after the withdrawal
		t.Fatal(err)
	}
	hs.staleVersion = &before // a slow request that read the old version
	if _, err := srv.Authenticate(ctx, hs.apiKey); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.VerifyAccessToken(ctx, c.Tenant, res.AccessToken); err == nil {
		t.Fatal("a token of the withdrawn key was accepted after the withdrawal")
	}
}

func kidOf(t *testing.T, jwt string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ Kid string }
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h.Kid
}
