package sqlite_test

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/internal/cputime/benchcpu"
	"github.com/actas-dev/actas/sqlite"
)

// The other store calls of a refresh and an expire (bench_test.go has
// the session read and update).

// BenchmarkUser is the user read of every refresh and expire.
func BenchmarkUser(b *testing.B) {
	db, s, _, _ := benchSession(b)
	defer benchcpu.PerOp(b)()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := db.User(b.Context(), s.TenantID, s.UserID); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkConfigVersion is the one row every request reads before using
// its caches.
func BenchmarkConfigVersion(b *testing.B) {
	db, _, _, _ := benchSession(b)
	defer benchcpu.PerOp(b)()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := db.ConfigVersion(b.Context()); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchSessions stores n more sessions like s, concurrently (so that they
// share commits), and returns their ids.
func benchSessions(b *testing.B, db *sqlite.DB, s *actas.Session, n int) []string {
	b.Helper()
	ids := make([]string, n)
	var (
		wg   sync.WaitGroup
		next atomic.Int64
		fail atomic.Value
	)
	for range 32 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				c := *s
				c.ID = actas.NewID()
				if err := db.CreateSession(b.Context(), &c, nil, nil); err != nil {
					fail.Store(err)
					return
				}
				ids[i] = c.ID
			}
		})
	}
	wg.Wait()
	if err, _ := fail.Load().(error); err != nil {
		b.Fatal(err)
	}
	return ids
}

// BenchmarkRevokeSession is the write of one expire: one session (with no
// descendants) revoked and its revocation appended, durably.
func BenchmarkRevokeSession(b *testing.B) {
	db, s, _, _ := benchSession(b)
	ids := benchSessions(b, db, s, b.N)
	at := s.AuthTime.Add(1)
	b.ResetTimer()
	defer benchcpu.PerOp(b)()
	for i := range b.N {
		out, err := db.RevokeSessions(b.Context(), actas.RevokeQuery{TenantID: s.TenantID, SessionID: ids[i]}, at, actas.ReasonLogout)
		if err != nil || len(out) != 1 {
			b.Fatal(len(out), err)
		}
	}
}

// BenchmarkRevokeSessionParallel is many concurrent expires: their
// commits are shared, so what is left is the writer's CPU per revocation.
func BenchmarkRevokeSessionParallel(b *testing.B) {
	db, s, _, _ := benchSession(b)
	ids := benchSessions(b, db, s, b.N)
	at := s.AuthTime.Add(1)
	var next atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	defer benchcpu.PerOp(b)()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := ids[next.Add(1)-1]
			out, err := db.RevokeSessions(b.Context(), actas.RevokeQuery{TenantID: s.TenantID, SessionID: id}, at, actas.ReasonLogout)
			if err != nil || len(out) != 1 {
				b.Fatal(len(out), err)
			}
		}
	})
}

// BenchmarkRotateParallel is many concurrent refreshes with rotation,
// each on its own session, and reports the tail of their latency: a
// commit that also checkpoints the WAL makes every write queued behind it
// wait.
func BenchmarkRotateParallel(b *testing.B) {
	db, s, _, hash := benchSession(b)
	ids := benchSessions(b, db, s, 64)
	var (
		next atomic.Int64
		mu   sync.Mutex
		lat  = make([]time.Duration, 0, b.N)
	)
	b.SetParallelism(8)
	b.ResetTimer()
	defer benchcpu.PerOp(b)()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			i := int(next.Add(1))
			id := ids[i%len(ids)]
			start := time.Now()
			_, err := db.UpdateSession(b.Context(), id, func(x *actas.Session) (*actas.RefreshToken, error) {
				x.RefreshGeneration++
				x.LastRefreshAt, x.RotatedAt = start, start
				return &actas.RefreshToken{Hash: hash(i), Generation: x.RefreshGeneration, CreatedAt: start}, nil
			})
			if err != nil {
				b.Fatal(err)
			}
			mine = append(mine, time.Since(start))
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	b.StopTimer()
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / 1e6 }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(q(0.999), "p99.9-ms")
}
