package httpapi

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

// FuzzClientAddr: whatever a trusted proxy forwards, the client address
// is an IP address (never header text), and an untrusted peer's headers
// change nothing.
func FuzzClientAddr(f *testing.F) {
	f.Add("198.51.100.7, 10.2.2.2", `for="[2001:db9::1]:4711";proto=https, for=unknown`)
	f.Add("", "for=_hidden, for=198.51.100.7")
	f.Add("[::1]:80, garbage", `For="\"", for=`)
	var trusted ProxyList
	p, _ := ParseProxies([]string{"10.0.0.0/8"})
	trusted.Set(p)
	s := &Server{TrustedProxy: trusted.Contains}
	f.Fuzz(func(t *testing.T, xff, fwd string) {
		for _, peer := range []string{"10.0.0.1:5000", "203.0.113.1:5000"} {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = peer
			r.Header.Set("X-Forwarded-For", xff)
			r.Header.Set("Forwarded", fwd)
			got := s.clientAddr(r)
			if _, err := netip.ParseAddr(got); err != nil {
				t.Fatalf("client %q is not an address (xff %q, forwarded %q)", got, xff, fwd)
			}
			if peer == "203.0.113.1:5000" && got != "203.0.113.1" {
				t.Fatalf("an untrusted peer's headers were believed: %q", got)
			}
		}
	})
}
