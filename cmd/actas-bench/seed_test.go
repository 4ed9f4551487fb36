package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/password"
)

// testMasterKey is the key the bench and the (imagined) server share.
const testMasterKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

// cheap argon2id parameters: -setup hashes one password per user.
var cheap = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestSetupPrepareSeedSQLite(t *testing.T) {
	testSetupPrepareSeed(t, "sqlite:"+filepath.Join(t.TempDir(), "actas.db"))
}

// TestSetupPrepareSeedPostgres runs the same path against PostgreSQL: the
// store opened through the postgres package, sessions written with COPY.
func TestSetupPrepareSeedPostgres(t *testing.T) {
	testSetupPrepareSeed(t, freshSchema(t))
}

// testSetupPrepareSeed creates a tenant and users as -setup does, prepares
// sessions as a load run does and seeds more as `actas-bench seed` does,
// then reads them back through the server's own store: every prepared
// refresh token must find its session, and the tenant must hold them all.
func testSetupPrepareSeed(t *testing.T, db string) {
	t.Setenv("ACTAS_MASTER_KEY", testMasterKey)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const publicURL = "http://127.0.0.1:18119"
	e, err := openEnv(ctx, db, publicURL, cheap)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer e.db.Close()
	st, err := setup(ctx, e, "ES256", 3)
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	statePath := filepath.Join(t.TempDir(), "state.json")
	if err := saveState(statePath, st); err != nil {
		t.Fatal(err)
	}

	prep, err := prepareSessions(ctx, e, st, publicURL, st.Users, 7)
	if err != nil {
		t.Fatalf("prepare sessions: %v", err)
	}
	if len(prep) != 7 {
		t.Fatalf("prepared %d sessions, want 7", len(prep))
	}
	for i, p := range prep {
		var r authResponse
		if err := json.Unmarshal(p.Body, &r); err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256([]byte(r.Session.RefreshToken))
		s, rt, err := e.db.SessionByRefreshToken(ctx, h[:])
		if err != nil {
			t.Fatalf("prepared session %d: refresh token not found: %v", i, err)
		}
		if s.ID != p.ID || rt.SessionID != p.ID || s.TenantID != st.TenantID || !s.Refreshable || !s.RevokedAt.IsZero() {
			t.Errorf("prepared session %d: got session %+v, token %+v; want live refreshable session %s", i, s, rt, p.ID)
		}
		if want := st.Users[i%len(st.Users)]; r.Username != want {
			t.Errorf("prepared session %d is of %s, want %s", i, r.Username, want)
		}
	}

	const n, batch = 250, 100 // three transactions, the last one short
	added, _, err := seed(ctx, db, statePath, n, batch, true, 64, nil)
	if err != nil || added != n {
		t.Fatalf("seed: added %d, %v; want %d", added, err, n)
	}
	all, err := e.db.Sessions(ctx, actas.SessionFilter{TenantID: st.TenantID, ActiveAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(prep)+n {
		t.Errorf("tenant holds %d live sessions, want %d prepared + %d seeded", len(all), len(prep), n)
	}
}

// freshSchema returns a DSN of ACTAS_TEST_POSTGRES whose search_path is a
// new schema, dropped when the test ends, or skips the test.
func freshSchema(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("ACTAS_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("ACTAS_TEST_POSTGRES not set: skipping PostgreSQL tests (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema := "bench_" + hex.EncodeToString(b)
	exec := func(q string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatalf("connect to ACTAS_TEST_POSTGRES: %v", err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("CREATE SCHEMA " + schema)
	t.Cleanup(func() { exec("DROP SCHEMA " + schema + " CASCADE") })
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("ACTAS_TEST_POSTGRES must be a URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
