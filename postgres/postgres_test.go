package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/postgres"
	"github.com/actas-dev/actas/storetest"
)

// testDSN returns the DSN of the test database or skips the test.
func testDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("ACTAS_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("ACTAS_TEST_POSTGRES not set: skipping PostgreSQL tests (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	return dsn
}

// freshSchema creates an empty schema, dropped when the test ends, and
// returns a DSN whose search_path is that schema: a new database per
// test costs far more than a schema.
func freshSchema(t testing.TB) string {
	t.Helper()
	dsn := testDSN(t)
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to ACTAS_TEST_POSTGRES: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop schema: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	return withParam(t, dsn, "search_path", schema)
}

func withParam(t testing.TB, dsn, k, v string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("ACTAS_TEST_POSTGRES must be a URL: %v", err)
	}
	q := u.Query()
	q.Set(k, v)
	u.RawQuery = q.Encode()
	return u.String()
}

func mustOpen(t *testing.T, dsn string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return db
}

func TestStore(t *testing.T) {
	testDSN(t)
	storetest.Run(t, func(t *testing.T) actas.Store {
		return mustOpen(t, freshSchema(t))
	})
}

// TestMigrateConcurrently starts several replicas on one empty schema at
// once: the advisory lock must let exactly one apply each migration.
func TestMigrateConcurrently(t *testing.T) {
	dsn := freshSchema(t)
	const n = 4
	dbs := make([]*postgres.DB, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { dbs[i], errs[i] = postgres.Open(t.Context(), dsn) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: open: %v", i, err)
		}
		defer dbs[i].Close()
	}
	for i, db := range dbs {
		if ok, err := db.MigrationsCurrent(t.Context()); err != nil || !ok {
			t.Errorf("replica %d: MigrationsCurrent = %v, %v; want true", i, ok, err)
		}
		if err := db.Migrate(t.Context()); err != nil {
			t.Errorf("replica %d: Migrate on an up-to-date database: %v", i, err)
		}
	}
}

// TestReplicasShareState: what one DB writes another sees, and the
// second's listener hears of the first's revocation.
func TestReplicasShareState(t *testing.T) {
	dsn := freshSchema(t)
	a, b := mustOpen(t, dsn), mustOpen(t, dsn)
	defer a.Close()
	defer b.Close()
	ctx := t.Context()
	changed := b.RevocationsChanged()
	// The listener signals once it listens; wait for that first.
	select {
	case <-changed:
	case <-time.After(5 * time.Second):
		t.Fatal("listener did not start")
	}
	tn := &actas.Tenant{ID: actas.NewID(), Name: "acme", UserPoolID: actas.NewUserPoolID(""),
		ClientID: actas.NewClientID(), Settings: actas.DefaultTenantSettings(), CreatedAt: time.Now()}
	if err := a.CreateTenant(ctx, tn, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.TenantByName(ctx, "acme"); err != nil {
		t.Fatalf("tenant created on a, read on b: %v", err)
	}
	start := time.Now()
	if err := a.RevokeToken(ctx, &actas.Revocation{TenantID: tn.ID, ID: actas.NewID(), RevokedAt: start,
		ExpiresAt: start.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changed:
		t.Logf("NOTIFY reached the other replica after %v", time.Since(start))
	case <-time.After(5 * time.Second):
		t.Fatal("no notification of a revocation committed by another replica")
	}
	rs, err := b.Revocations(ctx, 0, start, 10)
	if err != nil || len(rs) != 1 {
		t.Fatalf("revocations on b: %d, %v; want 1", len(rs), err)
	}
}

// proxy forwards TCP connections to target until cut: then it drops every
// open connection and holds new ones without answering, like a database
// host that vanished from the network.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  map[net.Conn]bool
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.setCut(true) })
	return p
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.conns[c] = true
		cut := p.cut
		p.mu.Unlock()
		if cut {
			continue // held open, silent, until restored or closed
		}
		go p.forward(c)
	}
}

func (p *proxy) forward(c net.Conn) {
	d, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[d] = true
	p.mu.Unlock()
	go func() { _, _ = ioCopy(d, c); d.Close(); c.Close() }()
	_, _ = ioCopy(c, d)
	c.Close()
	d.Close()
}

func (p *proxy) setCut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	for c := range p.conns {
		if cut {
			c.Close()
		}
		delete(p.conns, c)
	}
}

func ioCopy(dst, src net.Conn) (int64, error) {
	buf := make([]byte, 32<<10)
	var n int64
	for {
		k, err := src.Read(buf)
		if k > 0 {
			if _, werr := dst.Write(buf[:k]); werr != nil {
				return n, werr
			}
			n += int64(k)
		}
		if err != nil {
			return n, err
		}
	}
}

// TestUnavailable: with the database unreachable every call fails within
// the store's bound with an error wrapping actas.ErrUnavailable, and the
// store recovers by itself when the database is back.
func TestUnavailable(t *testing.T) {
	dsn := freshSchema(t)
	u, _ := url.Parse(dsn)
	p := newProxy(t, u.Host)
	u.Host = p.ln.Addr().String()
	db := mustOpen(t, u.String())
	defer db.Close()
	ctx := t.Context()
	tn := &actas.Tenant{ID: actas.NewID(), Name: "acme", UserPoolID: actas.NewUserPoolID(""),
		ClientID: actas.NewClientID(), Settings: actas.DefaultTenantSettings(), CreatedAt: time.Now()}
	if err := db.CreateTenant(ctx, tn, nil, nil); err != nil {
		t.Fatal(err)
	}

	p.setCut(true)
	calls := map[string]func() error{
		"Tenant": func() error { _, err := db.Tenant(ctx, tn.ID); return err },
		"Ping":   func() error { return db.Ping(ctx) },
		"RevokeToken": func() error {
			return db.RevokeToken(ctx, &actas.Revocation{TenantID: tn.ID, ID: "x", ExpiresAt: time.Now().Add(time.Hour)})
		},
		"UpdateTenant": func() error {
			_, err := db.UpdateTenant(ctx, tn.ID, func(*actas.Tenant) error { return nil })
			return err
		},
	}
	for name, call := range calls {
		start := time.Now()
		err := call()
		took := time.Since(start)
		if !errors.Is(err, actas.ErrUnavailable) {
			t.Errorf("%s with the database cut: %v, want ErrUnavailable", name, err)
		}
		if code := actas.ErrorCode(err); code != actas.EUNAVAILABLE {
			t.Errorf("%s: error code %q, want %q", name, code, actas.EUNAVAILABLE)
		}
		if took > 7*time.Second {
			t.Errorf("%s took %v with the database cut, want at most the 5 s bound", name, took)
		}
		t.Logf("%s failed after %v: %v", name, took.Round(time.Millisecond), err)
	}

	p.setCut(false)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := db.Tenant(ctx, tn.ID)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("store did not recover after the database came back: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestOpenUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	start := time.Now()
	_, err = postgres.Open(t.Context(), fmt.Sprintf("postgres://postgres@%s/x?sslmode=disable", addr))
	if !errors.Is(err, actas.ErrUnavailable) {
		t.Errorf("Open on a closed port: %v, want ErrUnavailable", err)
	}
	if took := time.Since(start); took > 7*time.Second {
		t.Errorf("Open on a closed port took %v", took)
	}
}
