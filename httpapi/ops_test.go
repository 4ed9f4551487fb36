package httpapi

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestClientAddr(t *testing.T) {
	var trusted ProxyList
	p, err := ParseProxies([]string{"10.0.0.0/8", "192.0.2.1", "2001:db8::/32"})
	if err != nil {
		t.Fatal(err)
	}
	trusted.Set(p)
	for _, tc := range []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"no proxy header", "203.0.113.1:5000", nil, "203.0.113.1"},
		{"untrusted peer: header ignored", "203.0.113.1:5000", []string{"198.51.100.7"}, "203.0.113.1"},
		{"trusted peer", "10.0.0.1:5000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"client-supplied entries left of the real client are ignored", "10.0.0.1:5000", []string{"1.1.1.1, 198.51.100.7"}, "198.51.100.7"},
		{"trusted hops are skipped", "10.0.0.1:5000", []string{"198.51.100.7, 192.0.2.1, 10.9.9.9"}, "198.51.100.7"},
		{"several headers are one list", "10.0.0.1:5000", []string{"6.6.6.6", "198.51.100.7, 10.2.2.2"}, "198.51.100.7"},
		{"every hop trusted: the left-most", "10.0.0.1:5000", []string{"10.3.3.3, 10.2.2.2"}, "10.3.3.3"},
		{"garbage stops at the last good hop", "10.0.0.1:5000", []string{"198.51.100.7, not-an-ip, 10.2.2.2"}, "10.2.2.2"},
		{"trusted peer, empty header", "10.0.0.1:5000", nil, "10.0.0.1"},
		{"ports and brackets", "10.0.0.1:5000", []string{"[2001:db9::1]:443"}, "2001:db9::1"},
		{"IPv6 proxy", "[2001:db8::5]:5000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"4-in-6 peer", "[::ffff:10.0.0.1]:5000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"Forwarded from a trusted peer", "10.0.0.1:5000", []string{"Forwarded: for=198.51.100.7;proto=https"}, "198.51.100.7"},
		{"Forwarded hops, quoted IPv6 with a port", "10.0.0.1:5000", []string{`Forwarded: for=6.6.6.6, for="[2001:db9::1]:4711", for=10.2.2.2`}, "2001:db9::1"},
		{"Forwarded from an untrusted peer", "203.0.113.1:5000", []string{"Forwarded: for=198.51.100.7"}, "203.0.113.1"},
		{"Forwarded unknown stops the walk", "10.0.0.1:5000", []string{"Forwarded: for=198.51.100.7, for=unknown"}, "10.0.0.1"},
		{"Forwarded element without for", "10.0.0.1:5000", []string{"Forwarded: for=198.51.100.7, by=10.0.0.1"}, "10.0.0.1"},
		{"X-Forwarded-For wins over Forwarded", "10.0.0.1:5000", []string{"Forwarded: for=6.6.6.6", "198.51.100.7"}, "198.51.100.7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Server{TrustedProxy: trusted.Contains}
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				if f, ok := strings.CutPrefix(v, "Forwarded: "); ok {
					r.Header.Add("Forwarded", f)
					continue
				}
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := s.clientAddr(r); got != tc.want {
				t.Errorf("client = %q, want %q", got, tc.want)
			}
		})
	}
	if _, err := ParseProxies([]string{"10.0.0.0/33", "x", "10.1.0.0/16"}); err == nil {
		t.Error("bad prefixes accepted")
	}
	var none ProxyList
	if none.Contains("10.0.0.1") {
		t.Error("an empty list trusts")
	}
}

func TestReadinessCachesAndDrains(t *testing.T) {
	calls := 0
	var fail error
	rd := &Readiness{TTL: 50 * time.Millisecond, Checks: []Check{
		{Name: "database", Fn: func(context.Context) error { calls++; return fail }},
		{Name: "ok", Fn: func(context.Context) error { return nil }},
	}}
	ctx := context.Background()
	if f := rd.Failing(ctx); f != nil {
		t.Fatalf("failing %v", f)
	}
	fail = errors.New("down")
	if f := rd.Failing(ctx); f != nil || calls != 1 {
		t.Fatalf("the cached answer was not used: %v, %d calls", f, calls)
	}
	time.Sleep(60 * time.Millisecond)
	if f := rd.Failing(ctx); len(f) != 1 || f[0] != "database" || calls != 2 {
		t.Fatalf("failing %v after %d calls", f, calls)
	}
	fail = nil
	rd.Drain()
	if f := rd.Failing(ctx); len(f) != 1 || f[0] != "draining" {
		t.Fatalf("draining: %v", f)
	}
}
