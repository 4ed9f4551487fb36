package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawExchange writes raw bytes on one TCP connection and reads every
// response the server sends before it closes the connection or stays
// silent for a second. It reports whether the connection was closed.
func rawExchange(t *testing.T, addr, raw string) (statuses []int, closed bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	for {
		_ = c.SetReadDeadline(time.Now().Add(time.Second))
		res, err := http.ReadResponse(br, nil)
		var ne net.Error
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			return statuses, true
		case errors.As(err, &ne) && ne.Timeout():
			return statuses, false
		case err != nil:
			t.Fatalf("reading a response: %v", err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		statuses = append(statuses, res.StatusCode)
	}
}

// TestFramingErrorsCloseTheConnection: a request with both Content-Length
// and Transfer-Encoding (the request-smuggling shape), or with a
// malformed chunked body, is answered and its connection closed, so the
// request smuggled behind it is never answered (RFC 9112 §6.1). A
// well-framed pipeline on one connection is answered in full, which shows
// the test would see a second answer if there were one.
func TestFramingErrorsCloseTheConnection(t *testing.T) {
	h := newHarness(t)
	h.serve()
	ten := h.createTenant("acme")
	addr := strings.TrimPrefix(h.url, "http://")
	smuggled := "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
	head := "POST /auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-API-Key: " + ten.APIKey + "\r\n"

	t.Run("control: a pipeline of two well-framed requests", func(t *testing.T) {
		body := `{"username":"nobody"}`
		statuses, _ := rawExchange(t, addr, head+"Content-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body+smuggled)
		if len(statuses) != 2 {
			t.Fatalf("answers = %v, want two", statuses)
		}
	})
	for _, c := range []struct{ name, raw string }{
		{"Content-Length and Transfer-Encoding",
			head + "Content-Length: 37\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled},
		{"Transfer-Encoding and Content-Length",
			head + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n" + smuggled},
		{"malformed chunk size",
			head + "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n" + smuggled},
	} {
		t.Run(c.name, func(t *testing.T) {
			statuses, closed := rawExchange(t, addr, c.raw)
			if len(statuses) != 1 {
				t.Fatalf("answers = %v, want exactly one (the smuggled request must not be answered)", statuses)
			}
			if statuses[0] < 400 || statuses[0] >= 500 {
				t.Errorf("status = %d, want a 4xx", statuses[0])
			}
			if !closed {
				t.Error("the connection stayed open after a framing error")
			}
		})
	}
}
