package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/actas-dev/actas/verify"
)

// Package verify against a real actas: real HTTP, real keys, real
// revocations. Attacks that need a token signed with bad claims live in
// verify's own tests, which sign with keys made in the test.

func (h *harness) verifier(ten tenantInfo, mod ...func(*verify.Config)) *verify.Verifier {
	h.t.Helper()
	cfg := verify.Config{
		Issuer: h.url + "/" + ten.UserPoolID, ClientID: ten.ClientID, APIKey: ten.APIKey,
		Now: h.clock.Now, FeedMaxStale: 2 * time.Second, KeyRefetchEvery: 100 * time.Millisecond,
	}
	for _, m := range mod {
		m(&cfg)
	}
	v, err := verify.New(context.Background(), cfg)
	if err != nil {
		h.t.Fatalf("verify.New: %v", err)
	}
	h.t.Cleanup(func() { _ = v.Close() })
	return v
}

// untilRevoked polls v until tok is refused as revoked and returns how
// long that took.
func untilRevoked(t *testing.T, v *verify.Verifier, tok string, start time.Time, limit time.Duration) time.Duration {
	t.Helper()
	for {
		_, err := v.VerifyAccess(tok)
		if errors.Is(err, verify.ErrRevoked) {
			return time.Since(start)
		}
		if err != nil {
			t.Fatalf("refused for another reason: %v", err)
		}
		if time.Since(start) > limit {
			t.Fatalf("still accepted %v after the revocation", time.Since(start))
		}
		time.Sleep(time.Millisecond)
	}
}

func TestVerifyActasTokens(t *testing.T) {
	h, ten := setup(t)
	h.createUser("acme", "op", "op-password", "--group", "impersonator")
	v := h.verifier(ten)
	s := sessionOf(t, h.signIn(ten.APIKey, "alice", "alice-password"))
	ac, err := v.VerifyAccess(str(s, "accessToken"))
	if err != nil || ac.Username != "alice" || ac.ClientID != ten.ClientID || !ac.InGroup("staff") || ac.Act != nil {
		t.Fatalf("access token: %+v %v", ac, err)
	}
	ic, err := v.VerifyID(str(s, "authorization"))
	if err != nil || ic.CognitoUsername != "alice" || ic.Sub != ac.Sub || ic.OriginJti != ac.OriginJti || *ic.Email != "alice@acme.example" {
		t.Fatalf("ID token: %+v %v", ic, err)
	}

	// Impersonated tokens carry act.
	op := sessionOf(t, h.signIn(ten.APIKey, "op", "op-password"))
	r := h.do("POST", "/auth/impersonate", map[string]string{"username": "alice"}, "X-API-Key", ten.APIKey,
		"Authorization", str(op, "authorization"), "AccessToken", str(op, "accessToken"))
	if r.status != 200 {
		t.Fatalf("impersonate: %d %s", r.status, r.body)
	}
	imp := sessionOf(t, r.json(t))
	c, err := v.VerifyAccess(str(imp, "accessToken"))
	if err != nil || c.Sub != ac.Sub || c.Act == nil || c.Act.Username != "op" {
		t.Fatalf("impersonated token: %+v %v", c, err)
	}
	// Revoking the operator's session revokes the impersonation at once.
	start := time.Now()
	h.do("DELETE", "/auth/token", map[string]any{"session": op}, "X-API-Key", ten.APIKey, "AccessToken", str(op, "accessToken"))
	t.Logf("impersonation revoked by its parent after %v", untilRevoked(t, v, str(imp, "accessToken"), start, time.Second))
}

func TestVerifyRefusesActasAttacks(t *testing.T) {
	h, ten := setup(t)
	other := h.createTenant("globex")
	h.createUser("globex", "bob", "bob-password")
	v := h.verifier(ten)
	s := sessionOf(t, h.signIn(ten.APIKey, "alice", "alice-password"))
	access, id := str(s, "accessToken"), str(s, "authorization")
	parts := strings.Split(access, ".")
	enc := base64.RawURLEncoding.EncodeToString
	header := func(m map[string]any) string { b, _ := json.Marshal(m); return enc(b) }
	kid := headerOf(t, access)["kid"]

	// HS256 keyed with the RSA public key as the JWKS publishes it.
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	_ = json.Unmarshal(h.do("GET", "/"+ten.UserPoolID+"/.well-known/jwks.json", nil).body, &set)
	var n string
	for _, k := range set.Keys {
		if k["kid"] == kid {
			n, _ = k["n"].(string)
		}
	}
	if n == "" {
		t.Fatal("access key not in JWKS")
	}
	hsIn := header(map[string]any{"kid": kid, "alg": "HS256"}) + "." + parts[1]
	mac := hmac.New(sha256.New, []byte(n))
	mac.Write([]byte(hsIn))
	hs256 := hsIn + "." + enc(mac.Sum(nil))

	payload := claimsOf(t, access)
	payload["username"], payload["cognito:groups"] = "admin", []string{"admin"}
	pb, _ := json.Marshal(payload)

	bob := sessionOf(t, h.signIn(other.APIKey, "bob", "bob-password"))
	cases := []struct {
		name   string
		tok    string
		verify func(string) (*verify.Claims, error)
		want   error
	}{
		{"alg none", header(map[string]any{"kid": kid, "alg": "none"}) + "." + parts[1] + ".", v.VerifyAccess, verify.ErrMalformed},
		{"alg none, signature kept", header(map[string]any{"kid": kid, "alg": "none"}) + "." + parts[1] + "." + parts[2], v.VerifyAccess, verify.ErrAlgorithm},
		{"HS256 with the RSA public key", hs256, v.VerifyAccess, verify.ErrAlgorithm},
		{"changed payload", parts[0] + "." + enc(pb) + "." + parts[2], v.VerifyAccess, verify.ErrSignature},
		{"unknown kid", header(map[string]any{"kid": "AAAAAAAAAAAAAAAAAAAAAA", "alg": "RS256"}) + "." + parts[1] + "." + parts[2], v.VerifyAccess, verify.ErrUnknownKey},
		{"malicious kid", header(map[string]any{"kid": "../../../etc/passwd", "alg": "RS256"}) + "." + parts[1] + "." + parts[2], v.VerifyAccess, verify.ErrMalformed},
		{"ID token as access token", id, v.VerifyAccess, verify.ErrInvalidClaims},
		{"access token as ID token", access, v.VerifyID, verify.ErrInvalidClaims},
		{"another tenant's access token", str(bob, "accessToken"), v.VerifyAccess, verify.ErrUnknownKey},
		{"another tenant's ID token", str(bob, "authorization"), v.VerifyID, verify.ErrUnknownKey},
		{"oversized", parts[0] + "." + strings.Repeat("A", verify.MaxTokenLen) + "." + parts[2], v.VerifyAccess, verify.ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := c.verify(c.tok); !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
	// Expired: one hour and the skew later.
	h.clock.Advance(time.Hour + 61*time.Second)
	if _, err := v.VerifyAccess(access); !errors.Is(err, verify.ErrExpired) {
		t.Fatalf("expired token: %v", err)
	}
}

func TestRevocationReachesVerifierWithinASecond(t *testing.T) {
	h, ten := setup(t)
	v := h.verifier(ten)
	revokeVia := map[string]func(s map[string]any){
		"DELETE /auth/token": func(s map[string]any) {
			h.do("DELETE", "/auth/token", map[string]any{"session": s}, "X-API-Key", ten.APIKey, "AccessToken", str(s, "accessToken"))
		},
		"POST oauth2/revoke": func(s map[string]any) {
			h.form(ten, "revoke", url.Values{"token": {str(s, "refreshToken")}})
		},
	}
	for name, revoke := range revokeVia {
		t.Run(name, func(t *testing.T) {
			var worst time.Duration
			for range 5 {
				s := sessionOf(t, h.signIn(ten.APIKey, "alice", "alice-password"))
				if _, err := v.VerifyAccess(str(s, "accessToken")); err != nil {
					t.Fatal(err)
				}
				time.Sleep(50 * time.Millisecond) // let the long poll settle
				start := time.Now()
				revoke(s)
				worst = max(worst, untilRevoked(t, v, str(s, "accessToken"), start, time.Second))
			}
			t.Logf("revocation reached the verifier in at most %v (5 runs, measured from the revoking request)", worst)
		})
	}
	// Made by another process: the CLI writes the store; the server's
	// 1 s sync wakes the feed.
	t.Run("actas session revoke", func(t *testing.T) {
		s := sessionOf(t, h.signIn(ten.APIKey, "alice", "alice-password"))
		start := time.Now()
		h.mustCLI(nil, "session", "revoke", claimsOf(t, str(s, "accessToken"))["origin_jti"].(string))
		t.Logf("revocation by another process reached the verifier after %v", untilRevoked(t, v, str(s, "accessToken"), start, 2*time.Second))
	})
	if st := v.Stats(); st.Revoked < 11 || st.Stale || st.FeedLag > 2*time.Second {
		t.Errorf("stats = %+v", st)
	}
}

func TestVerifierFollowsKeyRotation(t *testing.T) {
	h, ten := setup(t)
	v := h.verifier(ten)
	before := sessionOf(t, h.signIn(ten.APIKey, "alice", "alice-password"))
	oldKid := headerOf(t, str(before, "accessToken"))["kid"]
	fetches := v.Stats().KeyFetches

	h.mustCLI(nil, "keys", "rotate", "--tenant", "acme", "--delay", "10m")
	h.clock.Advance(31 * time.Second) // past the server's key cache
	h.clock.Advance(10 * time.Minute) // the next key now signs
	after := sessionOf(t, h.signIn(ten.APIKey, "alice", "alice-password"))
	if headerOf(t, str(after, "accessToken"))["kid"] == oldKid {
		t.Fatal("the new key does not sign")
	}
	time.Sleep(150 * time.Millisecond) // the refetch rate limit of this verifier
	for _, tok := range []string{str(after, "accessToken"), str(before, "accessToken")} {
		if _, err := v.VerifyAccess(tok); err != nil {
			t.Fatalf("after rotation: %v", err)
		}
	}
	if _, err := v.VerifyID(str(after, "authorization")); err != nil {
		t.Fatalf("new ID token: %v", err)
	}
	if st := v.Stats(); st.KeyFetches != fetches+1 || st.Keys != 4 {
		t.Errorf("stats after rotation = %+v, want one more fetch and 4 keys", st)
	}
}

func TestVerifierFeedOutage(t *testing.T) {
	for _, open := range []bool{false, true} {
		name := "fail closed"
		if open {
			name = "fail open"
		}
		t.Run(name, func(t *testing.T) {
			h, ten := setup(t)
			v := h.verifier(ten, func(c *verify.Config) { c.FailOpen = open })
			s := sessionOf(t, h.signIn(ten.APIKey, "alice", "alice-password"))
			tok := str(s, "accessToken")
			h.shutdown() // actas is gone
			stopped := time.Now()
			if _, err := v.VerifyAccess(tok); err != nil {
				t.Fatalf("right after the outage began: %v", err)
			}
			for !v.Stats().Stale {
				if time.Since(stopped) > 5*time.Second {
					t.Fatalf("not stale 5 s into the outage: %+v", v.Stats())
				}
				time.Sleep(20 * time.Millisecond)
			}
			_, err := v.VerifyAccess(tok)
			st := v.Stats()
			t.Logf("stale %v into the outage; stats %+v", time.Since(stopped), st)
			if open {
				if err != nil || !st.FailOpen {
					t.Fatalf("fail open refused: %v", err)
				}
			} else if !errors.Is(err, verify.ErrUnavailable) || !st.FailClosed || st.FeedErrors == 0 {
				t.Fatalf("fail closed: err %v, stats %+v", err, st)
			}
		})
	}
}
