package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/password"
)

// testMasterKey is a fixed master key so every Main of a test shares it.
const testMasterKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

// cheapHash keeps argon2id real but fast in end-to-end tests; the
// password package tests the OWASP parameters.
var cheapHash = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// clock is an injected, movable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().UTC().Truncate(time.Second)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// syncBuffer is a goroutine-safe bytes.Buffer for captured logs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// harness runs the real program: `actas serve` in-process on port 0 on a
// temporary SQLite database, and CLI commands against the same database.
type harness struct {
	t        *testing.T
	db       string
	clock    *clock
	env      map[string]string
	url      string
	logs     *syncBuffer
	hash     *password.Params // argon2id parameters; cheapHash if nil
	lastPool string
	stop     context.CancelFunc
	done     chan int
	hangup   chan os.Signal                // stands in for SIGHUP (ops_test.go)
	wrap     func(actas.Store) actas.Store // Main.WrapStore of serve (faults_test.go)
	memLimit func(int64) int64             // Main.SetMemoryLimit of serve (memlimit_test.go)
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{
		t:     t,
		db:    "sqlite:" + filepath.Join(t.TempDir(), "actas.db"),
		clock: newClock(),
		env:   map[string]string{"ACTAS_MASTER_KEY": testMasterKey},
		logs:  &syncBuffer{},
	}
	return h
}

func (h *harness) main(stdin io.Reader, stdout, stderr io.Writer) *Main {
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	return &Main{
		Stdin: stdin, Stdout: stdout, Stderr: stderr,
		Getenv:     func(k string) string { return h.env[k] },
		Now:        h.clock.Now,
		HashParams: h.hashParams(),
		WrapStore:  h.wrap,

		SetMemoryLimit:   h.memLimit,
		MemoryLimitEvery: 10 * time.Millisecond,
	}
}

func (h *harness) hashParams() *password.Params {
	if h.hash != nil {
		return h.hash
	}
	return &cheapHash
}

// serve starts the server and waits until it accepts connections.
func (h *harness) serve(extra ...string) {
	h.t.Helper()
	ready := make(chan string, 1)
	m := h.main(nil, h.logs, h.logs)
	m.Ready = func(addr string) { ready <- addr }
	h.hangup = make(chan os.Signal, 1)
	m.Hangup = h.hangup
	ctx, cancel := context.WithCancel(context.Background())
	h.stop, h.done = cancel, make(chan int, 1)
	args := append([]string{"serve", "--db", h.db, "--addr", "127.0.0.1:0"}, extra...)
	go func() { h.done <- m.Run(ctx, args) }()
	select {
	case addr := <-ready:
		h.url = "http://" + addr
	case code := <-h.done:
		h.t.Fatalf("serve exited with %d before it was ready:\n%s", code, h.logs.String())
	case <-time.After(20 * time.Second):
		h.t.Fatal("serve did not become ready")
	}
	h.t.Cleanup(h.shutdown)
}

func (h *harness) shutdown() {
	if h.stop == nil {
		return
	}
	h.stop()
	select {
	case code := <-h.done:
		if code != 0 {
			h.t.Errorf("serve exited with %d", code)
		}
	case <-time.After(20 * time.Second):
		h.t.Error("serve did not stop")
	}
	h.stop = nil
}

// cli runs one command line against the harness database.
func (h *harness) cli(stdin string, args ...string) (stdout, stderr string, code int) {
	h.t.Helper()
	var out, errb bytes.Buffer
	m := h.main(strings.NewReader(stdin), &out, &errb)
	code = m.Run(context.Background(), append(args, "--db", h.db))
	return out.String(), errb.String(), code
}

// mustCLI runs a command that must succeed and decodes its --json output.
func (h *harness) mustCLI(v any, args ...string) {
	h.t.Helper()
	out, errOut, code := h.cli("", append(args, "--json")...)
	if code != 0 {
		h.t.Fatalf("actas %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(out), v); err != nil {
			h.t.Fatalf("actas %s --json: output is not one JSON object: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

type tenantInfo struct {
	Name, UserPoolID, ClientID, Issuer, EndpointURL, APIKey string
}

func (h *harness) createTenant(name string) tenantInfo {
	h.t.Helper()
	var v struct {
		Name        string `json:"name"`
		UserPoolID  string `json:"userPoolId"`
		ClientID    string `json:"clientId"`
		Issuer      string `json:"issuer"`
		EndpointURL string `json:"endpointUrl"`
		APIKey      string `json:"apiKey"`
	}
	args := []string{"tenant", "create", name, "--endpoint-url", "https://api." + name + ".example/v1"}
	if h.url != "" {
		args = append(args, "--public-url", h.url)
	}
	h.mustCLI(&v, args...)
	return tenantInfo{v.Name, v.UserPoolID, v.ClientID, v.Issuer, v.EndpointURL, v.APIKey}
}

func (h *harness) createUser(tenant, username, pw string, extra ...string) string {
	h.t.Helper()
	var v struct {
		Sub string `json:"sub"`
	}
	h.mustCLI(&v, append([]string{"user", "create", "--tenant", tenant, "--username", username, "--password", pw}, extra...)...)
	return v.Sub
}

// response is an HTTP answer with its decoded JSON body.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.body)
	}
	return v
}

// do sends a request. headers alternate name, value.
func (h *harness) do(method, path string, body any, headers ...string) response {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, h.url+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// signIn signs in and returns the whole 200 body.
func (h *harness) signIn(apiKey, username, pw string) map[string]any {
	h.t.Helper()
	r := h.do("POST", "/auth/token", map[string]string{"username": username, "password": pw}, "X-API-Key", apiKey)
	if r.status != 200 {
		h.t.Fatalf("sign in %s: %d %s", username, r.status, r.body)
	}
	return r.json(h.t)
}

// wantError checks status, the envelope and (if msg is not empty) the
// message of an error answer.
func wantError(t *testing.T, r response, status int, msg string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var e struct {
		Status  string `json:"status"`
		Message string `json:"message"`
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("error body is not the envelope: %v: %s", err, r.body)
	}
	if e.Status != "error" || e.Message == "" {
		t.Fatalf("envelope = %+v", e)
	}
	if msg != "" && e.Message != msg {
		t.Fatalf("message = %q, want %q", e.Message, msg)
	}
}

func sessionOf(t *testing.T, body map[string]any) map[string]any {
	t.Helper()
	s, ok := body["session"].(map[string]any)
	if !ok {
		t.Fatalf("no session object in %v", body)
	}
	return s
}

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

// claimsOf decodes a JWT payload without verifying it (the tests that
// verify use a real OIDC library).
func claimsOf(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS compact token: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func headerOf(t *testing.T, jwt string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}
