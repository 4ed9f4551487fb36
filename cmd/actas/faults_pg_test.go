package main

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/actas-dev/actas/verify"
)

// setRefuse makes the proxy close every connection, open and new, at
// once (refuse) or forward again.
func (p *pgProxy) setRefuse(refuse bool) {
	p.mu.Lock()
	p.refuse = refuse
	p.mu.Unlock()
	if refuse {
		p.setCut(true) // drop the open ones
		p.setCut(false)
	}
}

// TestPostgresFailFast: a replica whose database is cut away (packets
// dropped, then connections refused) answers 503 with Retry-After within
// its 2 s store_timeout, then at once while the database is known down;
// /readyz says not ready; a verifier following that replica fails closed.
// When the database is back, the replica, its /readyz and the verifier
// recover by themselves, and every sign-in it answered 200 is stored.
func TestPostgresFailFast(t *testing.T) {
	h := pgHarness(t)
	u, _ := url.Parse(h.db)
	p := newPGProxy(t, u.Host)
	u.Host = p.ln.Addr().String()
	r := h.serveReplica("proxied", u.String())
	ten := h.createTenant("acme")
	h.createUser("acme", "alice", "alice-password")
	key := []string{"X-API-Key", ten.APIKey}
	signIn := map[string]string{"username": "alice", "password": "alice-password"}
	c := r.client(20 * time.Second)
	ok := 0
	send := func() (response, time.Duration) {
		t.Helper()
		start := time.Now()
		res, err := r.call(c, "POST", "/auth/token", signIn, key...)
		if err != nil {
			t.Fatalf("sign in: %v", err)
		}
		if res.status == 200 {
			ok++
		}
		return res, time.Since(start)
	}
	ready := func(status int, within time.Duration) time.Duration {
		t.Helper()
		start := time.Now()
		for {
			res, err := r.call(c, "GET", "/readyz", nil)
			if err == nil && res.status == status {
				return time.Since(start)
			}
			if time.Since(start) > within {
				t.Fatalf("/readyz = %d (%v), want %d within %v", res.status, err, status, within)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	res, _ := send()
	if res.status != 200 {
		t.Fatalf("sign in: %d %s", res.status, res.body)
	}
	tok := str(sessionOf(t, res.json(t)), "accessToken")
	v, err := verify.New(context.Background(), verify.Config{
		Issuer: pgPublicURL + "/" + ten.UserPoolID, ClientID: ten.ClientID, APIKey: ten.APIKey,
		HTTPClient: r.client(40 * time.Second), Now: h.clock.Now, FeedMaxStale: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if _, err := v.VerifyAccess(tok); err != nil {
		t.Fatalf("verify before the cut: %v", err)
	}
	ready(200, 5*time.Second)

	// Packets dropped: at most one call waits out the 2 s deadline (a
	// request's, or the background revocation sync's); the requests after
	// it are answered at once.
	p.setCut(true)
	var slowest time.Duration
	slow := 0
	for range 12 {
		res, took := send()
		want503(t, "sign-in with the database cut", res)
		slowest = max(slowest, took)
		if took > time.Second {
			slow++
		}
	}
	t.Logf("12 requests with the database cut: slowest %v, %d over 1 s", slowest.Round(time.Millisecond), slow)
	if slowest > 3500*time.Millisecond {
		t.Errorf("a request with the database cut took %v, want at most about the 2 s store_timeout", slowest)
	}
	if slow > 1 {
		t.Errorf("%d requests waited for the cut database, want at most the first", slow)
	}
	ready(503, 6*time.Second)
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		if _, err := v.VerifyAccess(tok); errors.Is(err, verify.ErrUnavailable) {
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatal("the verifier did not fail closed while its replica's database was cut")
		}
	}

	// Connections refused: answered 503 quickly too.
	p.setCut(false)
	p.setRefuse(true)
	for range 5 {
		res, took := send()
		want503(t, "sign-in with connections refused", res)
		slowest = max(slowest, took)
	}
	if slowest > 3500*time.Millisecond {
		t.Errorf("a request with connections refused took %v", slowest)
	}

	// Back: everything recovers by itself.
	p.setRefuse(false)
	back := time.Now()
	for {
		res, _ := send()
		if res.status == 200 {
			break
		}
		if time.Since(back) > 10*time.Second {
			t.Fatalf("sign-in still %d 10 s after the database came back", res.status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	signedIn := time.Since(back)
	ready(200, 10*time.Second)
	readyAfter := time.Since(back)
	for {
		if _, err := v.VerifyAccess(tok); err == nil {
			break
		}
		if time.Since(back) > 10*time.Second {
			t.Fatal("the verifier did not reopen within 10 s of the database's return")
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("after the database came back: sign-in 200 after %v, ready after %v, verifier open after %v",
		signedIn.Round(time.Millisecond), readyAfter.Round(time.Millisecond), time.Since(back).Round(time.Millisecond))

	// No lost 200: every sign-in answered 200 is a stored session.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, h.db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM sessions`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != ok {
		t.Errorf("%d sessions stored, %d sign-ins answered 200", n, ok)
	}
}
