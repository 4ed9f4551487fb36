package sqlite_test

import (
	"testing"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/internal/cputime/benchcpu"
)

// BenchmarkUpdateSessionParallel is the write half of many concurrent
// refreshes without rotation (LastRefreshAt only), each one durable
// (synchronous=FULL) before it returns. Without group commit every one
// pays an fsync; with it, concurrent writers share one.
func BenchmarkUpdateSessionParallel(b *testing.B) {
	db, s, _, _ := benchSession(b)
	b.SetParallelism(16) // 16 × GOMAXPROCS concurrent requests
	defer benchcpu.PerOp(b)()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, err := db.UpdateSession(b.Context(), s.ID, func(x *actas.Session) (*actas.RefreshToken, error) {
				x.LastRefreshAt = time.Now()
				return nil, nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
