package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// Findings of the §9 black-box audit, each pinned by a test.

// The Bearer scheme of the userinfo request is case-insensitive (RFC
// 7235 §2.1, RFC 6750 §2.1): "bearer" is accepted like "Bearer".
func TestBrowserSignInUserinfoSchemeCase(t *testing.T) {
	e := newOIDCEnv(t)
	web := e.client(t, "web", false, "https://web.example/cb")
	b := newBrowser(t)
	f := web.start(t)
	tok, _ := e.exchange(t, web, f, e.signIn(t, b, web, f, "alice", "correct horse battery"))
	for _, scheme := range []string{"Bearer", "bearer", "BEARER"} {
		req, _ := http.NewRequest("GET", e.ti.Issuer+"/oauth2/userinfo", nil)
		req.Header.Set("Authorization", scheme+" "+tok.AccessToken)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(body), `"username":"alice"`) {
			t.Errorf("userinfo with scheme %q: %d %s, want 200 with the user", scheme, res.StatusCode, body)
		}
	}
}
