package issuer

import (
	"net/url"
	"strings"
	"testing"

	"github.com/actas-dev/actas"
)

var redirectClient = &actas.OAuthClient{RedirectURIs: []string{
	"https://app.example/cb",
	"https://app.example:8443/cb?x=1",
	"http://127.0.0.1/loop",
	"http://[::1]/v6",
	"http://localhost:8080/dev",
}}

func TestMatchRedirectURI(t *testing.T) {
	for _, c := range []struct {
		uri  string
		want bool
	}{
		{"https://app.example/cb", true},
		{"https://app.example:8443/cb?x=1", true},
		{"http://127.0.0.1:5000/loop", true}, // RFC 8252 §7.3: any port
		{"http://127.0.0.1/loop", true},
		{"http://[::1]:65535/v6", true},
		// The classic bypasses.
		{"https://app.example:444/cb", false},            // another port
		{"https://app.example/cb/extra", false},          // extra path
		{"https://app.example/cb/../cb", false},          // dot segments
		{"https://app.example/cb?x=1", false},            // extra query
		{"https://app.example/cb#frag", false},           // fragment
		{"https://app.example@evil.example/cb", false},   // userinfo
		{"https://evil.example\\@app.example/cb", false}, // backslash
		{"https://app.example%2Fcb", false},              // encoded slash
		{"https://app.example/%63b", false},              // encoded character
		{"https://APP.example/cb", false},                // case
		{"http://app.example/cb", false},                 // scheme
		{"https://app.example.evil.example/cb", false},   // suffix
		{"http://127.0.0.1:5000@evil.example/loop", false},
		{"http://127.0.0.1:5000/loop/x", false},
		{"http://127.0.0.1:0/loop", false},
		{"http://127.0.0.1:99999/loop", false},
		{"http://127.0.0.1:05000/loop", false},
		{"http://127.0.0.1:/loop", false},
		{"http://127.0.0.2:5000/loop", false},
		{"http://localhost:9090/dev", false}, // a port is registered: exact only
		{"", false},
	} {
		if _, got := matchRedirectURI(redirectClient, c.uri); got != c.want {
			t.Errorf("matchRedirectURI(%q) = %v, want %v", c.uri, got, c.want)
		}
	}
}

func TestCheckRedirectURI(t *testing.T) {
	for _, c := range []struct {
		uri string
		ok  bool
	}{
		{"https://app.example/cb", true},
		{"http://127.0.0.1/cb", true},
		{"http://[::1]:8080/cb", true},
		{"http://localhost:3000/cb", true},
		{"http://app.example/cb", false},
		{"https://app.example/cb#x", false},
		{"https://user@app.example/cb", false},
		{"/relative", false},
		{"javascript:alert(1)", false},
		{"https://", false},
		{"https://app.example/a b", false},
		{"https://" + strings.Repeat("a", 2000) + ".example/", false},
	} {
		if err := checkRedirectURI(c.uri); (err == nil) != c.ok {
			t.Errorf("checkRedirectURI(%q) = %v, want ok=%v", c.uri, err, c.ok)
		}
	}
}

// FuzzMatchRedirectURI checks that a match is the registered URI or, for
// a port-less loopback one, the same URI with a port — never a URI to
// another host.
func FuzzMatchRedirectURI(f *testing.F) {
	for _, s := range []string{"https://app.example/cb", "http://127.0.0.1:5000/loop", "http://127.0.0.1:1@x/loop", "http://[::1]:80/v6"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		reg, ok := matchRedirectURI(redirectClient, uri)
		if !ok {
			return
		}
		if reg == uri {
			return
		}
		ru, err1 := url.Parse(reg)
		u, err2 := url.Parse(uri)
		if err1 != nil || err2 != nil || u.Hostname() != ru.Hostname() || u.Scheme != "http" || u.User != nil ||
			u.Path != ru.Path || u.RawQuery != ru.RawQuery || u.Fragment != "" {
			t.Fatalf("%q matched %q", uri, reg)
		}
	})
}

func FuzzParseScope(f *testing.F) {
	for _, s := range []string{"openid", "openid email profile offline_access", "email", "openid openid", " openid\tx"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := parseScope(s)
		if err != nil {
			return
		}
		if !hasScope(out, "openid") {
			t.Fatalf("parseScope(%q) = %q without openid", s, out)
		}
		for _, sc := range strings.Fields(out) {
			if !contains(knownScopes, sc) {
				t.Fatalf("parseScope(%q) = %q: unknown %q", s, out, sc)
			}
		}
	})
}
