package issuer

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actas-dev/actas/password"
)

// BenchmarkThrottleReserve is the throttle's whole cost in a sign-in: a
// reservation taken and settled as right, for one user from one address
// (the service-account pattern: every attempt on the same three keys),
// serially and from every core at once. share-of-hash is that cost over
// one argon2id verification with the OWASP parameters measured in the
// same run: what the throttle adds to a sign-in at the hash bound.
func BenchmarkThrottleReserve(b *testing.B) {
	phc := password.Hash("correct horse battery", password.OWASP)
	t0 := time.Now()
	for range 3 {
		_, _ = password.Verify(phc, "correct horse battery")
	}
	hash := time.Since(t0) / 3
	now := time.Unix(1_700_000_000, 0)
	p := DefaultThrottle
	report := func(b *testing.B, perOp time.Duration) {
		b.ReportMetric(float64(hash.Nanoseconds()), "argon2id-ns")
		b.ReportMetric(float64(perOp)/float64(hash), "share-of-hash")
	}
	b.Run("one-key-serial", func(b *testing.B) {
		th := newThrottle(p)
		start := time.Now()
		for b.Loop() {
			r, _, err := th.reserve(context.Background(), p, "t", "svc", "192.0.2.1", now, nil)
			if err != nil {
				b.Fatal(err)
			}
			r.ok()
			r.release()
		}
		report(b, time.Since(start)/time.Duration(b.N))
	})
	b.Run("many-keys-parallel", func(b *testing.B) {
		th := newThrottle(p)
		var n atomic.Int64
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			id := n.Add(1)
			i := 0
			for pb.Next() {
				i++
				r, _, err := th.reserve(context.Background(), p, "t", fmt.Sprintf("u%d-%d", id, i%1000), "192.0.2.1", now, nil)
				if err != nil {
					b.Fatal(err)
				}
				r.ok()
				r.release()
			}
		})
		report(b, time.Since(start)/time.Duration(b.N))
	})
}
