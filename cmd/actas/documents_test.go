package main

import (
	"strings"
	"testing"
)

// TestJWKSAndDiscoveryValidators: both documents carry a strong ETag and
// Cache-Control max-age; If-None-Match with the ETag answers 304 with no
// body; a key rotation changes the JWKS ETag.
func TestJWKSAndDiscoveryValidators(t *testing.T) {
	h := newHarness(t)
	ten := h.createTenant("acme")
	h.serve()
	for _, doc := range []string{"jwks.json", "openid-configuration"} {
		path := "/" + ten.UserPoolID + "/.well-known/" + doc
		r := h.do("GET", path, nil)
		etag := r.header.Get("ETag")
		if r.status != 200 || !strings.HasPrefix(etag, `"`) || !strings.HasSuffix(etag, `"`) || len(etag) < 10 {
			t.Fatalf("%s: %d, ETag %q; want 200 with a strong ETag", doc, r.status, etag)
		}
		if cc := r.header.Get("Cache-Control"); !strings.Contains(cc, "max-age=300") {
			t.Errorf("%s: Cache-Control %q, want max-age", doc, cc)
		}
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s: Content-Type %q", doc, ct)
		}
		again := h.do("GET", path, nil)
		if again.header.Get("ETag") != etag || string(again.body) != string(r.body) {
			t.Errorf("%s: the unchanged document changed (ETag %q then %q)", doc, etag, again.header.Get("ETag"))
		}
		for _, inm := range []string{etag, `"other", ` + etag, "W/" + etag, "*"} {
			nm := h.do("GET", path, nil, "If-None-Match", inm)
			if nm.status != 304 || len(nm.body) != 0 || nm.header.Get("ETag") != etag {
				t.Errorf("%s with If-None-Match %s: %d, %d bytes, ETag %q; want 304, empty, the same ETag", doc, inm, nm.status, len(nm.body), nm.header.Get("ETag"))
			}
		}
		if stale := h.do("GET", path, nil, "If-None-Match", `"stale"`); stale.status != 200 || len(stale.body) == 0 {
			t.Errorf("%s with a stale ETag: %d, want 200 with the document", doc, stale.status)
		}
	}
	path := "/" + ten.UserPoolID + "/.well-known/jwks.json"
	before := h.do("GET", path, nil).header.Get("ETag")
	if _, errOut, code := h.cli("", "keys", "rotate", "--tenant", "acme", "--delay", "1h"); code != 0 {
		t.Fatalf("keys rotate: %s", errOut)
	}
	r := h.do("GET", path, nil, "If-None-Match", before)
	if r.status != 200 || r.header.Get("ETag") == before || strings.Count(string(r.body), `"kid"`) != 4 {
		t.Errorf("JWKS after a rotation with the old ETag: %d, ETag %q (was %q), %s; want 200, a new ETag, 4 keys",
			r.status, r.header.Get("ETag"), before, r.body)
	}
}
