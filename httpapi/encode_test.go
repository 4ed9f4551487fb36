package httpapi

import (
	"bytes"
	"encoding/json"
	"testing"
)

func compareAppend(t *testing.T, a authResponse) {
	t.Helper()
	want, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	if got := a.appendJSON(nil); !bytes.Equal(got, want) {
		t.Fatalf("appendJSON = %s\njson.Marshal = %s", got, want)
	}
}

// TestAppendJSON: the response bodies that encode themselves are byte for
// byte what json.Marshal makes of them.
func TestAppendJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "a.b-c_d~", `q"uote`, `back\slash`, "<&>", "é", "\u2028", "\x00\x1f\x7f", "\xff", "tab\t"} {
		compareAppend(t, authResponse{EndpointURL: s, ClientID: s + "1", UserPoolID: s, Username: s, Password: s,
			Session: sessionResponse{Authorization: s, AccessToken: s, RefreshToken: s, ExpireEpoch: -1}})
	}
	compareAppend(t, authResponse{Session: sessionResponse{ExpireEpoch: 1767225600000}})
}

// FuzzAppendJSON: on every string, appendJSON and json.Marshal agree.
func FuzzAppendJSON(f *testing.F) {
	f.Add("endpoint", "alice", "eyJ.x.y", int64(1767225600000))
	f.Add("<\u2028>", "\xff", `"\`, int64(-5))
	f.Fuzz(func(t *testing.T, a, b, c string, n int64) {
		compareAppend(t, authResponse{EndpointURL: a, ClientID: b, UserPoolID: c, Username: a, Password: b,
			Session: sessionResponse{Authorization: c, AccessToken: a, RefreshToken: b, ExpireEpoch: n}})
	})
}
