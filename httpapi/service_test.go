package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/httpapi"
	"github.com/actas-dev/actas/issuer"
)

// fakeTokens is a handler's issuer without a store: it embeds the whole
// interface (nil) and overrides what POST /auth/token calls, so a call
// to anything else panics and fails the test.
type fakeTokens struct {
	httpapi.Service
	refresh func(issuer.RefreshRequest) (*issuer.Result, error)
}

var fakeTenant = &actas.Tenant{ID: "t1", Name: "acme", UserPoolID: "local_fakefakefa", ClientID: "client1"}

func (f *fakeTokens) Authenticate(_ context.Context, key string) (*issuer.Client, error) {
	if key != "good-key" {
		return nil, actas.Errorf(actas.EFORBIDDEN, "Forbidden")
	}
	return &issuer.Client{Tenant: fakeTenant, APIKeyID: "k1"}, nil
}

func (f *fakeTokens) Refresh(_ context.Context, _ *issuer.Client, r issuer.RefreshRequest) (*issuer.Result, error) {
	return f.refresh(r)
}

func (f *fakeTokens) Now() time.Time { return time.Unix(1_700_000_000, 0) }

// The refresh handler, tested against a fake issuer: what it passes on
// from the wire, how it writes the issuer's answer, and how it maps the
// issuer's errors (a wrapped one keeps its Retry-After).
func TestRefreshHandlerWithFakeIssuer(t *testing.T) {
	var got issuer.RefreshRequest
	f := &fakeTokens{}
	h := (&httpapi.Server{Issuer: f, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}).Handler()
	post := func(key, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/auth/token", strings.NewReader(body))
		r.Header.Set("X-API-Key", key)
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	prev := `{"clientId":"client1","session":{"authorization":"id.tok.en","accessToken":"acc.tok.en","refreshToken":"rt-1"}}`

	f.refresh = func(r issuer.RefreshRequest) (*issuer.Result, error) {
		got = r
		return &issuer.Result{Tenant: fakeTenant, User: &actas.User{ID: "u1", Username: "alice"}, IDToken: "new.id.tok", AccessToken: "new.acc.tok",
			RefreshToken: "rt-2", ExpiresAt: time.Unix(1_700_003_600, 0)}, nil
	}
	w := post("good-key", prev)
	if w.Code != http.StatusOK {
		t.Fatalf("refresh: %d %s", w.Code, w.Body)
	}
	if got.RefreshToken != "rt-1" || got.AccessToken != "acc.tok.en" || got.ClientID != "client1" {
		t.Errorf("issuer got %+v; want the posted session's refresh and access tokens and clientId", got)
	}
	var res struct {
		Username string
		Session  struct{ Authorization, AccessToken, RefreshToken string }
	}
	if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if res.Username != "alice" || res.Session.Authorization != "new.id.tok" || res.Session.AccessToken != "new.acc.tok" || res.Session.RefreshToken != "rt-2" {
		t.Errorf("response %s does not carry the issuer's result", w.Body)
	}

	f.refresh = func(issuer.RefreshRequest) (*issuer.Result, error) {
		return nil, fmt.Errorf("refresh: %w", &actas.Error{Code: actas.EUNAVAILABLE, Message: "Service unavailable", RetryAfter: 9})
	}
	w = post("good-key", prev)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "9" {
		t.Errorf("unavailable: %d, Retry-After %q; want 503 and 9", w.Code, w.Header().Get("Retry-After"))
	}

	f.refresh = func(issuer.RefreshRequest) (*issuer.Result, error) {
		t.Error("refresh called with a bad API key")
		return nil, nil
	}
	if w = post("bad-key", prev); w.Code != http.StatusForbidden {
		t.Errorf("bad key: %d; want 403", w.Code)
	}
}
