package verify

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"math/big"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actas-dev/actas/jose"
)

// fakeIssuer serves what an actas tenant serves a verifier: discovery,
// JWKS and the revocation feed, with keys made in the test.
type fakeIssuer struct {
	t        *testing.T
	srv      *httptest.Server
	clientID string
	apiKey   string

	mu      sync.Mutex
	keys    map[string]crypto.Signer // kid -> private key
	algs    map[string]string        // kid -> alg
	revs    []map[string]any
	changed chan struct{}
	down    atomic.Bool // the feed answers 503
	jwksHit atomic.Int64
	feedLog feedLog // every feed call's wait and outcome (feed_test.go)
}

var (
	rsaKey  = mustRSA()
	ecKey   = mustEC()
	edKey   = mustEd()
	rsaKey2 = mustRSA()
)

func mustRSA() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}

func mustEC() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

func mustEd() ed25519.PrivateKey {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

func newFakeIssuer(t testing.TB) *fakeIssuer {
	tt, _ := t.(*testing.T)
	f := &fakeIssuer{
		t: tt, clientID: "abcdefghijklmnopqrstuvwxyz", apiKey: "actas_test",
		keys:    map[string]crypto.Signer{"rsa1": rsaKey, "ec1": ecKey, "ed1": edKey},
		algs:    map[string]string{"rsa1": jose.AlgRS256, "ec1": jose.AlgES256, "ed1": jose.AlgEdDSA},
		changed: make(chan struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /local_test/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		iss := f.issuer()
		writeJSONTest(w, map[string]string{"issuer": iss, "jwks_uri": iss + "/.well-known/jwks.json", "revocation_feed_endpoint": iss + "/revocations"})
	})
	mux.HandleFunc("GET /local_test/.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		f.jwksHit.Add(1)
		writeJSONTest(w, f.jwks())
	})
	mux.HandleFunc("GET /local_test/revocations", f.feed)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeIssuer) issuer() string { return f.srv.URL + "/local_test" }

func writeJSONTest(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeIssuer) jwks() map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := base64.RawURLEncoding.EncodeToString
	var keys []map[string]any
	for kid, k := range f.keys {
		j := map[string]any{"kid": kid, "use": "sig", "alg": f.algs[kid]}
		switch p := k.Public().(type) {
		case *rsa.PublicKey:
			j["kty"], j["n"], j["e"] = "RSA", b(p.N.Bytes()), b(big.NewInt(int64(p.E)).Bytes())
		case *ecdsa.PublicKey:
			pt, _ := p.Bytes()
			j["kty"], j["crv"], j["x"], j["y"] = "EC", "P-256", b(pt[1:33]), b(pt[33:])
		case ed25519.PublicKey:
			j["kty"], j["crv"], j["x"] = "OKP", "Ed25519", b(p)
		}
		keys = append(keys, j)
	}
	return map[string]any{"keys": keys}
}

func (f *fakeIssuer) feed(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-API-Key") != f.apiKey {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	f.feedLog.add(r.URL.Query().Get("wait"), f.down.Load())
	if f.down.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	wait, _ := strconv.Atoi(r.URL.Query().Get("wait"))
	deadline := time.After(time.Duration(wait) * time.Second)
	for {
		f.mu.Lock()
		var out []map[string]any
		for i, rv := range f.revs {
			if int64(i+1) > after {
				out = append(out, rv)
			}
		}
		cursor, ch := int64(len(f.revs)), f.changed
		f.mu.Unlock()
		if len(out) > 0 || wait == 0 {
			writeJSONTest(w, map[string]any{"revocations": out, "cursor": max(cursor, after)})
			return
		}
		select {
		case <-ch:
			if f.down.Load() { // woken to fail
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
		case <-deadline:
			writeJSONTest(w, map[string]any{"revocations": []any{}, "cursor": max(cursor, after)})
			return
		case <-r.Context().Done():
			return
		}
	}
}

func (f *fakeIssuer) revoke(id string) {
	f.mu.Lock()
	f.revs = append(f.revs, map[string]any{"seq": len(f.revs) + 1, "id": id, "exp": time.Now().Add(time.Hour).Unix()})
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()
}

func (f *fakeIssuer) addKey(kid, alg string, k crypto.Signer) {
	f.mu.Lock()
	f.keys[kid], f.algs[kid] = k, alg
	f.mu.Unlock()
}

func (f *fakeIssuer) verifier(t testing.TB, mod ...func(*Config)) *Verifier {
	t.Helper()
	cfg := Config{Issuer: f.issuer(), ClientID: f.clientID, APIKey: f.apiKey}
	for _, m := range mod {
		m(&cfg)
	}
	v, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = v.Close() })
	return v
}

// claims returns the claims of a valid token of the given use.
func (f *fakeIssuer) claims(use string) map[string]any {
	now := time.Now().Unix()
	c := map[string]any{
		"sub": "8c0a6f7e-4d8b-4a39-9b7b-2f1f3e2e9c11", "event_id": "e1", "token_use": use,
		"auth_time": now, "iss": f.issuer(), "exp": now + 3600, "iat": now,
		"jti": "jti-" + strconv.FormatInt(time.Now().UnixNano(), 36), "origin_jti": "session-1",
		"cognito:groups": []string{"staff"},
	}
	if use == "id" {
		c["aud"], c["cognito:username"], c["email"], c["email_verified"] = f.clientID, "alice", "alice@example.com", true
	} else {
		c["client_id"], c["username"], c["scope"] = f.clientID, "alice", "aws.cognito.signin.user.admin"
	}
	return c
}

// sign makes a compact JWS with any header and claims, signed by the key
// of kid with alg (which need not be the key's: attacks use that).
func sign(t testing.TB, k crypto.Signer, header map[string]any, claims any) string {
	t.Helper()
	hb, _ := json.Marshal(header)
	var pb []byte
	switch c := claims.(type) {
	case string:
		pb = []byte(c)
	default:
		pb, _ = json.Marshal(c)
	}
	enc := base64.RawURLEncoding.EncodeToString
	input := enc(hb) + "." + enc(pb)
	var sig []byte
	h := sha256.Sum256([]byte(input))
	switch p := k.(type) {
	case *rsa.PrivateKey:
		sig, _ = rsa.SignPKCS1v15(nil, p, crypto.SHA256, h[:])
	case *ecdsa.PrivateKey:
		r, s, _ := ecdsa.Sign(rand.Reader, p, h[:])
		sig = make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
	case ed25519.PrivateKey:
		sig = ed25519.Sign(p, []byte(input))
	case nil:
	}
	return input + "." + enc(sig)
}

func (f *fakeIssuer) token(t testing.TB, kid, use string, mod func(map[string]any)) string {
	c := f.claims(use)
	if mod != nil {
		mod(c)
	}
	f.mu.Lock()
	k, alg := f.keys[kid], f.algs[kid]
	f.mu.Unlock()
	return sign(t, k, map[string]any{"kid": kid, "alg": alg}, c)
}

func TestVerifyEveryAlgorithm(t *testing.T) {
	f := newFakeIssuer(t)
	v := f.verifier(t)
	for _, kid := range []string{"rsa1", "ec1", "ed1"} {
		c, err := v.VerifyAccess(f.token(t, kid, "access", nil))
		if err != nil || c.Name() != "alice" || !c.InGroup("staff") || c.TokenUse != "access" {
			t.Errorf("%s access: %+v, %v", kid, c, err)
		}
		c, err = v.VerifyID(f.token(t, kid, "id", nil))
		if err != nil || c.Name() != "alice" || c.Aud != f.clientID || *c.Email != "alice@example.com" {
			t.Errorf("%s id: %+v, %v", kid, c, err)
		}
		if c, err := v.Verify(f.token(t, kid, "id", nil)); err != nil || c.TokenUse != "id" {
			t.Errorf("%s Verify: %v", kid, err)
		}
	}
	c, err := v.VerifyAccess(f.token(t, "rsa1", "access", func(c map[string]any) {
		c["act"] = map[string]any{"sub": "admin-sub", "username": "root"}
	}))
	if err != nil || c.Act == nil || c.Act.Username != "root" || c.Act.Sub != "admin-sub" {
		t.Fatalf("act: %+v %v", c, err)
	}
}

func TestVerifyRefusesAttacks(t *testing.T) {
	f := newFakeIssuer(t)
	v := f.verifier(t)
	good := f.token(t, "rsa1", "access", nil)
	parts := strings.Split(good, ".")
	enc := base64.RawURLEncoding.EncodeToString
	pubDER, _ := x509.MarshalPKIXPublicKey(rsaKey.Public())
	hs256 := func(secret []byte) string {
		hb, _ := json.Marshal(map[string]any{"kid": "rsa1", "alg": "HS256"})
		in := enc(hb) + "." + parts[1]
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(in))
		return in + "." + enc(m.Sum(nil))
	}
	noneHeader, _ := json.Marshal(map[string]any{"kid": "rsa1", "alg": "none"})
	changed := f.claims("access")
	changed["sub"] = "someone-else"
	changedPayload, _ := json.Marshal(changed)
	attacker := mustRSA()
	mod := func(m func(map[string]any)) string { return f.token(t, "rsa1", "access", m) }
	now := time.Now().Unix()

	cases := []struct {
		name string
		tok  string
		want error
	}{
		{"alg none", enc(noneHeader) + "." + parts[1] + ".", ErrMalformed},
		{"alg none with signature", enc(noneHeader) + "." + parts[1] + "." + parts[2], ErrAlgorithm},
		{"HS256 with the RSA public key (DER)", hs256(pubDER), ErrAlgorithm},
		{"HS256 with the JWK n", hs256([]byte(enc(rsaKey.N.Bytes()))), ErrAlgorithm},
		{"changed payload", parts[0] + "." + enc(changedPayload) + "." + parts[2], ErrSignature},
		{"truncated signature", good[:len(good)-10], ErrSignature},
		{"unknown kid", sign(t, attacker, map[string]any{"kid": "attacker", "alg": "RS256"}, f.claims("access")), ErrUnknownKey},
		{"path kid", sign(t, attacker, map[string]any{"kid": "../../jwks", "alg": "RS256"}, f.claims("access")), ErrMalformed},
		{"known kid, attacker's key", sign(t, attacker, map[string]any{"kid": "rsa1", "alg": "RS256"}, f.claims("access")), ErrSignature},
		{"embedded jwk", sign(t, attacker, map[string]any{"kid": "rsa1", "alg": "RS256", "jwk": map[string]any{"kty": "RSA"}}, f.claims("access")), ErrMalformed},
		{"jku", sign(t, attacker, map[string]any{"kid": "rsa1", "alg": "RS256", "jku": "http://evil"}, f.claims("access")), ErrMalformed},
		{"alg of another key", sign(t, ecKey, map[string]any{"kid": "rsa1", "alg": "ES256"}, f.claims("access")), ErrAlgorithm},
		{"ID token as access", f.token(t, "rsa1", "id", nil), ErrInvalidClaims},
		{"another issuer", mod(func(c map[string]any) { c["iss"] = "https://evil/local_test" }), ErrInvalidClaims},
		{"another client", mod(func(c map[string]any) { c["client_id"] = "zzzzzzzzzzzzzzzzzzzzzzzzzz" }), ErrInvalidClaims},
		{"expired", mod(func(c map[string]any) { c["exp"], c["iat"] = now-61, now-3700 }), ErrExpired},
		{"nbf in the future", mod(func(c map[string]any) { c["nbf"] = now + 120 }), ErrInvalidClaims},
		{"iat far in the future", mod(func(c map[string]any) { c["iat"], c["exp"] = now+3600, now+7200 }), ErrInvalidClaims},
		{"no jti", mod(func(c map[string]any) { delete(c, "jti") }), ErrInvalidClaims},
		{"no origin_jti", mod(func(c map[string]any) { delete(c, "origin_jti") }), ErrInvalidClaims},
		{"no exp", mod(func(c map[string]any) { delete(c, "exp") }), ErrInvalidClaims},
		{"no sub", mod(func(c map[string]any) { c["sub"] = "" }), ErrInvalidClaims},
		{"token_use refresh", mod(func(c map[string]any) { c["token_use"] = "refresh" }), ErrInvalidClaims},
		{"fractional exp", sign(t, rsaKey, map[string]any{"kid": "rsa1", "alg": "RS256"}, strings.Replace(string(mustJSON(f.claims("access"))), `"exp":`, `"exp":1.5e9,"x":`, 1)), ErrMalformed},
		{"repeated claim", sign(t, rsaKey, map[string]any{"kid": "rsa1", "alg": "RS256"}, strings.Replace(string(mustJSON(f.claims("access"))), `{`, `{"sub":"other",`, 1)), ErrMalformed},
		{"oversized", sign(t, rsaKey, map[string]any{"kid": "rsa1", "alg": "RS256"}, mod2(f.claims("access"), "pad", strings.Repeat("x", MaxTokenLen))), ErrMalformed},
		{"four segments", good + ".x", ErrMalformed},
		{"not base64url", "a+b.c.d", ErrMalformed},
		{"empty", "", ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := v.VerifyAccess(c.tok)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
	if _, err := v.VerifyID(good); !errors.Is(err, ErrInvalidClaims) {
		t.Errorf("access token as ID token: %v", err)
	}
	if _, err := v.VerifyAccess(good); err != nil {
		t.Fatalf("the good token: %v", err)
	}
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

func mod2(c map[string]any, k string, v any) map[string]any { c[k] = v; return c }

func TestUnknownKidRefetchIsRateLimited(t *testing.T) {
	f := newFakeIssuer(t)
	v := f.verifier(t, func(c *Config) { c.KeyRefetchEvery = 300 * time.Millisecond })
	base := f.jwksHit.Load()
	attacker := mustRSA()
	forged := sign(t, attacker, map[string]any{"kid": "forged", "alg": "RS256"}, f.claims("access"))
	start := time.Now()
	for range 200 {
		_, _ = v.VerifyAccess(forged)
	}
	allowed := 1 + int64(time.Since(start)/(300*time.Millisecond))
	if n := f.jwksHit.Load() - base; n > allowed {
		t.Fatalf("200 forged kids in %v caused %d JWKS fetches, want at most %d", time.Since(start), n, allowed)
	}
	// A key published later (rotation) is picked up on first sight once
	// the rate limit allows.
	f.addKey("rsa2", jose.AlgRS256, rsaKey2)
	time.Sleep(350 * time.Millisecond)
	if _, err := v.VerifyAccess(f.token(t, "rsa2", "access", nil)); err != nil {
		t.Fatalf("new kid: %v", err)
	}
}

func TestRevocationReachesVerifier(t *testing.T) {
	f := newFakeIssuer(t)
	f.revoke("session-old") // in force before the verifier starts
	v := f.verifier(t)
	if _, err := v.VerifyAccess(f.token(t, "rsa1", "access", func(c map[string]any) { c["origin_jti"] = "session-old" })); !errors.Is(err, ErrRevoked) {
		t.Fatalf("revocation made before New: %v", err)
	}
	tok := f.token(t, "rsa1", "access", nil)
	if _, err := v.VerifyAccess(tok); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	f.revoke("session-1")
	for {
		_, err := v.VerifyAccess(tok)
		if errors.Is(err, ErrRevoked) {
			t.Logf("revocation reached the verifier after %v", time.Since(start))
			break
		}
		if time.Since(start) > time.Second {
			t.Fatalf("not revoked after 1 s: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
	// jti revocations too.
	tok = f.token(t, "rsa1", "access", func(c map[string]any) { c["jti"], c["origin_jti"] = "jti-x", "session-2" })
	f.revoke("jti-x")
	time.Sleep(200 * time.Millisecond)
	if _, err := v.VerifyAccess(tok); !errors.Is(err, ErrRevoked) {
		t.Fatalf("revoked jti: %v", err)
	}
	if s := v.Stats(); s.Revoked != 3 || s.Cursor != 3 || s.Stale {
		t.Fatalf("stats = %+v", s)
	}
}

func TestFeedOutageFailsClosed(t *testing.T) {
	for _, open := range []bool{false, true} {
		t.Run(fmt.Sprintf("FailOpen=%v", open), func(t *testing.T) {
			f := newFakeIssuer(t)
			v := f.verifier(t, func(c *Config) { c.FeedMaxStale = 2 * time.Second; c.FailOpen = open })
			tok := f.token(t, "rsa1", "access", nil)
			f.revoke("revoked-before")
			time.Sleep(100 * time.Millisecond)
			f.down.Store(true)
			f.mu.Lock() // wake the long poll so that it fails
			close(f.changed)
			f.changed = make(chan struct{})
			f.mu.Unlock()
			if _, err := v.VerifyAccess(tok); err != nil {
				t.Fatalf("within FeedMaxStale: %v", err)
			}
			start := time.Now()
			for !v.Stats().Stale {
				if time.Since(start) > 5*time.Second {
					t.Fatal("never stale")
				}
				time.Sleep(50 * time.Millisecond)
			}
			t.Logf("stale after %v of outage", time.Since(start))
			_, err := v.VerifyAccess(tok)
			s := v.Stats()
			if open {
				if err != nil || !s.FailOpen || s.FailClosed {
					t.Fatalf("fail open: %v %+v", err, s)
				}
				// Known revocations still hold.
				if _, err := v.VerifyAccess(f.token(t, "rsa1", "access", func(c map[string]any) { c["origin_jti"] = "revoked-before" })); !errors.Is(err, ErrRevoked) {
					t.Fatalf("fail open forgot a revocation: %v", err)
				}
			} else if !errors.Is(err, ErrUnavailable) || !s.FailClosed || s.FeedErrors == 0 {
				t.Fatalf("fail closed: %v %+v", err, s)
			}
			// Recovery: the feed answers again, verification resumes.
			f.down.Store(false)
			start = time.Now()
			for {
				if _, err := v.VerifyAccess(tok); err == nil {
					break
				}
				if time.Since(start) > 3*time.Second {
					t.Fatal("did not recover")
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	f := newFakeIssuer(t)
	for name, cfg := range map[string]Config{
		"no issuer":     {ClientID: "c", APIKey: "k"},
		"no client":     {Issuer: f.issuer(), APIKey: "k"},
		"no key":        {Issuer: f.issuer(), ClientID: "c"},
		"wrong key":     {Issuer: f.issuer(), ClientID: "c", APIKey: "wrong"},
		"wrong issuer":  {Issuer: f.srv.URL + "/local_test/", ClientID: "c", APIKey: f.apiKey},
		"not an issuer": {Issuer: f.srv.URL + "/nothing", ClientID: "c", APIKey: f.apiKey},
	} {
		if _, err := New(context.Background(), cfg); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

func TestMiddleware(t *testing.T) {
	f := newFakeIssuer(t)
	v := f.verifier(t)
	h := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := ClaimsFrom(r.Context())
		if !ok {
			t.Error("no claims in context")
		}
		act := ""
		if c.Act != nil {
			act = c.Act.Username
		}
		fmt.Fprintf(w, "%s %s %s", c.TokenUse, c.Name(), act)
	}))
	id, access := f.token(t, "rsa1", "id", nil), f.token(t, "rsa1", "access", nil)
	other := f.token(t, "rsa1", "access", func(c map[string]any) { c["origin_jti"] = "session-9" })
	imp := f.token(t, "ed1", "access", func(c map[string]any) { c["act"] = map[string]any{"sub": "s", "username": "admin"} })
	cases := []struct {
		name    string
		headers []string
		status  int
		body    string
	}{
		{"original API", []string{"X-API-Key", "k", "Authorization", id, "AccessToken", access}, 200, "id alice "},
		{"ID token only", []string{"X-API-Key", "k", "Authorization", id}, 200, "id alice "},
		{"ID token as Bearer", []string{"X-API-Key", "k", "Authorization", "Bearer " + id}, 200, "id alice "},
		{"bearer access token", []string{"X-API-Key", "k", "Authorization", "Bearer " + access}, 200, "access alice "},
		{"impersonated", []string{"X-API-Key", "k", "Authorization", "Bearer " + imp}, 200, "access alice admin"},
		{"no API key", []string{"Authorization", id}, 403, "Forbidden"},
		{"no token", []string{"X-API-Key", "k"}, 401, "Missing Authorization token"},
		{"bad token", []string{"X-API-Key", "k", "Authorization", id + "x"}, 401, "Invalid or expired Authorization token"},
		{"bad AccessToken", []string{"X-API-Key", "k", "Authorization", id, "AccessToken", id}, 401, "Invalid or expired AccessToken"},
		{"other session", []string{"X-API-Key", "k", "Authorization", id, "AccessToken", other}, 401, "Tokens do not belong to the same session"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/x", nil)
			for i := 0; i < len(c.headers); i += 2 {
				req.Header.Set(c.headers[i], c.headers[i+1])
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.status, rec.Body)
			}
			if c.status == 200 {
				if rec.Body.String() != c.body {
					t.Fatalf("body %q, want %q", rec.Body, c.body)
				}
				return
			}
			var e struct{ Status, Message string }
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Status != "error" || e.Message != c.body ||
				rec.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("error body %s (%v)", rec.Body, err)
			}
		})
	}
}

// TestImportsOnlyStandardLibrary keeps verify importable by any resource
// server without pulling in actas's storage or anything else: verify may
// import the standard library and github.com/actas-dev/actas/jose, which
// in turn may import only the standard library. Every other package,
// actas's own included, is refused.
func TestImportsOnlyStandardLibrary(t *testing.T) {
	const josePath = "github.com/actas-dev/actas/jose"
	for dir, allowed := range map[string]string{
		".":       josePath, // verify
		"../jose": "",       // jose: the standard library only
	} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no Go files (%v)", dir, err)
		}
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range f.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				if path == allowed {
					continue
				}
				if first := strings.Split(path, "/")[0]; strings.Contains(first, ".") {
					t.Errorf("%s imports %s: verify may use only the standard library and %s, and jose only the standard library", name, path, josePath)
				}
			}
		}
	}
}

// BenchmarkVerifyAccess measures the request path: an RS256 access token
// against a populated revocation set, no network.
func BenchmarkVerifyAccess(b *testing.B) {
	f := newFakeIssuer(b)
	v := f.verifier(b)
	v.revMu.Lock()
	for i := range 100_000 {
		v.revoked["revoked-"+strconv.Itoa(i)] = time.Now().Add(time.Hour).Unix()
	}
	v.revMu.Unlock()
	tok := f.token(b, "rsa1", "access", nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.VerifyAccess(tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRSAVerifyRaw is the bound: one RSA-2048 PKCS#1 v1.5 check of a
// SHA-256 digest, which no RS256 verifier can beat.
func BenchmarkRSAVerifyRaw(b *testing.B) {
	h := sha256.Sum256([]byte("header.payload"))
	sig, err := rsa.SignPKCS1v15(nil, rsaKey, crypto.SHA256, h[:])
	if err != nil {
		b.Fatal(err)
	}
	pub := &rsaKey.PublicKey
	for b.Loop() {
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyAccessVsRaw runs the two above alternately, one of each
// per iteration, so that noise from other processes hits both alike, and
// reports raw/verify as "ratio" (1.0: verify costs no more than the RSA
// check itself).
func BenchmarkVerifyAccessVsRaw(b *testing.B) {
	f := newFakeIssuer(b)
	v := f.verifier(b)
	v.revMu.Lock()
	for i := range 100_000 {
		v.revoked["revoked-"+strconv.Itoa(i)] = time.Now().Add(time.Hour).Unix()
	}
	v.revMu.Unlock()
	tok := f.token(b, "rsa1", "access", nil)
	h := sha256.Sum256([]byte(tok[:strings.LastIndexByte(tok, '.')]))
	sig, _ := rsa.SignPKCS1v15(nil, rsaKey, crypto.SHA256, h[:])
	var raw, full time.Duration
	for b.Loop() {
		t0 := time.Now()
		if err := rsa.VerifyPKCS1v15(&rsaKey.PublicKey, crypto.SHA256, h[:], sig); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := v.VerifyAccess(tok); err != nil {
			b.Fatal(err)
		}
		raw, full = raw+t1.Sub(t0), full+time.Since(t1)
	}
	b.ReportMetric(float64(raw)/float64(full), "ratio")
	b.ReportMetric(float64(full-raw)/float64(b.N), "overhead-ns/op")
}
