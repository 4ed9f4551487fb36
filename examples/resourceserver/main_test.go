package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/actas-dev/actas/httpapi"
	"github.com/actas-dev/actas/issuer"
	"github.com/actas-dev/actas/password"
	"github.com/actas-dev/actas/sqlite"
	"github.com/actas-dev/actas/token"
	"github.com/actas-dev/actas/verify"
)

// actasServer runs a real actas (SQLite store, issuer, HTTP API) on a
// loopback port, wired as `actas serve` wires it, with one tenant and
// user alice. It returns the issuer URL, clientId and API key.
func actasServer(t *testing.T) (srvURL, iss, clientID, apiKey string) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "actas.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sealer, err := token.NewSealer(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(nil)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	i := issuer.New(issuer.Config{
		Store: db, Sealer: sealer, Logger: log, PublicURL: "http://" + ts.Listener.Addr().String(),
		Hasher: password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 2, 8, time.Second),
	})
	if err := i.Start(ctx); err != nil {
		t.Fatal(err)
	}
	bg, stop := context.WithCancel(ctx)
	t.Cleanup(stop)
	go i.Maintain(bg, time.Second, time.Hour)
	ts.Config.Handler = (&httpapi.Server{Issuer: i, Logger: log}).Handler()
	ts.Config.RegisterOnShutdown(i.Revocations().StopWaiters)
	ts.Start()
	t.Cleanup(ts.Close)
	ten, key, err := i.CreateTenant(ctx, issuer.CreateTenantRequest{Name: "acme", EndpointURL: "http://api.example"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := i.CreateUser(ctx, issuer.CreateUserRequest{Tenant: "acme", Username: "alice", Password: "alice-password"}); err != nil {
		t.Fatal(err)
	}
	return ts.URL, i.Issuer(ten), ten.ClientID, key
}

func call(t *testing.T, method, url string, body any, headers ...string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var v map[string]any
	_ = json.NewDecoder(res.Body).Decode(&v)
	return res.StatusCode, v
}

func TestResourceServerAgainstActas(t *testing.T) {
	actasURL, iss, clientID, key := actasServer(t)
	v, err := verify.New(context.Background(), verify.Config{Issuer: iss, ClientID: clientID, APIKey: key})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	api := httptest.NewServer(handler(v))
	defer api.Close()

	status, body := call(t, "POST", actasURL+"/auth/token", map[string]string{"username": "alice", "password": "alice-password"}, "X-API-Key", key)
	if status != 200 {
		t.Fatalf("sign in: %d %v", status, body)
	}
	session := body["session"].(map[string]any)
	id, access := session["authorization"].(string), session["accessToken"].(string)

	status, got := call(t, "GET", api.URL+"/hello", nil, "X-API-Key", key, "Authorization", id, "AccessToken", access)
	if status != 200 || got["hello"] != "alice" {
		t.Fatalf("original API headers: %d %v", status, got)
	}
	if status, got = call(t, "GET", api.URL+"/hello", nil, "X-API-Key", key, "Authorization", "Bearer "+access); status != 200 {
		t.Fatalf("bearer access token: %d %v", status, got)
	}
	if status, got = call(t, "GET", api.URL+"/hello", nil, "Authorization", id); status != 403 || got["status"] != "error" {
		t.Fatalf("no API key: %d %v", status, got)
	}

	// Sign out; the API refuses the tokens within a second.
	status, _ = call(t, "DELETE", actasURL+"/auth/token", body, "X-API-Key", key, "AccessToken", access)
	if status != 200 {
		t.Fatalf("expire: %d", status)
	}
	start := time.Now()
	for {
		status, got = call(t, "GET", api.URL+"/hello", nil, "X-API-Key", key, "Authorization", id, "AccessToken", access)
		if status == 401 {
			t.Logf("the API refused the signed-out tokens %v after the sign-out: %v", time.Since(start), got)
			break
		}
		if time.Since(start) > time.Second {
			t.Fatalf("still %d a second after sign-out", status)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if status, got = call(t, "GET", api.URL+"/healthz", nil); status != 200 || got["fail_closed"] != false {
		t.Fatalf("healthz: %d %v", status, got)
	}
}
