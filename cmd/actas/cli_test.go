package main

import (
	"context"
	"encoding/json"
	"github.com/actas-dev/actas/token"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

func TestCLIScriptingContract(t *testing.T) {
	h := newHarness(t)

	out, errOut, code := h.cli("", "tenant", "create", "acme", "--endpoint-url", "https://api.acme.example/v1", "--public-url", "https://auth.example", "--json")
	if code != 0 {
		t.Fatalf("tenant create: %d %s", code, errOut)
	}
	var ten map[string]any
	if err := json.Unmarshal([]byte(out), &ten); err != nil {
		t.Fatalf("tenant create --json: %v: %q", err, out)
	}
	keysOf := func(m map[string]any) []string {
		var k []string
		for x := range m {
			k = append(k, x)
		}
		slices.Sort(k)
		return k
	}
	if got := keysOf(ten); !slices.Equal(got, []string{"apiKey", "clientId", "endpointUrl", "issuer", "name", "userPoolId"}) {
		t.Errorf("tenant create --json keys = %v", got)
	}
	if ten["issuer"] != "https://auth.example/"+ten["userPoolId"].(string) {
		t.Errorf("issuer = %v, want --public-url + userPoolId", ten["issuer"])
	}
	if ten["name"] != "acme" || ten["endpointUrl"] != "https://api.acme.example/v1" {
		t.Errorf("tenant = %v", ten)
	}
	if !strings.HasPrefix(ten["userPoolId"].(string), "local_") || len(ten["userPoolId"].(string)) != len("local_")+9 {
		t.Errorf("userPoolId %v is not local_<9 alphanumerics>", ten["userPoolId"])
	}
	if cid := ten["clientId"].(string); len(cid) != 26 || strings.ToLower(cid) != cid {
		t.Errorf("clientId %q is not 26 lowercase alphanumerics", cid)
	}

	out, _, code = h.cli("", "apikey", "create", "--tenant", "acme", "--name", "ci", "--json")
	var key map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &key) != nil || !slices.Equal(keysOf(key), []string{"apiKey", "id"}) {
		t.Fatalf("apikey create --json: %d %q", code, out)
	}
	out, _, _ = h.cli("", "apikey", "list", "--tenant", "acme", "--json")
	if strings.Contains(out, key["apiKey"].(string)) || strings.Contains(out, ten["apiKey"].(string)) {
		t.Fatal("apikey list shows a secret")
	}
	if !strings.Contains(out, key["id"].(string)) {
		t.Fatalf("apikey list lacks the new key: %s", out)
	}

	out, _, code = h.cli("s3cret-password\n", "user", "create", "--tenant", "acme", "--username", "Op", "--password-stdin", "--group", "impersonator", "--group", "admin", "--json")
	var user map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &user) != nil {
		t.Fatalf("user create --json: %d %q", code, out)
	}
	// The username is stored in its canonical form (RFC 8265
	// UsernameCaseMapped, SPEC §10).
	if !slices.Equal(keysOf(user), []string{"groups", "sub", "username"}) || user["username"] != "op" {
		t.Errorf("user create --json = %v", user)
	}
	if g := user["groups"].([]any); len(g) != 2 || g[0] != "admin" || g[1] != "impersonator" {
		t.Errorf("groups = %v", g)
	}
	out, _, code = h.cli("", "user", "create", "--tenant", "acme", "--username", "plain", "--password", "plain-password", "--json")
	if code != 0 || !strings.Contains(out, `"groups":[]`) {
		t.Errorf("user without groups: %d %s (want \"groups\":[])", code, out)
	}

	// Failures the user can fix: exit 1, one line on stderr, nothing on stdout.
	fail := [][]string{
		{"tenant", "create", "acme"}, // exists
		{"user", "create", "--tenant", "acme", "--username", "op", "--password", "other-password"}, // case-insensitive clash
		{"user", "create", "--tenant", "nope", "--username", "x", "--password", "long-enough"},
		{"user", "create", "--tenant", "acme", "--username", "x", "--password-stdin"}, // empty password
		{"user", "show", "--tenant", "acme", "--username", "ghost"},
		{"apikey", "revoke", "nonexistent"},
		{"session", "revoke", "nonexistent"},
		{"tenant", "set", "acme", "access_ttl=1m"},
		{"tenant", "show", "nope"},
	}
	for _, args := range fail {
		out, errOut, code := h.cli("", append(args, "--json")...)
		if code != 1 || out != "" || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || errOut == "" {
			t.Errorf("actas %v: exit %d, stdout %q, stderr %q; want 1, nothing, one line", args, code, out, errOut)
		}
	}
	// Bad usage: exit 2.
	usage := [][]string{
		{"frobnicate"},
		{"tenant", "create"},
		{"tenant", "create", "a", "b"},
		{"user", "create", "--tenant", "acme"},
		{"user", "create", "--tenant", "acme", "--username", "x"},
		{"apikey", "create"},
		{"serve", "--no-such-flag"},
		{"tenant", "set", "acme", "nonsense"},
		{"audit", "--since", "yesterday-ish"},
		{"tenant"},
		{"tenant", "bogus"},
		{"user", "groups", "bogus"},
		{"session"},
		{"keys", "nope", "--json"},
	}
	for _, args := range usage {
		if _, _, code := h.cli("", args...); code != 2 {
			t.Errorf("actas %v: exit %d, want 2", args, code)
		}
	}

	out, _, code = h.cli("", "tenant", "set", "acme", "access_ttl=30m", "refresh_rotation=true", "--json")
	if code != 0 || !strings.Contains(out, `"access_ttl":"30m0s"`) || !strings.Contains(out, `"refresh_rotation":true`) {
		t.Errorf("tenant set: %d %s", code, out)
	}
	out, _, _ = h.cli("", "tenant", "list", "--json")
	if !strings.Contains(out, `"name":"acme"`) {
		t.Errorf("tenant list: %s", out)
	}
	out, _, _ = h.cli("", "keys", "list", "--tenant", "acme", "--json")
	var keys struct {
		Keys []map[string]any `json:"keys"`
	}
	if json.Unmarshal([]byte(out), &keys) != nil || len(keys.Keys) != 2 {
		t.Fatalf("keys list: %s", out)
	}
	if strings.Contains(out, "PRIVATE") || strings.Contains(out, "private") {
		t.Fatal("keys list shows private key material")
	}
	out, _, _ = h.cli("", "keys", "genmaster")
	if len(strings.TrimSpace(out)) != 44 {
		t.Errorf("genmaster printed %q, want 44 base64 characters", out)
	}
}

func TestMasterKeyRequiredToReadKeys(t *testing.T) {
	h := newHarness(t)
	h.createTenant("acme")
	h.env["ACTAS_MASTER_KEY"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	h.serve()
	// The server starts, but no token can be signed with a wrong master key.
	r := h.do("GET", "/"+"local_x/.well-known/jwks.json", nil)
	if r.status != 404 {
		t.Errorf("unknown pool: %d", r.status)
	}
	out, _, _ := h.cli("", "tenant", "show", "acme", "--json")
	var ten map[string]any
	_ = json.Unmarshal([]byte(out), &ten)
	// JWKS is made of public keys only: it needs no master key.
	r = h.do("GET", "/"+ten["userPoolId"].(string)+"/.well-known/jwks.json", nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"kid"`) {
		t.Fatalf("JWKS with the wrong master key: %d %s, want 200 with the public keys", r.status, r.body)
	}
	// Readiness opens a private key, and says the keys are unusable.
	r = h.do("GET", "/readyz", nil)
	if r.status != 503 || !strings.Contains(string(r.body), "signing_keys") {
		t.Fatalf("readyz with the wrong master key: %d %s, want 503 naming signing_keys", r.status, r.body)
	}
	if strings.Contains(string(r.body), "cipher") || strings.Contains(string(r.body), "master") {
		t.Errorf("internal detail leaked: %s", r.body)
	}
}

func TestGoOIDCVerifiesIDToken(t *testing.T) {
	h, ten := setup(t)
	s := sessionOf(t, h.signIn(ten.APIKey, "alice", "alice-password"))
	ctx := oidc.ClientContext(context.Background(), http.DefaultClient)
	issuer := h.url + "/" + ten.UserPoolID
	p, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatalf("go-oidc discovery: %v", err)
	}
	v := p.Verifier(&oidc.Config{ClientID: ten.ClientID, Now: h.clock.Now})
	idt, err := v.Verify(ctx, str(s, "authorization"))
	if err != nil {
		t.Fatalf("go-oidc rejects the ID token: %v", err)
	}
	var claims struct {
		Username string `json:"cognito:username"`
		TokenUse string `json:"token_use"`
	}
	if err := idt.Claims(&claims); err != nil || claims.Username != "alice" || claims.TokenUse != "id" {
		t.Fatalf("claims %+v, %v", claims, err)
	}
	// Another client id is refused.
	if _, err := p.Verifier(&oidc.Config{ClientID: "someone-else", Now: h.clock.Now}).Verify(ctx, str(s, "authorization")); err == nil {
		t.Error("go-oidc accepted the ID token for another client")
	}
	// The access token is signed by another key and has no aud: refused.
	if _, err := v.Verify(ctx, str(s, "accessToken")); err == nil {
		t.Error("go-oidc accepted the access token as an ID token")
	}
	// One hour later it has expired.
	h.clock.Advance(time.Hour + 2*time.Minute)
	if _, err := v.Verify(ctx, str(s, "authorization")); err == nil {
		t.Error("go-oidc accepted an ID token past its 1 h lifetime")
	}

	// Discovery and JWKS are cacheable and complete.
	r := h.do("GET", "/"+ten.UserPoolID+"/.well-known/openid-configuration", nil)
	d := r.json(t)
	if d["issuer"] != issuer || d["jwks_uri"] != issuer+"/.well-known/jwks.json" {
		t.Errorf("discovery = %v", d)
	}
	r = h.do("GET", "/"+ten.UserPoolID+"/.well-known/jwks.json", nil)
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(r.body, &set); err != nil || len(set.Keys) != 2 {
		t.Fatalf("JWKS: %v %s", err, r.body)
	}
	for _, k := range set.Keys {
		if _, ok := k["d"]; ok {
			t.Fatal("JWKS publishes a private key")
		}
	}
	if !strings.Contains(r.header.Get("Cache-Control"), "max-age") {
		t.Errorf("JWKS Cache-Control = %q", r.header.Get("Cache-Control"))
	}
}

func TestKeyRotationKeepsOldTokensVerifiable(t *testing.T) {
	h, ten := setup(t)
	before := sessionOf(t, h.signIn(ten.APIKey, "alice", "alice-password"))
	oldKid := headerOf(t, str(before, "authorization"))["kid"]

	out, errOut, code := h.cli("", "keys", "rotate", "--tenant", "acme", "--delay", "10m", "--json")
	if code != 0 {
		t.Fatalf("rotate: %s", errOut)
	}
	var rot struct {
		Keys []map[string]any `json:"keys"`
	}
	if json.Unmarshal([]byte(out), &rot) != nil || len(rot.Keys) != 2 || rot.Keys[0]["state"] != "next" {
		t.Fatalf("rotate --json: %s", out)
	}
	h.clock.Advance(31 * time.Second) // past the server's key cache

	jwks := func() string { return string(h.do("GET", "/"+ten.UserPoolID+"/.well-known/jwks.json", nil).body) }
	newKid := rot.Keys[0]["kid"].(string)
	if !strings.Contains(jwks(), newKid) || !strings.Contains(jwks(), oldKid.(string)) {
		t.Fatal("JWKS must hold the next key and the current one during the delay")
	}
	// Before the delay ends, the old key still signs.
	s := sessionOf(t, h.signIn(ten.APIKey, "alice", "alice-password"))
	if k := headerOf(t, str(s, "authorization"))["kid"]; k != oldKid {
		t.Fatalf("a next key signed before its activation: %v", k)
	}
	h.clock.Advance(10 * time.Minute)
	s = sessionOf(t, h.signIn(ten.APIKey, "alice", "alice-password"))
	if k := headerOf(t, str(s, "authorization"))["kid"]; k == oldKid {
		t.Fatal("the new key does not sign after its activation")
	}
	// Old tokens still verify with a stock library, new ones too.
	ctx := oidc.ClientContext(context.Background(), http.DefaultClient)
	p, err := oidc.NewProvider(ctx, h.url+"/"+ten.UserPoolID)
	if err != nil {
		t.Fatal(err)
	}
	v := p.Verifier(&oidc.Config{ClientID: ten.ClientID, Now: func() time.Time { return h.clock.Now().Add(-10 * time.Minute) }})
	if _, err := v.Verify(ctx, str(before, "authorization")); err != nil {
		t.Errorf("a token of the retired key no longer verifies: %v", err)
	}
	// After the retired key's tokens have all expired, it leaves JWKS.
	h.clock.Advance(time.Hour + time.Minute)
	if strings.Contains(jwks(), oldKid.(string)) {
		t.Error("retired key still published after its last token expired")
	}
}

func TestServeDevAndShutdown(t *testing.T) {
	h := newHarness(t)
	var out syncBuffer
	ready := make(chan string, 1)
	m := h.main(nil, &out, io.Discard)
	m.Ready = func(addr string) { ready <- addr }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- m.Run(ctx, []string{"serve", "--dev", "--db", h.db, "--addr", "127.0.0.1:0"}) }()
	var addr string
	select {
	case addr = <-ready:
	case <-time.After(20 * time.Second):
		t.Fatal("not ready")
	}
	text := out.String()
	for _, want := range []string{`tenant "demo"`, "API key:", "user demo", "user alice", "curl"} {
		if !strings.Contains(text, want) {
			t.Errorf("--dev output lacks %q:\n%s", want, text)
		}
	}
	// The printed credentials work.
	var key, pw string
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == "API" {
			key = f[2]
		}
		if len(f) >= 2 && f[0] == "user" && f[1] == "alice" {
			pw = f[len(f)-1]
		}
	}
	h.url = "http://" + addr
	h.signIn(key, "alice", pw)
	var users struct {
		Users []struct {
			Username string   `json:"username"`
			Groups   []string `json:"groups"`
		} `json:"users"`
	}
	h.mustCLI(&users, "user", "list", "--tenant", "demo")
	if len(users.Users) != 2 {
		t.Fatalf("users = %+v", users)
	}
	for _, u := range users.Users {
		if u.Username == "demo" && !slices.Contains(u.Groups, "impersonator") {
			t.Error("demo is not in group impersonator")
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exit %d after shutdown", code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
}

func TestProductionModeRequiresMasterKey(t *testing.T) {
	h := newHarness(t)
	delete(h.env, "ACTAS_MASTER_KEY")
	_, errOut, code := h.cli("", "serve", "--production", "--addr", "127.0.0.1:0")
	if code != 1 || !strings.Contains(errOut, "ACTAS_MASTER_KEY") {
		t.Fatalf("serve --production without a master key: exit %d, %q", code, errOut)
	}
	h.env["ACTAS_PRODUCTION"] = "true"
	if _, errOut, code := h.cli("", "serve", "--addr", "127.0.0.1:0"); code != 1 || !strings.Contains(errOut, "ACTAS_MASTER_KEY") {
		t.Fatalf("ACTAS_PRODUCTION=true without a master key: exit %d, %q", code, errOut)
	}
	h.env["ACTAS_MASTER_KEY"] = testMasterKey
	if _, _, code := h.cli("", "serve", "--dev", "--addr", "127.0.0.1:0"); code != 2 {
		t.Fatalf("--dev in production mode: exit %d, want 2", code)
	}
}

func TestSigningAlgorithmPerTenant(t *testing.T) {
	for _, alg := range []string{"ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			h, ten := setup(t)
			old := sessionOf(t, h.signIn(ten.APIKey, "alice", "alice-password"))
			h.mustCLI(nil, "tenant", "set", "acme", "signing_alg="+alg)
			h.clock.Advance(31 * time.Second) // past the server's tenant and key caches
			s := sessionOf(t, h.signIn(ten.APIKey, "alice", "alice-password"))
			for _, tok := range []string{str(s, "authorization"), str(s, "accessToken")} {
				if got := headerOf(t, tok)["alg"]; got != alg {
					t.Fatalf("alg = %v, want %s", got, alg)
				}
			}
			ctx := oidc.ClientContext(context.Background(), http.DefaultClient)
			p, err := oidc.NewProvider(ctx, h.url+"/"+ten.UserPoolID)
			if err != nil {
				t.Fatal(err)
			}
			v := p.Verifier(&oidc.Config{ClientID: ten.ClientID, Now: h.clock.Now, SupportedSigningAlgs: []string{"RS256", alg}})
			if _, err := v.Verify(ctx, str(s, "authorization")); err != nil {
				t.Fatalf("go-oidc rejects the %s ID token: %v", alg, err)
			}
			// Tokens of the retired RS256 key still verify until they expire,
			// and the new tokens work everywhere actas accepts them.
			if _, err := v.Verify(ctx, str(old, "authorization")); err != nil {
				t.Errorf("RS256 token of the retired key: %v", err)
			}
			if r := h.do("POST", "/auth/token", map[string]any{"session": s}, "X-API-Key", ten.APIKey); r.status != 200 {
				t.Errorf("refresh with %s access token: %d %s", alg, r.status, r.body)
			}
			if r := h.do("DELETE", "/auth/token", nil, "X-API-Key", ten.APIKey, "AccessToken", str(s, "accessToken")); r.status != 200 {
				t.Errorf("expire with %s access token: %d %s", alg, r.status, r.body)
			}
		})
	}
}

// TestChangesTakeEffectAtOnce: what the CLI changes in the store, a
// running server applies on the very next request.
func TestChangesTakeEffectAtOnce(t *testing.T) {
	h, ten := setup(t)
	var k struct{ ID, APIKey string }
	h.mustCLI(&k, "apikey", "create", "--tenant", "acme")
	h.signIn(k.APIKey, "alice", "alice-password")
	h.mustCLI(nil, "apikey", "revoke", k.ID)
	wantError(t, h.do("POST", "/auth/token", map[string]string{"username": "alice", "password": "alice-password"}, "X-API-Key", k.APIKey), 403, "Forbidden")

	first := h.signIn(ten.APIKey, "alice", "alice-password")
	h.mustCLI(nil, "tenant", "set", "acme", "refresh_rotation=true")
	r := h.do("POST", "/auth/token", first, "X-API-Key", ten.APIKey)
	if r.status != 200 || str(sessionOf(t, r.json(t)), "refreshToken") == str(sessionOf(t, first), "refreshToken") {
		t.Fatalf("rotation not applied at once: %d %s", r.status, r.body)
	}

	oldKid := headerOf(t, str(sessionOf(t, first), "accessToken"))["kid"]
	h.mustCLI(nil, "keys", "rotate", "--tenant", "acme")
	s := sessionOf(t, h.signIn(ten.APIKey, "alice", "alice-password"))
	if headerOf(t, str(s, "accessToken"))["kid"] == oldKid {
		t.Fatal("the rotated key still signs")
	}

	h.mustCLI(nil, "user", "disable", "--tenant", "acme", "--username", "alice")
	wantError(t, h.do("POST", "/auth/token", map[string]any{"session": s}, "X-API-Key", ten.APIKey), 401, "")
}

func TestPasswordMinLength(t *testing.T) {
	h := newHarness(t)
	h.createTenant("acme")
	// At least 8 characters by default (SPEC §8).
	if _, errOut, code := h.cli("", "user", "create", "--tenant", "acme", "--username", "a", "--password", "pw-7chr"); code != 1 ||
		strings.TrimSpace(errOut) != "actas: Password must be at least 8 characters" {
		t.Fatalf("short password by default: exit %d, stderr %q", code, errOut)
	}
	out, _, code := h.cli("", "user", "create", "--tenant", "acme", "--username", "a", "--password", "pw-8char", "--json")
	if code != 0 || !strings.HasPrefix(out, "{") {
		t.Fatalf("8 characters by default: exit %d, stdout %q", code, out)
	}
	for _, bad := range []string{"password_min_length=7", "password_min_length=129"} {
		if _, _, code := h.cli("", "tenant", "set", "acme", bad); code != 1 {
			t.Fatalf("tenant set %s: exit %d, want 1", bad, code)
		}
	}
	h.mustCLI(nil, "tenant", "set", "acme", "password_min_length=12")
	if _, errOut, code := h.cli("", "user", "create", "--tenant", "acme", "--username", "b", "--password", "elevenchars"); code != 1 || !strings.Contains(errOut, "at least 12") {
		t.Fatalf("below the tenant minimum: exit %d, %q", code, errOut)
	}
	if _, errOut, code := h.cli("", "user", "passwd", "--tenant", "acme", "--username", "a", "--password", "elevenchars"); code != 1 || !strings.Contains(errOut, "at least 12") {
		t.Fatalf("passwd below the tenant minimum: exit %d, %q", code, errOut)
	}
	if _, _, code := h.cli("", "user", "create", "--tenant", "acme", "--username", "b", "--password", "twelve-chars"); code != 0 {
		t.Fatalf("at the minimum: exit %d", code)
	}
}

// TestNoNewMasterKeyOverExistingKeys: without ACTAS_MASTER_KEY, a missing
// master.key is generated only for an empty database; over existing
// sealed keys it would lock them away, so it is an error.
func TestNoNewMasterKeyOverExistingKeys(t *testing.T) {
	h := newHarness(t)
	delete(h.env, "ACTAS_MASTER_KEY")
	h.createTenant("acme") // generates master.key beside the database
	keyFile := filepath.Join(filepath.Dir(strings.TrimPrefix(h.db, "sqlite:")), "master.key")
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := h.cli("", "tenant", "show", "acme")
	if code != 1 || !strings.Contains(errOut, "already holds keys") {
		t.Fatalf("missing master.key over existing keys: exit %d, %q", code, errOut)
	}
	if _, err := os.Stat(keyFile); err == nil {
		t.Fatal("a new master.key was written over a database with sealed keys")
	}
}

// TestMasterKeyFileCreatedOnce: processes starting together on a new data
// directory all end up with the one key that was written.
func TestMasterKeyFileCreatedOnce(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "master.key")
	var wg sync.WaitGroup
	keys := make([]string, 16)
	for i := range keys {
		wg.Go(func() {
			m := &Main{Stderr: io.Discard, Getenv: func(string) string { return "" }}
			k, err := m.masterKey(keyFile, nil)
			if err != nil {
				t.Error(err)
				return
			}
			keys[i] = string(k)
		})
	}
	wg.Wait()
	onDisk, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := token.ParseMasterKey(strings.TrimSpace(string(onDisk)))
	for i, k := range keys {
		if k != string(want) {
			t.Fatalf("caller %d got a master key that is not the one on disk", i)
		}
	}
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v; want 0600", fi.Mode(), err)
	}
}

// TestTokensExpireBeforeTheirKeyLeavesJWKS: a key retired by a pending
// rotation signs until its successor activates; raising access_ttl
// afterwards must not mint tokens that outlive the key's stay in JWKS.
func TestTokensExpireBeforeTheirKeyLeavesJWKS(t *testing.T) {
	h, ten := setup(t)
	var rot struct {
		Keys []struct {
			ActivateAt string `json:"activateAt"`
		} `json:"keys"`
	}
	h.mustCLI(&rot, "keys", "rotate", "--tenant", "acme", "--delay", "2h") // old keys stay in JWKS until 2h + 1h
	h.mustCLI(nil, "tenant", "set", "acme", "access_ttl=24h")
	s := sessionOf(t, h.signIn(ten.APIKey, "alice", "alice-password"))
	c := claimsOf(t, str(s, "accessToken"))
	if life := c["exp"].(float64) - c["iat"].(float64); life > 3*3600 {
		t.Fatalf("token lives %v s, beyond its retired key's stay in JWKS (3 h)", life)
	}
}
