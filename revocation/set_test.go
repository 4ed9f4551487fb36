package revocation

import (
	"fmt"
	"testing"
	"time"

	"github.com/actas-dev/actas"
)

// A revocation outlives its tokens' expiry by the verifiers' skew: a
// token is accepted up to 60 s after exp, so forgetting the revocation at
// exp would bring it back for that long.
func TestRevocationKeptThroughTheSkew(t *testing.T) {
	r := New(nil, nil)
	exp := time.Unix(1_700_000_000, 0)
	r.Add("session-1", exp)
	r.Prune(exp.Add(59 * time.Second))
	if !r.Revoked("session-1") {
		t.Fatal("revocation forgotten within the skew after its tokens' exp")
	}
	r.Prune(exp.Add(Slack + time.Second))
	if r.Revoked("session-1") {
		t.Fatal("revocation kept past exp + slack: the set would grow without bound")
	}
}

// BenchmarkRevoked is the in-memory revocation lookup every verification
// makes, with 1e5 and 1e6 revoked ids, hit and miss.
func BenchmarkRevoked(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		r := New(nil, nil)
		ids := make([]string, n)
		exp := time.Now().Add(time.Hour)
		for i := range ids {
			ids[i] = actas.NewID()
			r.Add(ids[i], exp)
		}
		miss := actas.NewID()
		b.Run(fmt.Sprintf("n=%d/hit", n), func(b *testing.B) {
			i := 0
			for b.Loop() {
				if !r.Revoked(ids[i%n]) {
					b.Fatal("not revoked")
				}
				i += 7919
			}
		})
		b.Run(fmt.Sprintf("n=%d/miss-parallel", n), func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if r.Revoked(miss) {
						b.Fatal("revoked")
					}
				}
			})
		})
	}
}
