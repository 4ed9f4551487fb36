package main

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestMetricsAddr: with --metrics-addr, /metrics is served on its own
// listener (and nothing else is), and the API port answers 404 for it.
func TestMetricsAddr(t *testing.T) {
	h := newHarness(t)
	h.serve("--metrics-addr", "127.0.0.1:0")
	ten := h.createTenant("acme")
	h.do("GET", "/"+ten.UserPoolID+"/.well-known/jwks.json", nil)
	m := regexp.MustCompile(`metrics_addr=(\S+)`).FindStringSubmatch(h.logs.String())
	if m == nil || m[1] == "" || m[1] == `""` {
		t.Fatalf("serve did not log its metrics_addr listener:\n%s", h.logs.String())
	}
	get := func(url string) (int, string) {
		t.Helper()
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	status, body := get("http://" + m[1] + "/metrics")
	if status != 200 || !strings.Contains(body, `actas_http_requests_total{method="GET",route="GET /{pool}/.well-known/jwks.json",status="200"}`) {
		t.Fatalf("metrics listener /metrics: %d\n%.300s", status, body)
	}
	if status, _ := get("http://" + m[1] + "/healthz"); status != 404 {
		t.Errorf("metrics listener /healthz: %d, want 404 (it serves /metrics only)", status)
	}
	r := h.do("GET", "/metrics", nil)
	wantError(t, r, 404, "")

	// The setting is checked with the others.
	_, errOut, code := h.cli("", "config", "print", "--metrics-addr", "nonsense")
	if code != 2 || !strings.Contains(errOut, "metrics_addr") {
		t.Errorf("config print --metrics-addr nonsense: exit %d, %s", code, errOut)
	}
}
