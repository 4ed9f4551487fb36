package main

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/sqlite"
	"github.com/actas-dev/actas/token"
)

// forger signs arbitrary tokens with a tenant's real private keys, read
// from the database and unsealed with the test master key. A forged token
// with correct claims must be accepted (the control), so every refusal
// below is due to the one thing each attack changes.
type forger struct {
	t      *testing.T
	keys   map[string]*rsa.PrivateKey // by use
	kids   map[string]string          // by use
	pubDER []byte                     // the access key's public key
}

func newForger(t *testing.T, h *harness, poolID string) *forger {
	t.Helper()
	db, err := sqlite.Open(context.Background(), strings.TrimPrefix(h.db, "sqlite:"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ten, _, err := db.TenantByPoolID(context.Background(), poolID)
	if err != nil {
		t.Fatal(err)
	}
	mk, _ := token.ParseMasterKey(testMasterKey)
	sealer, _ := token.NewSealer(mk)
	sks, err := db.SigningKeys(context.Background(), ten.ID)
	if err != nil {
		t.Fatal(err)
	}
	f := &forger{t: t, keys: map[string]*rsa.PrivateKey{}, kids: map[string]string{}}
	for _, sk := range sks {
		der, err := sealer.Open(sk.PrivateEnc, []byte(sk.KID))
		if err != nil {
			t.Fatal(err)
		}
		k, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			t.Fatal(err)
		}
		f.keys[sk.Use], f.kids[sk.Use] = k.(*rsa.PrivateKey), sk.KID
		if sk.Use == actas.KeyUseAccess {
			f.pubDER = sk.PublicDER
		}
	}
	return f
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// raw assembles header.payload and signs it with the key of use (RS256).
func (f *forger) raw(use, header, payload string) string {
	in := b64([]byte(header)) + "." + b64([]byte(payload))
	d := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, f.keys[use], crypto.SHA256, d[:])
	if err != nil {
		f.t.Fatal(err)
	}
	return in + "." + b64(sig)
}

func (f *forger) sign(use string, claims map[string]any) string {
	p, _ := json.Marshal(claims)
	return f.raw(use, fmt.Sprintf(`{"kid":%q,"alg":"RS256"}`, f.kids[use]), string(p))
}

func cloneClaims(c map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range c {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

// TestTokenAttacks tries every token attack of the security issue against
// every place actas accepts a token: impersonation (both headers),
// refresh (session.accessToken), expire (AccessToken header) and token
// exchange (actor_token).
func TestTokenAttacks(t *testing.T) {
	h, ten, op := impSetup(t)
	h.lastPool = ten.UserPoolID
	f := newForger(t, h, ten.UserPoolID)
	os := sessionOf(t, op)
	idTok, accTok := str(os, "authorization"), str(os, "accessToken")
	acc, id := claimsOf(t, accTok), claimsOf(t, idTok)
	now := h.clock.Now().Unix()

	other := h.createTenant("other")
	h.createUser("other", "op", "op-password", "--group", "impersonator")
	foreign := sessionOf(t, h.signIn(other.APIKey, "op", "op-password"))
	of := newForger(t, h, other.UserPoolID)

	macPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: f.pubDER})
	hs256 := func(secret []byte) string {
		in := b64([]byte(fmt.Sprintf(`{"kid":%q,"alg":"HS256"}`, f.kids["access"]))) + "." + b64(mustJSON(acc))
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(in))
		return in + "." + b64(m.Sum(nil))
	}
	payloadSwapped := func() string {
		parts := strings.Split(accTok, ".")
		return parts[0] + "." + b64(mustJSON(cloneClaims(acc, "username", "boss"))) + "." + parts[2]
	}()

	// The control: a forged token with the right claims is accepted, so the
	// harness can tell acceptance from refusal.
	control := f.sign("access", acc)
	if r := h.do("POST", "/auth/impersonate", map[string]string{"username": "alice"}, "X-API-Key", ten.APIKey,
		"Authorization", idTok, "AccessToken", control); r.status != 200 {
		t.Fatalf("control: a correctly signed token was refused: %d %s", r.status, r.body)
	}

	attacks := []struct{ name, token string }{
		{"alg none", b64([]byte(fmt.Sprintf(`{"kid":%q,"alg":"none"}`, f.kids["access"]))) + "." + b64(mustJSON(acc)) + "."},
		{"alg none, no kid", b64([]byte(`{"alg":"none"}`)) + "." + b64(mustJSON(acc)) + "."},
		{"HS256 keyed with the public key (DER)", hs256(f.pubDER)},
		{"HS256 keyed with the public key (PEM)", hs256(macPEM)},
		{"RS512 header on an RS256 key", f.raw("access", fmt.Sprintf(`{"kid":%q,"alg":"RS512"}`, f.kids["access"]), string(mustJSON(acc)))},
		{"PS256 header", f.raw("access", fmt.Sprintf(`{"kid":%q,"alg":"PS256"}`, f.kids["access"]), string(mustJSON(acc)))},
		{"ES256 header", f.raw("access", fmt.Sprintf(`{"kid":%q,"alg":"ES256"}`, f.kids["access"]), string(mustJSON(acc)))},
		{"payload changed after signing", payloadSwapped},
		{"signature stripped", strings.Join(strings.Split(accTok, ".")[:2], ".") + "."},
		{"unknown kid", f.raw("access", `{"kid":"nope","alg":"RS256"}`, string(mustJSON(acc)))},
		{"path traversal kid", f.raw("access", `{"kid":"../../../../etc/passwd","alg":"RS256"}`, string(mustJSON(acc)))},
		{"SQL kid", f.raw("access", `{"kid":"' OR '1'='1' --","alg":"RS256"}`, string(mustJSON(acc)))},
		{"huge kid", f.raw("access", `{"kid":"`+strings.Repeat("k", 8000)+`","alg":"RS256"}`, string(mustJSON(acc)))},
		{"no kid", f.raw("access", `{"alg":"RS256"}`, string(mustJSON(acc)))},
		{"ID token as access token", idTok},
		{"access claims signed with the ID key", f.raw("id", fmt.Sprintf(`{"kid":%q,"alg":"RS256"}`, f.kids["id"]), string(mustJSON(acc)))},
		{"token_use id with the access key", f.sign("access", cloneClaims(acc, "token_use", "id"))},
		{"another tenant's token", str(foreign, "accessToken")},
		{"another tenant's key, our issuer", of.sign("access", acc)},
		{"wrong issuer", f.sign("access", cloneClaims(acc, "iss", "https://evil.example/"+ten.UserPoolID))},
		{"wrong client_id", f.sign("access", cloneClaims(acc, "client_id", other.ClientID))},
		{"expired", f.sign("access", cloneClaims(acc, "iat", now-7200, "exp", now-120))},
		{"not yet valid", f.sign("access", cloneClaims(acc, "nbf", now+600))},
		{"issued in the far future", f.sign("access", cloneClaims(acc, "iat", now+3600, "exp", now+7200))},
		{"no exp", f.sign("access", cloneClaims(acc, "exp", nil))},
		{"no jti", f.sign("access", cloneClaims(acc, "jti", nil))},
		{"no origin_jti", f.sign("access", cloneClaims(acc, "origin_jti", nil))},
		{"no sub", f.sign("access", cloneClaims(acc, "sub", nil))},
		{"exp as a string", f.sign("access", cloneClaims(acc, "exp", fmt.Sprint(now+3600)))},
		{"duplicate claims", f.raw("access", fmt.Sprintf(`{"kid":%q,"alg":"RS256"}`, f.kids["access"]),
			strings.TrimSuffix(string(mustJSON(acc)), "}")+`,"sub":"`+fmt.Sprint(claimsOf(t, idTok)["sub"])+`x"}`)},
		{"duplicate header alg", f.raw("access", fmt.Sprintf(`{"kid":%q,"alg":"RS256","alg":"none"}`, f.kids["access"]), string(mustJSON(acc)))},
		{"crit header", f.raw("access", fmt.Sprintf(`{"kid":%q,"alg":"RS256","crit":["exp"]}`, f.kids["access"]), string(mustJSON(acc)))},
		{"oversized", f.sign("access", cloneClaims(acc, "pad", strings.Repeat("x", 40_000)))},
		{"two segments", strings.Join(strings.Split(accTok, ".")[:2], ".")},
		{"four segments", accTok + ".x"},
		{"padding in base64", strings.Replace(accTok, ".", "=.", 1)},
		{"whitespace inside", strings.Replace(accTok, ".", ".\n", 1)},
	}
	_ = id
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			// Token exchange: as actor_token.
			form := url.Values{
				"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "actor_token": {a.token},
				"actor_token_type": {"urn:ietf:params:oauth:token-type:access_token"}, "subject_token": {"alice"},
				"subject_token_type": {"urn:actas:params:oauth:token-type:username"},
			}
			if r := h.exchange(ten.APIKey, form); r.status != 400 || r.json(t)["error"] != "invalid_grant" {
				t.Errorf("token exchange: %d %s", r.status, r.body)
			}
			if strings.ContainsAny(a.token, "\n") {
				return // cannot travel in a header
			}
			// Impersonation: a forged access token beside a genuine ID token.
			r := h.do("POST", "/auth/impersonate", map[string]string{"username": "alice"}, "X-API-Key", ten.APIKey,
				"Authorization", idTok, "AccessToken", a.token)
			wantError(t, r, 401, "")
			// Refresh: as session.accessToken beside the genuine refresh
			// token. (An expired access token of the same session is
			// accepted there by design: SPEC §3.)
			if a.name == "expired" {
				return
			}
			r = h.do("POST", "/auth/token", map[string]any{"session": map[string]string{
				"refreshToken": str(os, "refreshToken"), "accessToken": a.token}}, "X-API-Key", ten.APIKey)
			wantError(t, r, 401, "")
			// Expire: as the AccessToken header; nothing may be revoked.
			r = h.do("DELETE", "/auth/token", nil, "X-API-Key", ten.APIKey, "AccessToken", a.token)
			if r.status != 401 && r.status != 400 {
				t.Errorf("expire: %d %s", r.status, r.body)
			}
		})
	}
	// The forged attempts did not revoke or break the genuine session.
	if r := h.do("POST", "/auth/impersonate", map[string]string{"username": "alice"}, "X-API-Key", ten.APIKey,
		"Authorization", idTok, "AccessToken", accTok); r.status != 200 {
		t.Fatalf("the genuine session was harmed: %d %s", r.status, r.body)
	}

	t.Run("ID token attacks via Authorization", func(t *testing.T) {
		for name, tok := range map[string]string{
			"access token as ID token": accTok,
			"wrong aud":                f.sign("id", cloneClaims(id, "aud", other.ClientID)),
			"aud array of two":         f.sign("id", cloneClaims(id, "aud", []string{ten.ClientID, other.ClientID})),
			"expired":                  f.sign("id", cloneClaims(id, "iat", now-7200, "exp", now-120)),
			"other session":            f.sign("id", cloneClaims(id, "origin_jti", actas.NewID())),
			"other subject":            f.sign("id", cloneClaims(id, "sub", actas.NewID())),
		} {
			r := h.do("POST", "/auth/impersonate", map[string]string{"username": "alice"}, "X-API-Key", ten.APIKey,
				"Authorization", tok, "AccessToken", accTok)
			if r.status != 401 {
				t.Errorf("%s: %d %s", name, r.status, r.body)
			}
		}
	})
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// TestNoSecretsInLogs runs every operation, then looks for every secret it
// handled in everything the server and the CLI wrote.
func TestNoSecretsInLogs(t *testing.T) {
	h, ten, op := impSetup(t)
	var cliOut strings.Builder
	secrets := []string{ten.APIKey, "alice-password", "op-password", "boss-password", testMasterKey}
	os := sessionOf(t, op)
	secrets = append(secrets, str(os, "authorization"), str(os, "accessToken"), str(os, "refreshToken"))
	r := h.impersonate(ten.APIKey, op, map[string]string{"username": "alice", "reason": "x"})
	imp := sessionOf(t, r.json(t))
	secrets = append(secrets, str(imp, "accessToken"), str(imp, "authorization"))
	h.do("POST", "/auth/token", op, "X-API-Key", ten.APIKey)
	h.do("POST", "/auth/token", map[string]string{"username": "alice", "password": "wrong-password-123"}, "X-API-Key", ten.APIKey)
	secrets = append(secrets, "wrong-password-123")
	h.do("POST", "/auth/token", map[string]string{"username": "alice", "password": "alice-password"}, "X-API-Key", ten.APIKey+"x")
	h.do("DELETE", "/auth/token", op, "X-API-Key", ten.APIKey, "AccessToken", str(os, "accessToken"))
	for _, args := range [][]string{{"user", "list", "--tenant", "acme"}, {"session", "list", "--tenant", "acme", "--all"},
		{"audit"}, {"keys", "list"}, {"apikey", "list", "--tenant", "acme"}, {"tenant", "show", "acme"}} {
		out, errOut, _ := h.cli("", args...)
		cliOut.WriteString(out + errOut)
		out, errOut, _ = h.cli("", append(args, "--json")...)
		cliOut.WriteString(out + errOut)
	}
	time.Sleep(50 * time.Millisecond)
	all := h.logs.String() + cliOut.String()
	if !strings.Contains(h.logs.String(), "route=") {
		t.Fatal("no access log captured: the test would prove nothing")
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(all, s) {
			t.Errorf("a secret (%.12s…) appears in logs or CLI output", s)
		}
	}
	// Nor any fragment of a token's signature or a refresh token.
	if strings.Contains(all, "eyJ") {
		t.Error("something JWT-like appears in logs or CLI output")
	}
}

func TestSecurityHeadersEverywhere(t *testing.T) {
	h, ten := setup(t)
	s := h.signIn(ten.APIKey, "alice", "alice-password")
	for name, r := range map[string]response{
		"sign-in":      h.do("POST", "/auth/token", map[string]string{"username": "alice", "password": "alice-password"}, "X-API-Key", ten.APIKey),
		"refresh":      h.do("POST", "/auth/token", s, "X-API-Key", ten.APIKey),
		"error 403":    h.do("POST", "/auth/token", map[string]string{}),
		"error 404":    h.do("GET", "/nothing/here", nil),
		"discovery":    h.do("GET", "/"+ten.UserPoolID+"/.well-known/openid-configuration", nil),
		"jwks":         h.do("GET", "/"+ten.UserPoolID+"/.well-known/jwks.json", nil),
		"impersonate":  h.do("POST", "/auth/impersonate", map[string]string{"username": "x"}, "X-API-Key", ten.APIKey),
		"healthz":      h.do("GET", "/healthz", nil),
		"token (form)": h.do("POST", "/"+ten.UserPoolID+"/oauth2/token", "", "X-API-Key", ten.APIKey),
	} {
		if r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("X-Frame-Options") != "DENY" ||
			r.header.Get("X-Request-Id") == "" || r.header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s: security headers missing: %v", name, r.header)
		}
		if strings.HasPrefix(name, "sign-in") || name == "refresh" || name == "impersonate" || name == "token (form)" {
			if r.header.Get("Cache-Control") != "no-store" {
				t.Errorf("%s: Cache-Control %q, want no-store", name, r.header.Get("Cache-Control"))
			}
		}
	}
}
