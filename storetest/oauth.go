package storetest

import (
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/actas-dev/actas"
)

// Conformance of the browser sign-in stores: clients, codes, grants and
// browser-session cookies.
var oauthTests = []test{
	{"ClientRoundTrip", testOAuthClientRoundTrip},
	{"ClientConflictAndDelete", testOAuthClientConflictDelete},
	{"CodeRedeemOnce", testAuthCodeRedeemOnce},
	{"CodeConcurrentRedeem", testAuthCodeConcurrentRedeem},
	{"GrantAndBrowserSession", testGrantBrowserSession},
	{"GoneWithSession", testOAuthRowsGoneWithSession},
}

func newOAuthClient(tenantID, name string, public bool) *actas.OAuthClient {
	c := &actas.OAuthClient{
		ID: actas.NewClientID(), TenantID: tenantID, Name: name,
		RedirectURIs:           []string{"https://app.example/cb", "http://127.0.0.1/cb"},
		PostLogoutRedirectURIs: []string{"https://app.example/bye"},
		Public:                 public, CreatedAt: odd,
	}
	if !public {
		c.SecretHash = sha("secret of " + name)
	}
	return c
}

func testOAuthClientRoundTrip(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	other := mustCreateTenant(t, s, "other")
	conf := newOAuthClient(tn.ID, "web", false)
	pub := newOAuthClient(tn.ID, "spa", true)
	pub.PostLogoutRedirectURIs = nil
	for _, c := range []*actas.OAuthClient{conf, pub} {
		if err := s.CreateOAuthClient(ctx, c); err != nil {
			t.Fatalf("create: %v", err)
		}
		got, err := s.OAuthClient(ctx, tn.ID, c.ID)
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		want := *c
		want.CreatedAt = c.CreatedAt.UTC().Truncate(time.Millisecond)
		if !reflect.DeepEqual(got, &want) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, &want)
		}
	}
	if _, err := s.OAuthClient(ctx, other.ID, conf.ID); !errors.Is(err, actas.ErrNotFound) {
		t.Errorf("another tenant's client: %v, want ErrNotFound", err)
	}
	list, err := s.OAuthClients(ctx, tn.ID)
	if err != nil || len(list) != 2 || list[0].Name != "spa" || list[1].Name != "web" {
		t.Fatalf("list = %v, %v; want spa, web", list, err)
	}
	if list, err := s.OAuthClients(ctx, other.ID); err != nil || len(list) != 0 {
		t.Errorf("other tenant's list = %v, %v; want none", list, err)
	}
}

func testOAuthClientConflictDelete(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	c := newOAuthClient(tn.ID, "web", false)
	if err := s.CreateOAuthClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateOAuthClient(ctx, c); !errors.Is(err, actas.ErrConflict) {
		t.Errorf("second create: %v, want ErrConflict", err)
	}
	if err := s.DeleteOAuthClient(ctx, tn.ID, c.ID); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if err := s.DeleteOAuthClient(ctx, tn.ID, c.ID); !errors.Is(err, actas.ErrNotFound) {
		t.Errorf("second delete: %v, want ErrNotFound", err)
	}
	if _, err := s.OAuthClient(ctx, tn.ID, c.ID); !errors.Is(err, actas.ErrNotFound) {
		t.Errorf("deleted client: %v, want ErrNotFound", err)
	}
}

func newCode(parent *actas.Session, clientID, name string) *actas.AuthCode {
	return &actas.AuthCode{
		Hash: sha("code " + name), TenantID: parent.TenantID, ClientID: clientID,
		RedirectURI: "https://app.example/cb", CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		Nonce: "n-0S6_WzA2Mj", Scope: "openid offline_access", ParentID: parent.ID, UserID: parent.UserID,
		AuthTime: odd, ExpiresAt: at(time.Minute), CreatedAt: at(0),
	}
}

// childGrant stores a session started from parent's code and returns its
// grant, as a code exchange does before redeeming.
func childGrant(t *testing.T, s actas.Store, parent *actas.Session, clientID string) *actas.OAuthGrant {
	t.Helper()
	u := &actas.User{ID: parent.UserID, TenantID: parent.TenantID}
	child := newSession(u)
	child.ParentID = parent.ID
	mustCreateSession(t, s, child)
	return &actas.OAuthGrant{SessionID: child.ID, TenantID: parent.TenantID, ClientID: clientID, Scope: "openid", CreatedAt: at(0)}
}

func testAuthCodeRedeemOnce(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	u := mustCreateUser(t, s, tn.ID, "alice")
	browser := newSession(u)
	browser.Refreshable = false
	mustCreateSession(t, s, browser)
	c := newCode(browser, actas.NewClientID(), "one")
	if err := s.CreateAuthCode(ctx, c); err != nil {
		t.Fatal(err)
	}
	want := *c
	want.AuthTime = c.AuthTime.UTC().Truncate(time.Millisecond)
	if got, err := s.AuthCode(ctx, c.Hash); err != nil || !reflect.DeepEqual(got, &want) {
		t.Errorf("AuthCode = %+v, %v; want %+v", got, err, &want)
	}
	g1, g2 := childGrant(t, s, browser, c.ClientID), childGrant(t, s, browser, c.ClientID)
	first, err := s.RedeemAuthCode(ctx, c.Hash, at(time.Second), g1)
	if err != nil {
		t.Fatalf("redeem: %v", err)
	}
	if !reflect.DeepEqual(first, &want) {
		t.Errorf("first redemption returned\n %+v\nwant the code as stored\n %+v", first, &want)
	}
	if got, err := s.OAuthGrant(ctx, g1.SessionID); err != nil || !reflect.DeepEqual(got, g1) {
		t.Errorf("grant of the redemption = %+v, %v; want %+v", got, err, g1)
	}
	second, err := s.RedeemAuthCode(ctx, c.Hash, at(2*time.Second), g2)
	if err != nil {
		t.Fatalf("second redeem: %v", err)
	}
	if !second.UsedAt.Equal(at(time.Second).Truncate(time.Millisecond)) || second.SessionID != g1.SessionID {
		t.Errorf("second redemption: used %v session %q; want the first's (%v, %s)", second.UsedAt, second.SessionID, at(time.Second), g1.SessionID)
	}
	if _, err := s.OAuthGrant(ctx, g2.SessionID); !errors.Is(err, actas.ErrNotFound) {
		t.Errorf("a refused redemption stored its grant: %v", err)
	}
	if _, err := s.RedeemAuthCode(ctx, sha("no such code"), at(0), g2); !errors.Is(err, actas.ErrNotFound) {
		t.Errorf("unknown code: %v, want ErrNotFound", err)
	}
	if _, err := s.AuthCode(ctx, sha("no such code")); !errors.Is(err, actas.ErrNotFound) {
		t.Errorf("AuthCode of an unknown code: %v, want ErrNotFound", err)
	}
}

func testAuthCodeConcurrentRedeem(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	u := mustCreateUser(t, s, tn.ID, "alice")
	browser := newSession(u)
	mustCreateSession(t, s, browser)
	c := newCode(browser, actas.NewClientID(), "race")
	if err := s.CreateAuthCode(ctx, c); err != nil {
		t.Fatal(err)
	}
	const n = 8
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		wins   int
		grants []*actas.OAuthGrant
	)
	for range n {
		grants = append(grants, childGrant(t, s, browser, c.ClientID))
	}
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := s.RedeemAuthCode(ctx, c.Hash, at(time.Second), grants[i])
			if err != nil {
				t.Errorf("redeem %d: %v", i, err)
				return
			}
			if got.UsedAt.IsZero() {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d of %d concurrent redemptions found the code unused; want exactly 1", wins, n)
	}
}

func testGrantBrowserSession(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	u := mustCreateUser(t, s, tn.ID, "alice")
	sess := mustCreateSession(t, s, newSession(u))
	g := &actas.OAuthGrant{SessionID: sess.ID, TenantID: tn.ID, ClientID: actas.NewClientID(), Scope: "openid email", CreatedAt: at(0)}
	if err := s.CreateOAuthGrant(ctx, g); err != nil {
		t.Fatal(err)
	}
	if got, err := s.OAuthGrant(ctx, sess.ID); err != nil || !reflect.DeepEqual(got, g) {
		t.Errorf("grant = %+v, %v; want %+v", got, err, g)
	}
	if err := s.CreateOAuthGrant(ctx, &actas.OAuthGrant{SessionID: actas.NewID(), TenantID: tn.ID, ClientID: "x", CreatedAt: at(0)}); !errors.Is(err, actas.ErrNotFound) {
		t.Errorf("grant of no session: %v, want ErrNotFound", err)
	}
	if _, err := s.OAuthGrant(ctx, actas.NewID()); !errors.Is(err, actas.ErrNotFound) {
		t.Errorf("no grant: %v, want ErrNotFound", err)
	}
	b := &actas.BrowserSession{Hash: sha("cookie"), TenantID: tn.ID, SessionID: sess.ID, CreatedAt: at(0)}
	if err := s.CreateBrowserSession(ctx, b); err != nil {
		t.Fatal(err)
	}
	if got, err := s.BrowserSession(ctx, b.Hash); err != nil || !reflect.DeepEqual(got, b) {
		t.Errorf("browser session = %+v, %v; want %+v", got, err, b)
	}
	if err := s.DeleteBrowserSession(ctx, b.Hash); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteBrowserSession(ctx, b.Hash); err != nil {
		t.Errorf("second delete: %v, want nil", err)
	}
	if _, err := s.BrowserSession(ctx, b.Hash); !errors.Is(err, actas.ErrNotFound) {
		t.Errorf("deleted cookie: %v, want ErrNotFound", err)
	}
}

// A code, a cookie and a grant go away with their session, whether it is
// purged or its user is deleted; neither operation fails because of them.
func testOAuthRowsGoneWithSession(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	for _, how := range []string{"purge", "delete user"} {
		u := mustCreateUser(t, s, tn.ID, "user-"+how)
		sess := mustCreateSession(t, s, newSession(u))
		code := newCode(sess, "c", how)
		b := &actas.BrowserSession{Hash: sha("cookie " + how), TenantID: tn.ID, SessionID: sess.ID, CreatedAt: at(0)}
		if err := s.CreateAuthCode(ctx, code); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateBrowserSession(ctx, b); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateOAuthGrant(ctx, &actas.OAuthGrant{SessionID: sess.ID, TenantID: tn.ID, ClientID: "c", CreatedAt: at(0)}); err != nil {
			t.Fatal(err)
		}
		var err error
		if how == "purge" {
			_, _, err = s.PurgeExpired(ctx, sess.ExpiresAt.Add(time.Second))
		} else {
			err = s.DeleteUser(ctx, tn.ID, u.ID)
		}
		if err != nil {
			t.Fatalf("%s: %v", how, err)
		}
		if _, err := s.BrowserSession(ctx, b.Hash); !errors.Is(err, actas.ErrNotFound) {
			t.Errorf("%s: cookie row: %v, want ErrNotFound", how, err)
		}
		if _, err := s.OAuthGrant(ctx, sess.ID); !errors.Is(err, actas.ErrNotFound) {
			t.Errorf("%s: grant: %v, want ErrNotFound", how, err)
		}
		if _, err := s.AuthCode(ctx, code.Hash); !errors.Is(err, actas.ErrNotFound) {
			t.Errorf("%s: code: %v, want ErrNotFound", how, err)
		}
	}
}
