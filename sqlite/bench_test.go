package sqlite_test

import (
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/internal/cputime/benchcpu"
	"github.com/actas-dev/actas/sqlite"
)

// benchSession stores a tenant, a user and a refreshable session and
// returns the session with the hash of its refresh token.
func benchSession(b *testing.B) (*sqlite.DB, *actas.Session, []byte, func(int) []byte) {
	db := mustOpen(b, filepath.Join(b.TempDir(), "bench.db"))
	b.Cleanup(func() { db.Close() })
	ctx := b.Context()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tn := &actas.Tenant{ID: actas.NewID(), Name: "bench", UserPoolID: "local_benchbenc", Settings: actas.DefaultTenantSettings(), CreatedAt: now}
	if err := db.CreateTenant(ctx, tn, nil, nil); err != nil {
		b.Fatal(err)
	}
	u := &actas.User{ID: actas.NewID(), TenantID: tn.ID, Username: "u", Status: actas.UserActive, CreatedAt: now}
	if err := db.CreateUser(ctx, u); err != nil {
		b.Fatal(err)
	}
	hash := func(i int) []byte { h := sha256.Sum256(fmt.Append(nil, i)); return h[:] }
	s := &actas.Session{ID: actas.NewID(), TenantID: tn.ID, UserID: u.ID, AuthTime: now, ExpiresAt: now.Add(time.Hour), Refreshable: true, CreatedAt: now}
	if err := db.CreateSession(ctx, s, &actas.RefreshToken{Hash: hash(-1), SessionID: s.ID, CreatedAt: now}, nil); err != nil {
		b.Fatal(err)
	}
	// Opening and filling the file take fsyncs: with them in the timing
	// a slow disk ends a benchmark after one iteration.
	b.ResetTimer()
	return db, s, hash(-1), hash
}

// BenchmarkSessionByRefreshToken is the read half of a refresh.
func BenchmarkSessionByRefreshToken(b *testing.B) {
	db, _, h, _ := benchSession(b)
	defer benchcpu.PerOp(b)()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := db.SessionByRefreshToken(b.Context(), h); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRotate is the write half of a refresh with rotation: one
// durable transaction.
func BenchmarkRotate(b *testing.B) {
	db, s, _, hash := benchSession(b)
	i := 0
	defer benchcpu.PerOp(b)()
	for b.Loop() {
		i++
		_, err := db.UpdateSession(b.Context(), s.ID, func(x *actas.Session) (*actas.RefreshToken, error) {
			x.RefreshGeneration++
			return &actas.RefreshToken{Hash: hash(i), SessionID: s.ID, Generation: x.RefreshGeneration}, nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
