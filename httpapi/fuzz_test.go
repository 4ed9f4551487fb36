package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzDecodeStrict: the JSON body parser never panics, and whatever it
// accepts is a single JSON object or value without duplicate keys that
// encoding/json also accepts.
func FuzzDecodeStrict(f *testing.F) {
	for _, s := range []string{
		`{"username":"alice","password":"pw"}`,
		`{"session":{"refreshToken":"x","accessToken":"y","expireEpoch":1}}`,
		`{"a":{"a":{"a":[1,2,{"b":null}]}}}`,
		`{"username":"a","username":"b"}`,
		`{"x":1} {}`,
		`[[[[[[[[[[]]]]]]]]]]`,
		"{\"u\":\"\xff\"}",
		`{"u":"\ud800"}`,
		`"just a string"`,
		``,
		`{`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var v authRequest
		if err := decodeStrict(body, &v); err != nil {
			if err != errBadJSON {
				t.Fatalf("unexpected error type %v", err)
			}
			return
		}
		if err := checkJSON(body); err != nil {
			t.Fatal("accepted body fails its own check")
		}
	})
}

// FuzzReadForm: the form parser never panics and never accepts a repeated
// parameter.
func FuzzReadForm(f *testing.F) {
	for _, s := range []string{
		"grant_type=x&actor_token=y",
		"a=1&a=2",
		"%zz=1",
		"token=" + strings.Repeat("x", 100),
		"",
		"=&=&",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, "/p/oauth2/token", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		v, err := readForm(r)
		if err != nil {
			return
		}
		for k, vals := range v {
			if len(vals) != 1 {
				t.Fatalf("repeated parameter %q accepted", k)
			}
		}
	})
}

// FuzzRequestID: whatever the client sends, the echoed id is safe to put
// in a header and a log line.
func FuzzRequestID(f *testing.F) {
	for _, s := range []string{"abc-123", "", "a b", "x\r\nSet-Cookie: y", strings.Repeat("a", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		id := requestID(in)
		if id == "" || len(id) > 128 || strings.ContainsAny(id, " \r\n\t\"") {
			t.Fatalf("requestID(%q) = %q", in, id)
		}
	})
}
