package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Operations: readiness, drain, configuration, reload, client address,
// metrics, TLS, version. Everything runs the real program (harness).

func dbPath(h *harness) string { return strings.TrimPrefix(h.db, "sqlite:") }

// removeDB deletes the database file under the running server, as an
// operator's mistake or a lost volume would. The open connections keep
// working on the unlinked file, so a Ping alone cannot see it.
func removeDB(h *harness) error {
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(dbPath(h) + suffix); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}

// waitReady polls /readyz until it answers status (readiness is cached
// for a second).
func waitReady(t *testing.T, h *harness, status int) response {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := h.do("GET", "/readyz", nil)
		if r.status == status {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz = %d %s, want %d", r.status, r.body, status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestReadyzFlipsWhenTheDatabaseGoesAway(t *testing.T) {
	h, _ := setup(t)
	waitReady(t, h, 200)
	if err := removeDB(h); err != nil {
		t.Fatal(err)
	}
	r := waitReady(t, h, 503)
	wantError(t, r, 503, "not ready: database")
	if r.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if r := h.do("GET", "/healthz", nil); r.status != 200 {
		t.Errorf("/healthz = %d: the process is alive, only not ready", r.status)
	}
	if !strings.Contains(h.logs.String(), "readiness check failed") || !strings.Contains(h.logs.String(), "check=database") {
		t.Errorf("the failing check was not logged with its cause:\n%s", h.logs.String())
	}
}

func TestReadyzFailsWhenTheMasterKeyOpensNoKey(t *testing.T) {
	h := newHarness(t)
	h.createTenant("acme")
	h.env["ACTAS_MASTER_KEY"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	h.serve()
	r := waitReady(t, h, 503)
	wantError(t, r, 503, "not ready: signing_keys")
}

func TestDrainOnSIGTERM(t *testing.T) {
	h, ten := setup(t)
	h.shutdown() // restart with a drain delay
	h.serve("--drain-delay", "1500ms", "--drain-timeout", "10s")

	// A sign-in whose body arrives slowly: the server has received the
	// request and is reading it when SIGTERM comes.
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", h.url+"/auth/token", pr)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", ten.APIKey)
	type result struct {
		status int
		err    error
	}
	resc := make(chan result, 1)
	go func() {
		res, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
		if err != nil {
			resc <- result{err: err}
			return
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		resc <- result{status: res.StatusCode}
	}()
	if _, err := pw.Write([]byte(`{"username":"alice",`)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)

	h.stop() // SIGTERM
	// Not ready at once, while still serving during the drain delay.
	r := h.do("GET", "/readyz", nil)
	wantError(t, r, 503, "not ready: draining")

	// Then the listener closes...
	addr := strings.TrimPrefix(h.url, "http://")
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the listener never closed")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// ...and the request already received still completes.
	if _, err := pw.Write([]byte(`"password":"alice-password"}`)); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	select {
	case res := <-resc:
		if res.err != nil || res.status != 200 {
			t.Fatalf("in-flight sign-in during drain: %d %v", res.status, res.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("in-flight request never completed")
	}
	select {
	case code := <-h.done:
		if code != 0 {
			t.Fatalf("serve exited %d after SIGTERM, want 0", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not exit")
	}
	h.stop = nil
	logs := h.logs.String()
	for _, want := range []string{"shutting down", "stopped"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q", want)
		}
	}
}

func TestConfigValidationReportsEveryProblem(t *testing.T) {
	h := newHarness(t)
	file := filepath.Join(t.TempDir(), "actas.json")
	if err := os.WriteFile(file, []byte(`{"adr": ":1", "master_key": "x", "drain_delay": 5}`), 0o600); err != nil {
		t.Fatal(err)
	}
	h.env["ACTAS_METRICS"] = "maybe"
	h.env["ACTAS_MASTER_KEY"] = "c2hvcnQta2V5LXZhbHVl" // base64, too short
	out, errOut, code := h.cli("", "serve", "--config", file,
		"--addr", "nope", "--log-format", "xml", "--log-level", "loud", "--drain-timeout", "soon",
		"--trusted-proxies", "10.0.0.0/8,10.0.0.0/40,proxy.local", "--tls-cert", "/nonexistent.pem",
		"--hash-concurrency", "-3", "--public-url", "ftp://x")
	if code != 2 {
		t.Fatalf("exit %d, want 2; stderr %q", code, errOut)
	}
	if out != "" || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("want nothing on stdout and one line on stderr; got %q, %q", out, errOut)
	}
	for _, want := range []string{
		`unknown setting "adr"`,
		"master_key may only be set in the environment",
		"drain_delay: \"5\" is not a duration",
		"ACTAS_METRICS: \"maybe\" is not true or false",
		`--drain-timeout: "soon" is not a duration`,
		`addr: "nope" is not host:port`,
		`log_format: "xml"`,
		`log_level: "loud"`,
		"tls_cert and tls_key: give both or neither",
		`"10.0.0.0/40"`, `"proxy.local"`,
		"ACTAS_MASTER_KEY:",
		"hash_concurrency: -3",
		`public_url: "ftp://x"`,
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(errOut, "c2hvcnQta2V5LXZhbHVl") {
		t.Error("the master key value was echoed")
	}
}

func TestConfigLayersAndPrint(t *testing.T) {
	h := newHarness(t)
	file := filepath.Join(t.TempDir(), "actas.json")
	if err := os.WriteFile(file, []byte(`{"addr": "127.0.0.1:9000", "log_level": "warn", "trusted_proxies": ["10.0.0.0/8", "192.0.2.1"], "metrics": false}`), 0o600); err != nil {
		t.Fatal(err)
	}
	h.env["ACTAS_LOG_LEVEL"] = "debug"                                // env beats file
	h.env["ACTAS_DB"] = "postgres://actas:s3cr3t-pw@db.example/actas" // redacted when printed
	out, errOut, code := h.cli("", "config", "print", "--json", "--config", file, "--addr", "127.0.0.1:9001")
	if code != 0 {
		t.Fatalf("config print: exit %d: %s", code, errOut)
	}
	// h.cli appends --db h.db (a flag beats the environment); print again
	// without it to see the DSN redacted.
	var c map[string]string
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	for k, want := range map[string]string{
		"addr": "127.0.0.1:9001", "log_level": "debug", "trusted_proxies": "10.0.0.0/8,192.0.2.1",
		"metrics": "false", "master_key": "REDACTED", "db": h.db, "drain_timeout": "30s",
	} {
		if c[k] != want {
			t.Errorf("%s = %q, want %q", k, c[k], want)
		}
	}
	if strings.Contains(out, testMasterKey) {
		t.Fatal("config print shows the master key")
	}
	m := h.main(nil, nil, nil)
	var stdout, stderr strings.Builder
	m.Stdout, m.Stderr = &stdout, &stderr
	if code := m.Run(t.Context(), []string{"config", "print"}); code != 0 {
		t.Fatalf("config print: %d %s", code, stderr.String())
	}
	if strings.Contains(stdout.String(), "s3cr3t-pw") || !strings.Contains(stdout.String(), "postgres://actas:REDACTED@db.example/actas") {
		t.Errorf("the DSN password is not redacted:\n%s", stdout.String())
	}
	if !regexp.MustCompile(`(?m)^log_level\s+debug\s+env$`).MatchString(stdout.String()) {
		t.Errorf("config print does not say where log_level came from:\n%s", stdout.String())
	}
}

// TestConfigReferenceInDocs keeps docs/operations.md's configuration
// table generated from the code: go test ./cmd/actas -run
// TestConfigReferenceInDocs -update rewrites it (go generate does too).
func TestConfigReferenceInDocs(t *testing.T) {
	const path = "../../docs/operations.md"
	const begin, end = "<!-- BEGIN CONFIG REFERENCE (generated by go generate ./cmd/actas; do not edit) -->\n", "<!-- END CONFIG REFERENCE -->"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the markers %q … %q", path, begin, end)
	}
	got, want := doc[i+len(begin):j], configReference()
	if got == want {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(doc[:i+len(begin)]+want+doc[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("docs/operations.md's configuration reference differs from the code; run go generate ./cmd/actas\nwant:\n%s", want)
}

func TestTrustedProxiesAndXForwardedFor(t *testing.T) {
	h, ten := setup(t)
	signIn := func(xff string) { // a sign-in: audited with the client address
		t.Helper()
		r := h.do("POST", "/auth/token", map[string]string{"username": "alice", "password": "alice-password"},
			"X-API-Key", ten.APIKey, "X-Forwarded-For", xff)
		if r.status != 200 {
			t.Fatalf("sign in: %d %s", r.status, r.body)
		}
	}
	// Untrusted peer: X-Forwarded-For is ignored.
	signIn("203.0.113.50")
	if !strings.Contains(h.logs.String(), "client_ip=127.0.0.1") || strings.Contains(h.logs.String(), "203.0.113.50") {
		t.Fatalf("an untrusted peer's X-Forwarded-For was believed:\n%s", h.logs.String())
	}
	// Trust the loopback proxy (and 10/8 as a second hop), by reload.
	file := filepath.Join(t.TempDir(), "actas.json")
	h.shutdown()
	if err := os.WriteFile(file, []byte(`{"trusted_proxies": []}`), 0o600); err != nil {
		t.Fatal(err)
	}
	h.serve("--config", file)
	if err := os.WriteFile(file, []byte(`{"trusted_proxies": ["127.0.0.1", "10.0.0.0/8"]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	h.hangup <- os.Interrupt // any value: the test's SIGHUP
	waitLog(t, h, "configuration reloaded")
	// client, spoofed by the client, then the real client, then a trusted
	// inner proxy: the right-most untrusted address is the client.
	signIn("198.51.100.66, 203.0.113.7, 10.1.2.3")
	signIn("garbage, 203.0.113.8")
	var events []map[string]any
	out, _, _ := h.cli("", "audit", "--tenant", "acme", "--json")
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var e map[string]any
		if json.Unmarshal([]byte(line), &e) == nil {
			events = append(events, e)
		}
	}
	ips := map[string]bool{}
	for _, e := range events {
		if s, _ := e["ip"].(string); s != "" {
			ips[s] = true
		}
	}
	for _, want := range []string{"203.0.113.7", "203.0.113.8"} {
		if !ips[want] {
			t.Errorf("no audit event from %s; addresses seen %v", want, ips)
		}
	}
	if ips["198.51.100.66"] || ips["10.1.2.3"] {
		t.Errorf("a spoofed or proxy address was taken for the client: %v", ips)
	}
	if !strings.Contains(h.logs.String(), "client_ip=203.0.113.7") {
		t.Error("the access log does not carry the client address")
	}
}

func waitLog(t *testing.T, h *harness, s string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(h.logs.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("log never said %q:\n%s", s, h.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestReloadRejectsABadConfigurationAndKeepsServing(t *testing.T) {
	h := newHarness(t)
	file := filepath.Join(t.TempDir(), "actas.json")
	if err := os.WriteFile(file, []byte(`{"log_level": "info"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	h.serve("--config", file)
	if err := os.WriteFile(file, []byte(`{"log_level": "chatty", "addr": ":1"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	h.hangup <- os.Interrupt
	waitLog(t, h, "reload rejected")
	if err := os.WriteFile(file, []byte(`{"log_level": "debug", "hash_max_wait": "3s"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	h.hangup <- os.Interrupt
	waitLog(t, h, "configuration reloaded")
	if !strings.Contains(h.logs.String(), "setting=hash_max_wait") {
		t.Error("a changed setting that needs a restart was not reported")
	}
	if r := h.do("GET", "/healthz", nil); r.status != 200 {
		t.Fatalf("after reloads: %d", r.status)
	}
}

func TestMetricsExposition(t *testing.T) {
	h, ten := setup(t)
	h.createUser("acme", "op", "op-password", "--group", "impersonator")
	alice := h.signIn(ten.APIKey, "alice", "alice-password")
	h.do("POST", "/auth/token", map[string]string{"username": "alice", "password": "wrong"}, "X-API-Key", ten.APIKey)
	h.do("POST", "/auth/token", alice, "X-API-Key", ten.APIKey)
	for range 7 {
		h.do("POST", "/auth/token", map[string]string{"username": "mallory", "password": "x"}, "X-API-Key", ten.APIKey)
	}
	op := sessionOf(t, h.signIn(ten.APIKey, "op", "op-password"))
	h.do("POST", "/auth/impersonate", map[string]string{"username": "alice"}, "X-API-Key", ten.APIKey,
		"Authorization", str(op, "authorization"), "AccessToken", str(op, "accessToken"))
	as := sessionOf(t, alice)
	h.do("POST", "/auth/impersonate", map[string]string{"username": "op"}, "X-API-Key", ten.APIKey,
		"Authorization", str(as, "authorization"), "AccessToken", str(as, "accessToken"))
	h.do("GET", "/"+ten.UserPoolID+"/.well-known/jwks.json", nil)

	r := h.do("GET", "/metrics", nil)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %d %s", r.status, r.header.Get("Content-Type"))
	}
	body := string(r.body)
	for _, want := range []string{
		`actas_http_requests_total{method="POST",route="POST /auth/token",status="200"}`,
		`actas_http_requests_total{method="GET",route="GET /{pool}/.well-known/jwks.json",status="200"}`,
		`actas_http_request_duration_seconds_bucket{method="POST",route="POST /auth/token",le=`,
		`actas_sign_ins_total{outcome="ok"} 2`,
		`actas_sign_ins_total{outcome="bad_credentials"}`,
		`actas_sign_ins_total{outcome="throttled"}`,
		`actas_throttled_total{op="sign_in"}`,
		`actas_refreshes_total{outcome="ok"} 1`,
		`actas_impersonations_total{outcome="allowed",via="impersonate"} 1`,
		`actas_impersonations_total{outcome="denied",via="impersonate"} 1`,
		`actas_password_hash_wait_seconds_count`,
		`actas_password_hash_in_flight`,
		`actas_password_hash_concurrency`,
		`actas_revocations `,
		`actas_revocation_cursor`,
		`actas_revocation_sync_age_seconds`,
		`go_sql_open_connections{db_name="writer"}`,
		`go_sql_wait_count_total{db_name="reader"}`,
		`actas_build_info{`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if regexp.MustCompile(`actas_throttled_total\{op="sign_in"\} 0\b`).MatchString(body) {
		t.Error("throttled attempts were not counted")
	}
	// No user, token, key or tenant identifier in any label.
	for _, secret := range []string{"alice", "mallory", "op-password", ten.APIKey, ten.UserPoolID, ten.ClientID,
		str(as, "accessToken"), str(as, "refreshToken")} {
		if strings.Contains(body, secret) {
			t.Errorf("/metrics contains %.20q", secret)
		}
	}
}

func TestMetricsOff(t *testing.T) {
	h := newHarness(t)
	h.serve("--metrics=false")
	if r := h.do("GET", "/metrics", nil); r.status != 404 {
		t.Fatalf("/metrics with metrics off: %d", r.status)
	}
}

// selfSigned writes a certificate and key for 127.0.0.1 and returns
// their paths and the certificate.
func selfSigned(t *testing.T, dir, name string) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalECPrivateKey(k)
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ = x509.ParseCertificate(der)
	return certFile, keyFile, cert
}

func TestTLSAndCertificateReload(t *testing.T) {
	dir := t.TempDir()
	c1, k1, cert1 := selfSigned(t, dir, "one")
	_, _, cert2 := selfSigned(t, dir, "two")
	h := newHarness(t)
	h.serve("--tls-cert", c1, "--tls-key", k1)
	addr := strings.TrimPrefix(h.url, "http://")
	pool := x509.NewCertPool()
	pool.AddCert(cert1)
	pool.AddCert(cert2)
	get := func(cfg *tls.Config) (*http.Response, error) {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
		res, err := c.Get("https://" + addr + "/healthz")
		if err == nil {
			res.Body.Close()
		}
		return res, err
	}
	res, err := get(&tls.Config{RootCAs: pool})
	if err != nil || res.StatusCode != 200 || res.TLS.PeerCertificates[0].Subject.CommonName != "one" {
		t.Fatalf("HTTPS: %v %v", res, err)
	}
	if _, err := get(&tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11}); err == nil {
		t.Error("TLS 1.1 was accepted")
	}
	// Renew: overwrite the files in place, SIGHUP.
	_, _, _ = selfSigned(t, dir, "two")
	b2c, _ := os.ReadFile(filepath.Join(dir, "two.crt"))
	b2k, _ := os.ReadFile(filepath.Join(dir, "two.key"))
	_ = os.WriteFile(c1, b2c, 0o600)
	_ = os.WriteFile(k1, b2k, 0o600)
	pool = x509.NewCertPool()
	if cert, err := x509.ParseCertificate(mustPEM(t, b2c)); err == nil {
		pool.AddCert(cert)
	}
	h.hangup <- os.Interrupt
	waitLog(t, h, "configuration reloaded")
	res, err = get(&tls.Config{RootCAs: pool})
	if err != nil || res.TLS.PeerCertificates[0].Subject.CommonName != "two" {
		t.Fatalf("after reload: %v %v", res, err)
	}
}

func mustPEM(t *testing.T, b []byte) []byte {
	t.Helper()
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatal("no PEM block")
	}
	return blk.Bytes
}

func TestVersionJSON(t *testing.T) {
	h := newHarness(t)
	out, _, code := h.cli("", "version", "--json")
	var v map[string]string
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil || v["version"] == "" || v["commit"] == "" || v["go"] == "" {
		t.Fatalf("version --json: %d %q", code, out)
	}
}

func TestShippedExampleConfigIsValid(t *testing.T) {
	h := newHarness(t)
	h.env["ACTAS_MASTER_KEY"] = testMasterKey
	if _, errOut, code := h.cli("", "config", "print", "--config", "../../deploy/actas.json"); code != 0 {
		t.Fatalf("deploy/actas.json: exit %d: %s", code, errOut)
	}
}
