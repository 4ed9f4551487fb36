package issuer

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/actas-dev/actas"
)

// The origins a tenant's clients admit: the origins of their redirect
// URIs, a loopback URI without a port on any port, nothing else.
func TestCORSEntryAllows(t *testing.T) {
	e := corsEntryOf([]*actas.OAuthClient{redirectClient, {RedirectURIs: []string{
		"https://SPA.Example:443/cb", // default port and case: the browser's serialization
		"http://127.0.0.1:80/x",      // a port is registered (the default one): exact only
	}}}, time.Time{})
	for _, c := range []struct {
		origin string
		want   bool
	}{
		{"https://app.example", true},
		{"https://app.example:8443", true},
		{"http://127.0.0.1:5173", true}, // registered without a port: any port
		{"http://[::1]:3000", true},
		{"http://[::1]", true},
		{"http://localhost:8080", true},
		{"https://spa.example", true},
		{"http://127.0.0.1", true},
		{"https://app.example:444", false}, // another port
		{"http://app.example", false},      // another scheme
		{"https://APP.example", false},     // browsers send lower case
		{"https://app.example/", false},    // not an origin
		{"https://app.example.evil.example", false},
		{"https://evil.example", false},
		{"http://localhost:9090", false}, // a port is registered: exact only
		{"http://127.0.0.1:0", false},
		{"http://127.0.0.1:05173", false},
		{"http://127.0.0.1:5173@evil.example", false},
		{"http://127.0.0.2:5173", false},
		{"https://spa.example:443", false},
		{"null", false},
		{"*", false},
		{"", false},
	} {
		if got := e.allows(c.origin); got != c.want {
			t.Errorf("allows(%q) = %v, want %v", c.origin, got, c.want)
		}
	}
}

// A load that started before an invalidation must not store what it read.
func TestCORSOriginsLoadRacesInvalidation(t *testing.T) {
	c := newCORSOrigins()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	_, gen := c.get("t1", now)
	c.invalidate("t1")
	c.put("t1", &corsEntry{loaded: now}, gen)
	if e, _ := c.get("t1", now); e != nil {
		t.Fatal("a load older than an invalidation was cached")
	}
	_, gen = c.get("t1", now)
	c.put("t1", &corsEntry{loaded: now}, gen)
	if e, _ := c.get("t1", now.Add(CORSOriginsTTL-time.Nanosecond)); e == nil {
		t.Fatal("a fresh entry was not cached")
	}
	if e, _ := c.get("t1", now.Add(CORSOriginsTTL)); e != nil {
		t.Fatal("an entry is used past CORSOriginsTTL")
	}
}

// The cache holds at most maxCORSTenants tenants.
func TestCORSOriginsBounded(t *testing.T) {
	c := newCORSOrigins()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for n := range maxCORSTenants + 10 {
		_, gen := c.get("t", now)
		c.put(actas.NewID()+string(rune('a'+n%26)), &corsEntry{loaded: now}, gen)
	}
	if len(c.byTenant) > maxCORSTenants {
		t.Fatalf("%d tenants cached, want at most %d", len(c.byTenant), maxCORSTenants)
	}
}

// FuzzCORSOrigin: whatever redirect URI is registered, an origin it
// admits is a bare origin (no user information, path, query or
// fragment) on the registered URI's scheme and host.
func FuzzCORSOrigin(f *testing.F) {
	f.Add("https://app.example/cb", "https://app.example")
	f.Add("http://127.0.0.1/cb", "http://127.0.0.1:5173")
	f.Add("http://[::1]/cb", "http://[::1]:1")
	f.Add("https://App.Example:443/cb", "https://app.example")
	f.Add("https://app.example:8443/cb?x=1", "https://app.example:8443@evil")
	f.Fuzz(func(t *testing.T, reg, origin string) {
		if checkRedirectURI(reg) != nil {
			return
		}
		e := corsEntryOf([]*actas.OAuthClient{{RedirectURIs: []string{reg}}}, time.Time{})
		if !e.allows(origin) {
			return
		}
		o, err := url.Parse(origin)
		if err != nil || o.User != nil || o.Path != "" || o.RawQuery != "" || o.Fragment != "" || strings.Contains(origin, "@") {
			t.Fatalf("%q admits %q, which is not a bare origin", reg, origin)
		}
		r, _ := url.Parse(reg)
		if o.Scheme != strings.ToLower(r.Scheme) || o.Hostname() != strings.ToLower(r.Hostname()) {
			t.Fatalf("%q admits %q, another scheme or host", reg, origin)
		}
	})
}
