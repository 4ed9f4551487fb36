package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/actas-dev/actas/verify"
)

// End-to-end tests of several `actas serve` replicas on one PostgreSQL
// database. They need ACTAS_TEST_POSTGRES (CI sets it); each test works
// in a schema of its own, dropped at the end.

// pgPublicURL is the one --public-url every replica shares, as behind a
// load balancer: tokens name it in iss, whichever replica issued them.
const pgPublicURL = "http://actas.test"

func pgSchema(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("ACTAS_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("ACTAS_TEST_POSTGRES not set: skipping PostgreSQL tests (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema := "e2e_" + hex.EncodeToString(b)
	exec := func(sql string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if err := exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("ACTAS_TEST_POSTGRES must be a URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// pgHarness is a harness whose database is a fresh PostgreSQL schema and
// whose CLI mints tokens for the shared public URL.
func pgHarness(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t)
	h.db = pgSchema(t)
	h.url = pgPublicURL // createTenant's --public-url; requests go to replicas
	return h
}

// replica is one running `actas serve`.
type replica struct {
	name string
	addr string // host:port it listens on
}

// serveReplica starts a replica on database db and stops it when the test
// ends, checking that it exits 0.
func (h *harness) serveReplica(name, db string) *replica {
	h.t.Helper()
	ready := make(chan string, 1)
	m := h.main(nil, h.logs, h.logs)
	m.Ready = func(addr string) { ready <- addr }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	args := []string{"serve", "--db", db, "--addr", "127.0.0.1:0", "--public-url", pgPublicURL}
	go func() { done <- m.Run(ctx, args) }()
	r := &replica{name: name}
	select {
	case r.addr = <-ready:
	case code := <-done:
		h.t.Fatalf("%s exited with %d before it was ready:\n%s", name, code, h.logs.String())
	case <-time.After(30 * time.Second):
		h.t.Fatalf("%s did not become ready", name)
	}
	h.t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				h.t.Errorf("%s exited with %d", name, code)
			}
		case <-time.After(30 * time.Second):
			h.t.Errorf("%s did not stop", name)
		}
	})
	return r
}

// client returns an HTTP client that sends every request to this replica,
// whatever the URL's host, as a load balancer would.
func (r *replica) client(timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, r.addr)
		},
	}}
}

// call sends a request to the replica and returns the answer, or an
// error (a timeout, a broken connection) instead of failing the test, so
// that load generators can report it.
func (r *replica) call(c *http.Client, method, path string, body any, headers ...string) (response, error) {
	var rd io.Reader
	if body != nil {
		j, err := json.Marshal(body)
		if err != nil {
			return response{}, err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, pgPublicURL+path, rd)
	if err != nil {
		return response{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return response{}, err
	}
	return response{status: res.StatusCode, header: res.Header, body: b}, nil
}

func (r *replica) mustCall(t *testing.T, method, path string, body any, headers ...string) response {
	t.Helper()
	res, err := r.call(r.client(20*time.Second), method, path, body, headers...)
	if err != nil {
		t.Fatalf("%s: %s %s: %v", r.name, method, path, err)
	}
	return res
}

func (r *replica) verifier(t *testing.T, h *harness, ten tenantInfo) *verify.Verifier {
	t.Helper()
	v, err := verify.New(context.Background(), verify.Config{
		Issuer: pgPublicURL + "/" + ten.UserPoolID, ClientID: ten.ClientID, APIKey: ten.APIKey,
		HTTPClient: r.client(40 * time.Second), Now: h.clock.Now,
		FeedMaxStale: 10 * time.Second, KeyRefetchEvery: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatalf("verify.New on %s: %v", r.name, err)
	}
	t.Cleanup(func() { _ = v.Close() })
	return v
}

func jwksKIDs(t *testing.T, r *replica, pool string) []string {
	t.Helper()
	res := r.mustCall(t, "GET", "/"+pool+"/.well-known/jwks.json", nil)
	var ks struct {
		Keys []struct {
			KID string `json:"kid"`
		} `json:"keys"`
	}
	if res.status != 200 || json.Unmarshal(res.body, &ks) != nil {
		t.Fatalf("%s: JWKS: %d %s", r.name, res.status, res.body)
	}
	var out []string
	for _, k := range ks.Keys {
		out = append(out, k.KID)
	}
	return out
}

// TestPostgresReplicas runs three replicas on one database: a session
// signed in on the first is refreshed on the second and expired on the
// third; every replica's tokens are then refused, and every verifier
// following any replica's feed refuses them within the bound of SPEC §5
// (1 s). A key rotation made through one replica's database is used and
// published by the others.
func TestPostgresReplicas(t *testing.T) {
	h := pgHarness(t)
	var rs []*replica
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := range 3 { // start together: migrations take the lock in turn
		wg.Go(func() {
			r := h.serveReplica(fmt.Sprintf("replica %d", i+1), h.db)
			mu.Lock()
			rs = append(rs, r)
			mu.Unlock()
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].name < rs[j].name })
	r1, r2, r3 := rs[0], rs[1], rs[2]

	// Each replica exports its pgx pool's statistics.
	if m := r1.mustCall(t, "GET", "/metrics", nil); !strings.Contains(string(m.body), "actas_db_pool_max_connections ") {
		t.Error("/metrics lacks the PostgreSQL pool statistics")
	}

	ten := h.createTenant("acme")
	h.createUser("acme", "op", "op-password", "--group", "impersonator")
	key := []string{"X-API-Key", ten.APIKey}

	// Sign in on 1, refresh on 2, expire on 3.
	res := r1.mustCall(t, "POST", "/auth/token", map[string]string{"username": "op", "password": "op-password"}, key...)
	if res.status != 200 {
		t.Fatalf("sign in on replica 1: %d %s", res.status, res.body)
	}
	first := res.json(t)
	h.clock.Advance(time.Minute)
	res = r2.mustCall(t, "POST", "/auth/token", first, key...)
	if res.status != 200 {
		t.Fatalf("refresh on replica 2 of a session from replica 1: %d %s", res.status, res.body)
	}
	second := res.json(t)
	acc := str(sessionOf(t, second), "accessToken")

	// Verifiers, one following each replica's feed, accept the token.
	verifiers := []*verify.Verifier{r1.verifier(t, h, ten), r2.verifier(t, h, ten), r3.verifier(t, h, ten)}
	for i, v := range verifiers {
		if _, err := v.VerifyAccess(acc); err != nil {
			t.Fatalf("verifier of replica %d refuses a live token: %v", i+1, err)
		}
	}
	// The replicas accept the session's tokens: impersonating oneself is
	// refused after authentication (422), a revoked caller before (401).
	aliveOn := func(r *replica, body map[string]any) int {
		s := sessionOf(t, body)
		res, err := r.call(r.client(10*time.Second), "POST", "/auth/impersonate", map[string]string{"username": "op"},
			"X-API-Key", ten.APIKey, "Authorization", str(s, "authorization"), "AccessToken", str(s, "accessToken"))
		if err != nil {
			t.Errorf("%s: impersonate: %v", r.name, err)
			return 0
		}
		return res.status
	}
	for _, r := range rs {
		if st := aliveOn(r, second); st != 422 {
			t.Fatalf("%s: live caller impersonating itself: %d, want 422", r.name, st)
		}
	}

	res = r3.mustCall(t, "DELETE", "/auth/token", second, append(key, "AccessToken", acc)...)
	if res.status != 200 {
		t.Fatalf("expire on replica 3: %d %s", res.status, res.body)
	}
	revoked := time.Now()

	// Every verifier must refuse the token as revoked within 1 s (+ slack
	// for a loaded CI machine); each replica at once, from the database.
	delays := make([]time.Duration, len(verifiers))
	var vg sync.WaitGroup
	for i, v := range verifiers {
		vg.Go(func() {
			for {
				_, err := v.VerifyAccess(acc)
				if errors.Is(err, verify.ErrRevoked) {
					delays[i] = time.Since(revoked)
					return
				}
				if err != nil {
					t.Errorf("verifier of replica %d: refused for another reason: %v", i+1, err)
					return
				}
				if time.Since(revoked) > 5*time.Second {
					t.Errorf("verifier of replica %d still accepts the token 5 s after the revocation", i+1)
					return
				}
				time.Sleep(time.Millisecond)
			}
		})
	}
	for _, r := range rs {
		if st := aliveOn(r, second); st != 401 {
			t.Errorf("%s: revoked caller: %d, want 401", r.name, st)
		}
		for _, b := range []map[string]any{first, second} {
			res := r.mustCall(t, "POST", "/auth/token", b, key...)
			wantError(t, res, 401, "")
		}
	}
	refused := time.Since(revoked)
	vg.Wait()
	t.Logf("revocation on replica 3: every replica refused the tokens within %v (read from the database)", refused)
	for i, d := range delays {
		t.Logf("verifier following replica %d refused the revoked token after %v", i+1, d)
		if d > 1500*time.Millisecond {
			t.Errorf("verifier following replica %d refused the revoked token after %v, want at most 1 s (+0.5 s slack)", i+1, d)
		}
	}

	// Key rotation through the shared database (the CLI is one more
	// process on it): every replica publishes the new keys, and signs with
	// them, on its next request (key lists are read through).
	before := jwksKIDs(t, r2, ten.UserPoolID)
	h.mustCLI(nil, "keys", "rotate", "--tenant", "acme")
	h.clock.Advance(time.Second)
	res = r1.mustCall(t, "POST", "/auth/token", map[string]string{"username": "op", "password": "op-password"}, key...)
	if res.status != 200 {
		t.Fatalf("sign in after rotation: %d %s", res.status, res.body)
	}
	third := res.json(t)
	kid, _ := headerOf(t, str(sessionOf(t, third), "accessToken"))["kid"].(string)
	if slices.Contains(before, kid) {
		t.Fatalf("replica 1 still signs with an old key %s after rotation", kid)
	}
	for _, r := range []*replica{r2, r3} {
		if st := aliveOn(r, third); st != 422 {
			t.Errorf("%s: tokens signed with the rotated key by replica 1: %d, want 422", r.name, st)
		}
		if kids := jwksKIDs(t, r, ten.UserPoolID); !slices.Contains(kids, kid) {
			t.Errorf("%s: JWKS %v lacks the new key %s", r.name, kids, kid)
		}
	}
	res = r3.mustCall(t, "POST", "/auth/token", third, key...)
	if res.status != 200 {
		t.Errorf("refresh on replica 3 of a session signed with the new key: %d %s", res.status, res.body)
	}
}

// pgProxy forwards TCP connections to PostgreSQL until cut; cut, it drops
// every open connection and holds new ones open without a byte, like a
// database host gone from the network (the case that hangs clients
// without timeouts).
type pgProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	refuse bool // close new connections at once, as a host with nothing listening does
	conns  map[net.Conn]bool
}

func newPGProxy(t *testing.T, target string) *pgProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pgProxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			if p.refuse {
				p.mu.Unlock()
				c.Close()
				continue
			}
			p.conns[c] = true
			cut := p.cut
			p.mu.Unlock()
			if !cut {
				go p.forward(c)
			}
		}
	}()
	t.Cleanup(func() { ln.Close(); p.setCut(true) })
	return p
}

func (p *pgProxy) forward(c net.Conn) {
	d, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[d] = true
	p.mu.Unlock()
	go func() { _, _ = io.Copy(d, c); d.Close(); c.Close() }()
	_, _ = io.Copy(c, d)
	c.Close()
	d.Close()
}

func (p *pgProxy) setCut(cut bool) {
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

// outcome is one request of the load in TestPostgresOutage.
type outcome struct {
	replica    string
	kind       string // "signin", "refresh" or "expire"
	start, end time.Time
	status     int
	err        error
	retryAfter string
	envelope   bool
	session    string // origin_jti of a 200
	refresh    string // refresh token of a 200
}

// TestPostgresOutage cuts the database away from one replica under
// sign-in, refresh and expire load: it must answer only 200, 401 or 503 (with
// Retry-After and the error envelope), never hang past its bounds, come
// back by itself, and every session it acknowledged must be stored.
func TestPostgresOutage(t *testing.T) {
	h := pgHarness(t)
	u, _ := url.Parse(h.db)
	p := newPGProxy(t, u.Host)
	u.Host = p.ln.Addr().String()
	direct := h.serveReplica("direct", h.db)
	cutOff := h.serveReplica("proxied", u.String())

	ten := h.createTenant("acme")
	h.mustCLI(nil, "tenant", "set", "acme", "refresh_rotation=true")
	h.createUser("acme", "alice", "alice-password")
	key := []string{"X-API-Key", ten.APIKey}

	var (
		mu   sync.Mutex
		outs []outcome
	)
	stop := make(chan struct{})
	worker := func(r *replica) {
		c := r.client(20 * time.Second)
		var last map[string]any
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			o := outcome{replica: r.name, kind: "signin", start: time.Now()}
			var res response
			switch {
			case last != nil && n%4 == 3:
				o.kind = "expire"
				s, _ := last["session"].(map[string]any)
				o.session = originJTI(str(s, "accessToken"))
				res, o.err = r.call(c, "DELETE", "/auth/token", last, append(key, "AccessToken", str(s, "accessToken"))...)
			case last != nil && n%4 != 0:
				o.kind = "refresh"
				res, o.err = r.call(c, "POST", "/auth/token", last, key...)
			default:
				res, o.err = r.call(c, "POST", "/auth/token",
					map[string]string{"username": "alice", "password": "alice-password"}, key...)
			}
			o.end, o.status = time.Now(), res.status
			o.retryAfter = res.header.Get("Retry-After")
			var env struct {
				Status  string `json:"status"`
				Message string `json:"message"`
			}
			o.envelope = json.Unmarshal(res.body, &env) == nil && env.Status == "error" && env.Message != ""
			switch {
			case o.kind == "expire":
				last = nil
			case res.status == 200:
				var body map[string]any
				if err := json.Unmarshal(res.body, &body); err == nil {
					s, _ := body["session"].(map[string]any)
					o.refresh = str(s, "refreshToken")
					o.session = originJTI(str(s, "accessToken"))
					last = body
				}
			case res.status == 401:
				last = nil // reuse detection may have ended the family: sign in again
			}
			mu.Lock()
			outs = append(outs, o)
			mu.Unlock()
			if res.status == 503 {
				time.Sleep(50 * time.Millisecond) // a polite client honours Retry-After, roughly
			}
		}
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { worker(cutOff) })
	}
	wg.Go(func() { worker(direct) })

	time.Sleep(1500 * time.Millisecond)
	cutAt := time.Now()
	p.setCut(true)
	time.Sleep(8 * time.Second)
	restoredAt := time.Now()
	p.setCut(false)
	time.Sleep(7 * time.Second)
	close(stop)
	wg.Wait()

	count, byKind := map[string]map[int]int{}, map[string]int{}
	var maxDur time.Duration
	var duringCut503, afterOK int
	var firstOK time.Time
	for _, o := range outs {
		if o.err != nil {
			t.Errorf("%s %s: no answer after %v: %v", o.replica, o.kind, o.end.Sub(o.start), o.err)
			continue
		}
		if count[o.replica] == nil {
			count[o.replica] = map[int]int{}
		}
		count[o.replica][o.status]++
		byKind[o.replica+" "+o.kind+" "+fmt.Sprint(o.status)]++
		maxDur = max(maxDur, o.end.Sub(o.start))
		switch o.status {
		case 200, 401:
		case 503:
			if o.retryAfter == "" || !o.envelope {
				t.Errorf("%s %s: 503 with Retry-After %q, envelope %v", o.replica, o.kind, o.retryAfter, o.envelope)
			}
		default:
			t.Errorf("%s %s: status %d, want 200, 401 or 503", o.replica, o.kind, o.status)
		}
		if d := o.end.Sub(o.start); d > 8*time.Second {
			t.Errorf("%s %s took %v: a request must not hang on a dead database", o.replica, o.kind, d)
		}
		if o.replica == cutOff.name && o.start.After(cutAt) && o.end.Before(restoredAt) && o.status == 503 {
			duringCut503++
		}
		if o.replica == cutOff.name && o.start.After(restoredAt.Add(5*time.Second)) && o.status == 200 {
			afterOK++
		}
		if o.replica == cutOff.name && o.start.After(restoredAt) && o.status == 200 &&
			(firstOK.IsZero() || o.end.Before(firstOK)) {
			firstOK = o.end
		}
	}
	t.Logf("outcomes by replica and status: %v; slowest request %v; %d × 503 from the cut-off replica during the cut, %d × 200 after recovery",
		count, maxDur.Round(time.Millisecond), duringCut503, afterOK)
	t.Logf("by replica, kind and status: %v", byKind)
	t.Logf("first 200 from the cut-off replica %v after the database came back", firstOK.Sub(restoredAt).Round(time.Millisecond))
	if duringCut503 == 0 {
		t.Error("the cut-off replica answered no 503 while the database was cut")
	}
	if afterOK == 0 {
		t.Error("the cut-off replica did not recover within 5 s of the database coming back")
	}
	if count[direct.name][200] == 0 {
		t.Error("the replica with a working database served nothing")
	}

	// Every acknowledged sign-in and refresh is durable: the session and
	// the refresh token it returned are in the database; so is every
	// acknowledged expiry: the session is revoked, with its revocation.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, h.db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var checked int
	for _, o := range outs {
		if o.status != 200 {
			continue
		}
		var n int
		if o.kind == "expire" {
			err := conn.QueryRow(ctx, `SELECT count(*) FROM sessions s JOIN revocations r ON r.id = s.id
				WHERE s.id = $1 AND s.revoked_at > 0`, o.session).Scan(&n)
			if err != nil || n != 1 {
				t.Errorf("%s expire answered 200 but session %q is not stored revoked (%d, %v)", o.replica, o.session, n, err)
			}
			checked++
			continue
		}
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM sessions WHERE id = $1`, o.session).Scan(&n); err != nil || n != 1 {
			t.Errorf("%s %s answered 200 but session %q is not stored (%d, %v)", o.replica, o.kind, o.session, n, err)
		}
		hash := sha256.Sum256([]byte(o.refresh))
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM refresh_tokens WHERE hash = $1`, hash[:]).Scan(&n); err != nil || n != 1 {
			t.Errorf("%s %s answered 200 but its refresh token is not stored (%d, %v)", o.replica, o.kind, n, err)
		}
		checked++
	}
	t.Logf("checked %d acknowledged sign-ins, refreshes and expiries in the database", checked)
}

// originJTI returns the origin_jti claim of a JWT, unverified.
func originJTI(jwt string) string {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		OriginJti string `json:"origin_jti"`
	}
	_ = json.Unmarshal(b, &c)
	return c.OriginJti
}
