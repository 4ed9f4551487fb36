package main

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// refreshRows counts the stored refresh tokens of a session and returns
// the session's current generation.
type refreshRows func(t *testing.T, sessionID string) (tokens, generation int)

// checkRotationNeverForks signs in on the first replica, sends n
// refreshes of that one refresh token at once, spread over the replicas,
// and checks that the session never forks: every refresh answered 200
// got the same successor (any other answer is a refusal, 401), a retry of
// the first token within the grace gets that successor again, only one
// token was stored for the new generation, and the successor, once
// rotated itself, makes the first token a reuse that revokes the session.
func checkRotationNeverForks(t *testing.T, replicas []*replica, apiKey string, n int, rows refreshRows) {
	t.Helper()
	key := []string{"X-API-Key", apiKey}
	res := replicas[0].mustCall(t, "POST", "/auth/token", map[string]string{"username": "alice", "password": "alice-password"}, key...)
	if res.status != 200 {
		t.Fatalf("sign in: %d %s", res.status, res.body)
	}
	first := res.json(t)
	t0 := str(sessionOf(t, first), "refreshToken")
	sid := originJTI(str(sessionOf(t, first), "accessToken"))
	refresh := map[string]any{"session": map[string]string{"refreshToken": t0}}

	var (
		mu         sync.Mutex
		successors = map[string]int{}
		statuses   = map[int]int{}
		wg         sync.WaitGroup
		start      = make(chan struct{})
	)
	for k := range n {
		r := replicas[k%len(replicas)]
		c := r.client(20 * time.Second)
		wg.Go(func() {
			<-start
			res, err := r.call(c, "POST", "/auth/token", refresh, key...)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("%s: refresh: %v", r.name, err)
				return
			}
			statuses[res.status]++
			if res.status == 200 {
				successors[str(sessionOf(t, res.json(t)), "refreshToken")]++
			}
		})
	}
	close(start)
	wg.Wait()
	t.Logf("%d concurrent refreshes of one token over %d replicas: statuses %v, %d distinct successors",
		n, len(replicas), statuses, len(successors))
	if statuses[200]+statuses[401] != n || statuses[200] == 0 {
		t.Fatalf("statuses = %v, want 200s (and at most refusals, 401)", statuses)
	}
	if len(successors) != 1 {
		t.Fatalf("%d different refresh tokens handed out for one token: the session forked", len(successors))
	}
	var s1 string
	for s := range successors {
		s1 = s
	}
	if s1 == t0 || len(s1) != 43 {
		t.Fatalf("successor %q: not a new refresh token", s1)
	}
	if tokens, gen := rows(t, sid); tokens != 2 || gen != 1 {
		t.Errorf("after the concurrent refreshes: %d refresh tokens stored, generation %d; want 2 (the first and its one successor), 1", tokens, gen)
	}

	// A retry of the first token within the grace, on each replica: the
	// same successor, nothing new stored.
	for _, r := range replicas {
		res := r.mustCall(t, "POST", "/auth/token", refresh, key...)
		if res.status != 200 {
			t.Fatalf("%s: retry within the grace: %d %s", r.name, res.status, res.body)
		}
		if got := str(sessionOf(t, res.json(t)), "refreshToken"); got != s1 {
			t.Errorf("%s: retry within the grace got another refresh token: the session forked", r.name)
		}
	}
	if tokens, _ := rows(t, sid); tokens != 2 {
		t.Errorf("retries stored refresh tokens: %d stored, want 2", tokens)
	}

	// The successor rotates on; the first token is now two generations
	// old: presenting it revokes the session, the live token with it.
	last := replicas[len(replicas)-1]
	res = last.mustCall(t, "POST", "/auth/token", map[string]any{"session": map[string]string{"refreshToken": s1}}, key...)
	if res.status != 200 {
		t.Fatalf("refresh with the successor: %d %s", res.status, res.body)
	}
	s2 := str(sessionOf(t, res.json(t)), "refreshToken")
	if s2 == s1 || s2 == t0 {
		t.Fatal("the successor's refresh did not rotate")
	}
	res = replicas[0].mustCall(t, "POST", "/auth/token", refresh, key...)
	wantError(t, res, 401, "Refresh Token has been revoked")
	res = last.mustCall(t, "POST", "/auth/token", map[string]any{"session": map[string]string{"refreshToken": s2}}, key...)
	wantError(t, res, 401, "")
}

// TestRotationNeverForksSQLite: 50 concurrent refreshes of one refresh
// token on SQLite leave one live refresh token.
func TestRotationNeverForksSQLite(t *testing.T) {
	h := newHarness(t)
	h.serve()
	ten := h.createTenant("acme")
	h.mustCLI(nil, "tenant", "set", "acme", "refresh_rotation=true")
	h.createUser("acme", "alice", "alice-password")
	db, err := sql.Open("sqlite", dbPath(h)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows := func(t *testing.T, sid string) (int, int) {
		t.Helper()
		var n, gen int
		if err := db.QueryRow(`SELECT count(*) FROM refresh_tokens WHERE session_id = ?`, sid).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(`SELECT refresh_generation FROM sessions WHERE id = ?`, sid).Scan(&gen); err != nil {
			t.Fatal(err)
		}
		return n, gen
	}
	r := &replica{name: "sqlite", addr: strings.TrimPrefix(h.url, "http://")}
	checkRotationNeverForks(t, []*replica{r}, ten.APIKey, 50, rows)
}

// TestRotationNeverForksPostgres: 50 concurrent refreshes of one refresh
// token over two PostgreSQL replicas leave one live refresh token, and a
// retry on either replica gets the successor the other handed out.
func TestRotationNeverForksPostgres(t *testing.T) {
	h := pgHarness(t)
	a := h.serveReplica("a", h.db)
	b := h.serveReplica("b", h.db)
	ten := h.createTenant("acme")
	h.mustCLI(nil, "tenant", "set", "acme", "refresh_rotation=true")
	h.createUser("acme", "alice", "alice-password")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, h.db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows := func(t *testing.T, sid string) (int, int) {
		t.Helper()
		var n, gen int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM refresh_tokens WHERE session_id = $1`, sid).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRow(ctx, `SELECT refresh_generation FROM sessions WHERE id = $1`, sid).Scan(&gen); err != nil {
			t.Fatal(err)
		}
		return n, gen
	}
	checkRotationNeverForks(t, []*replica{a, b}, ten.APIKey, 50, rows)
}
