package postgres_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/internal/cputime"
	"github.com/actas-dev/actas/postgres"
)

// counter is a pgx tracer counting round trips and statements: a
// statement outside a batch is one of each (BEGIN and COMMIT included), a
// batch is one round trip for all its statements.
type counter struct{ trips, stmts atomic.Int64 }

func (c *counter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.trips.Add(1)
	c.stmts.Add(1)
	return ctx
}
func (c *counter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (c *counter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.trips.Add(1)
	return ctx
}
func (c *counter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {
	c.stmts.Add(1)
}
func (c *counter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// benchStore opens a fresh schema with one tenant and one user, and
// returns the store, its statement counter, the tenant and the user.
func benchStore(b *testing.B) (*postgres.DB, *counter, *actas.Tenant, *actas.User) {
	dsn := freshSchema(b)
	c := &counter{}
	db, err := postgres.OpenTraced(b.Context(), dsn, c)
	if err != nil {
		b.Fatalf("open: %v", err)
	}
	b.Cleanup(func() { db.Close() })
	now := time.Now()
	tn := &actas.Tenant{ID: actas.NewID(), Name: "bench", UserPoolID: actas.NewUserPoolID(""),
		ClientID: actas.NewClientID(), Settings: actas.DefaultTenantSettings(), CreatedAt: now}
	if err := db.CreateTenant(b.Context(), tn, nil, nil); err != nil {
		b.Fatalf("create tenant: %v", err)
	}
	u := &actas.User{ID: actas.NewID(), TenantID: tn.ID, Username: "alice", Status: actas.UserActive,
		PasswordHash: "x", CreatedAt: now, UpdatedAt: now}
	if err := db.CreateUser(b.Context(), u); err != nil {
		b.Fatalf("create user: %v", err)
	}
	return db, c, tn, u
}

func benchSession(b *testing.B, db *postgres.DB, u *actas.User) (*actas.Session, []byte) {
	now := time.Now()
	s := &actas.Session{ID: actas.NewID(), TenantID: u.TenantID, UserID: u.ID, AuthTime: now,
		ExpiresAt: now.Add(24 * time.Hour), ClientIP: "192.0.2.1", UserAgent: "bench", Refreshable: true,
		RotatedAt: now, CreatedAt: now}
	h := randomHash()
	if err := db.CreateSession(b.Context(), s, &actas.RefreshToken{Hash: h, Generation: 0, CreatedAt: now}, nil); err != nil {
		b.Fatalf("create session: %v", err)
	}
	return s, h
}

func randomHash() []byte {
	var r [32]byte
	_, _ = rand.Read(r[:])
	h := sha256.Sum256(r[:])
	return h[:]
}

// start sets 32 clients (16 per core on two) and zeroes the counts,
// returning the CPU time so far for report.
func start(b *testing.B, c *counter) time.Duration {
	b.SetParallelism(16)
	c.trips.Store(0)
	c.stmts.Store(0)
	cpu0 := cputime.Process()
	b.ResetTimer()
	return cpu0
}

// report adds CPU time (this process: the store's client side, not the
// database server), round trips and statements per operation.
func report(b *testing.B, c *counter, cpu0 time.Duration) {
	n := float64(b.N)
	b.ReportMetric(float64((cputime.Process()-cpu0).Microseconds())/n, "cpu-µs/op")
	b.ReportMetric(float64(c.trips.Load())/n, "trips/op")
	b.ReportMetric(float64(c.stmts.Load())/n, "stmts/op")
}

var errBenchReuse = errors.New("reuse")

// BenchmarkRefresh runs the store calls of an ES256 refresh with rotation
// (issuer.Refresh): SessionByRefreshToken, User, UpdateSession storing
// the successor token, from 32 concurrent clients with a session each.
func BenchmarkRefresh(b *testing.B) {
	db, c, tn, u := benchStore(b)
	ctx := b.Context()
	sessions := make(chan [2]any, 256)
	for range 64 {
		s, h := benchSession(b, db, u)
		sessions <- [2]any{s.ID, h}
	}
	cpu0 := start(b, c)
	b.RunParallel(func(pb *testing.PB) {
		p := <-sessions
		hash := p[1].([]byte)
		for pb.Next() {
			s, rt, err := db.SessionByRefreshToken(ctx, hash)
			if err != nil {
				b.Errorf("session by refresh token: %v", err)
				return
			}
			if _, err := db.User(ctx, tn.ID, s.UserID); err != nil {
				b.Errorf("user: %v", err)
				return
			}
			now := time.Now()
			next := randomHash()
			if _, err := db.UpdateSession(ctx, s.ID, func(s *actas.Session) (*actas.RefreshToken, error) {
				if rt.Generation != s.RefreshGeneration {
					return nil, errBenchReuse
				}
				s.LastRefreshAt, s.RefreshGeneration, s.RotatedAt = now, s.RefreshGeneration+1, now
				return &actas.RefreshToken{Hash: next, Generation: s.RefreshGeneration, CreatedAt: now}, nil
			}); err != nil {
				b.Errorf("update session: %v", err)
				return
			}
			hash = next
		}
	})
	b.StopTimer()
	report(b, c, cpu0)
}

// BenchmarkExpire runs the store call of a logout (issuer.Expire given an
// access token): RevokeSessions of one session, a fresh one each time,
// from 32 concurrent clients.
func BenchmarkExpire(b *testing.B) {
	db, c, tn, u := benchStore(b)
	ctx := b.Context()
	ids := make(chan string, b.N)
	for range b.N {
		s, _ := benchSession(b, db, u)
		ids <- s.ID
	}
	close(ids)
	cpu0 := start(b, c)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := <-ids
			got, err := db.RevokeSessions(ctx, actas.RevokeQuery{TenantID: tn.ID, SessionID: id}, time.Now(), actas.ReasonLogout)
			if err != nil || len(got) != 1 {
				b.Errorf("revoke sessions: %d, %v", len(got), err)
				return
			}
		}
	})
	b.StopTimer()
	report(b, c, cpu0)
}
