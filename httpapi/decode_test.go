package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCheckJSON(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	many := func(n int, dupAt int) string {
		var b strings.Builder
		b.WriteString("{")
		for i := range n {
			if i > 0 {
				b.WriteString(",")
			}
			k := i
			if i == dupAt {
				k = 0
			}
			b.WriteString(`"k` + strings.Repeat("x", k%7) + string(rune('a'+k%26)) + string(rune('a'+k/26%26)) + string(rune('a'+k/676)) + `":1`)
		}
		b.WriteString("}")
		return b.String()
	}
	for _, tc := range []struct {
		name, body string
		ok         bool
	}{
		{"sign-in", `{"username":"alice","password":"pw"}`, true},
		{"refresh", `{"session":{"refreshToken":"x","accessToken":"y","expireEpoch":1},"username":"a"}`, true},
		{"same key in sibling objects", `{"a":{"k":1},"b":{"k":2},"c":[{"k":1},{"k":2}]}`, true},
		{"same key at two levels", `{"k":{"k":{"k":1}}}`, true},
		{"key as a string value", `{"a":"a","b":"a"}`, true},
		{"duplicate", `{"username":"a","username":"b"}`, false},
		{"duplicate in nested", `{"session":{"refreshToken":"a","refreshToken":"b"}}`, false},
		{"duplicate after nested object", `{"a":{"x":1},"a":2}`, false},
		{"duplicate in array element", `[{"a":1,"a":2}]`, false},
		{"case folded", `{"username":"a","USERNAME":"b"}`, false},
		{"mixed case", `{"refreshToken":"a","refreshtoken":"b"}`, false},
		{"escaped", `{"username":"a","\u0075sername":"b"}`, false},
		{"escaped upper", `{"username":"a","\u0055SERNAME":"b"}`, false},
		{"long s folds to s", `{"session":1,"ſession":2}`, false},
		{"kelvin sign folds to k", `{"k":1,"K":2}`, false},
		{"different non-ASCII keys", `{"é":1,"è":2}`, true},
		{"non-ASCII case", `{"é":1,"É":2}`, false},
		{"escaped quote in key", `{"a\"b":1,"a\"c":2}`, true},
		{"escaped backslash before quote", `{"a\\":1,"b":"\\"}`, true},
		{"depth limit", deep(maxJSONDepth), true},
		{"too deep", deep(maxJSONDepth + 1), false},
		{"many keys", many(5000, -1), true},
		{"many keys, duplicate late", many(5000, 4999), false},
		{"many keys, duplicate before the map", many(10, 9), false},
		{"two values", `{} {}`, false},
		{"trailing garbage", `{"a":1}x`, false},
		{"unterminated", `{"a":"`, false},
		{"empty", ``, false},
		{"scalar", `"just a string"`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkJSON([]byte(tc.body))
			if (err == nil) != tc.ok {
				t.Fatalf("checkJSON(%.80q) = %v, want ok=%v", tc.body, err, tc.ok)
			}
			if ref := checkJSONReference([]byte(tc.body)); (ref == nil) != tc.ok {
				t.Fatalf("reference(%.80q) = %v, want ok=%v", tc.body, ref, tc.ok)
			}
		})
	}
}

// Two keys that the checker lets through must not both land in the same
// field: a decoded struct shows which one encoding/json took.
func TestCheckJSONAgreesWithFieldMatching(t *testing.T) {
	for _, body := range []string{
		`{"username":"a","uſername":"b"}`,
		`{"username":"a","USERNAME":"b"}`,
		`{"session":{"refreshToken":"a"},"SESSION":{"refreshToken":"b"}}`,
	} {
		var v authRequest
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatal(err)
		}
		// encoding/json matched both keys to one field (the last wins)...
		if v.Username != "b" && (v.Session == nil || v.Session.RefreshToken != "b") {
			t.Fatalf("%s: encoding/json did not take the second key; the test is wrong", body)
		}
		// ...so the strict decoder must refuse the body.
		if err := decodeStrict([]byte(body), &authRequest{}); err == nil {
			t.Errorf("%s accepted", body)
		}
	}
}

// checkJSONReference is the former checkJSON: a walk of json.Decoder's
// token stream, much slower, kept as the oracle of FuzzCheckJSON.
func checkJSONReference(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	type frame struct {
		keys      map[string]struct{} // nil for arrays
		expectKey bool
	}
	var stack []*frame
	values := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) && len(stack) == 0 && values == 1 {
			return nil
		}
		if err != nil {
			return errBadJSON
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			continue
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.keys != nil && top.expectKey {
			k, _ := tok.(string)
			q, _ := json.Marshal(k)
			f, err := foldKey(q)
			if err != nil {
				return errBadJSON
			}
			if _, dup := top.keys[string(f)]; dup {
				return errBadJSON
			}
			top.keys[string(f)] = struct{}{}
			top.expectKey = false
			continue
		}
		if top == nil {
			if values++; values > 1 {
				return errBadJSON
			}
		} else if top.keys != nil {
			top.expectKey = true
		}
		if d, ok := tok.(json.Delim); ok {
			if len(stack) >= maxJSONDepth {
				return errBadJSON
			}
			f := &frame{}
			if d == '{' {
				f.keys, f.expectKey = map[string]struct{}{}, true
			}
			stack = append(stack, f)
		}
	}
}

// FuzzCheckJSON: the fast checker and the token-stream oracle agree on
// every input, and neither panics.
func FuzzCheckJSON(f *testing.F) {
	for _, s := range []string{
		`{"username":"alice","password":"pw"}`,
		`{"session":{"refreshToken":"x","accessToken":"y","expireEpoch":1}}`,
		`{"a":{"a":{"a":[1,2,{"b":null}]}}}`,
		`{"username":"a","USERNAME":"b"}`,
		`{"k":1,"K":2}`,
		`{"a\"b":1,"a\\":[{"x":{}}]}`,
		`{"\u0061":1,"a":2}`,
		`[{"a":1},{"a":1}]`,
		`{"x":1} {}`,
		"{\"u\":\"\xff\",\"\xfe\":1}",
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, want := checkJSON(body), checkJSONReference(body)
		if (got == nil) != (want == nil) {
			t.Fatalf("checkJSON(%q) = %v, reference = %v", body, got, want)
		}
	})
}

// refreshBody is the shape of a refresh or expire body: a whole previous
// response posted back.
var refreshBody = []byte(`{"endpointUrl":"https://example.com","clientId":"1234567890abcdef","userPoolId":"local_abcdef","username":"alice","password":"",` +
	`"session":{"authorization":"` + strings.Repeat("x", 900) + `","accessToken":"` + strings.Repeat("y", 900) + `","refreshToken":"` + strings.Repeat("z", 43) + `","expireEpoch":1767225600000}}`)

func BenchmarkCheckJSON(b *testing.B) {
	body := refreshBody
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := checkJSON(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("reference", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := checkJSONReference(body); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// decodeReference is decodeStrict by encoding/json and the token-stream
// oracle: what the one-pass decoding of a jsonFields body must equal.
func decodeReference(body []byte, v any) error {
	if !utf8.Valid(body) || json.Unmarshal(body, v) != nil || checkJSONReference(body) != nil {
		return errBadJSON
	}
	return nil
}

var decodeFieldsSeeds = []string{
	`{"username":"alice","password":"pw"}`,
	`{"endpointUrl":"https://e","clientId":"c","userPoolId":"p","username":"a","password":"",` +
		`"session":{"authorization":"x.y.z","accessToken":"a.b.c","refreshToken":"r","expireEpoch":1767225600000}}`,
	`{"session":null}`,
	`{"session":{}}`,
	`{"session":"x"}`,
	`{"session":[]}`,
	`{"session":{"refreshToken":null}}`,
	`{"session":{"refreshToken":1}}`,
	`{"username":null,"password":true}`,
	`{"USERNAME":"a","ClientID":"c","SeSsIoN":{"REFRESHTOKEN":"r"}}`,
	`{"uſername":"long s","\u0075sername2":"x"}`,
	`{"\u0075sername":"escaped key"}`,
	`{"username":"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00"}`,
	`{"username":"\ud800"}`,
	`{"username":"é","password":"\u0000"}`,
	`{"x":[1,-0,0.5,-1e10,2E+3,3e-2,true,false,null,{"a":{}},[]]}`,
	`null`,
	` null `,
	`"string"`,
	`[]`,
	`1`,
	`{"username":"a"} x`,
	`{"username":"a",}`,
	`{"username" "a"}`,
	`{"a":01}`,
	`{"a":1.}`,
	`{"a":-}`,
	`{"a":tru}`,
	`{"a":"\x"}`,
	`{"a":"\u12"}`,
	"{\"a\":\"\x01\"}",
	"{\"u\":\"\xff\"}",
	`{"username":"a","USERNAME":"b"}`,
	`{"session":{"refreshToken":"a"},"SESSION":{"refreshToken":"b"}}`,
	`{"session":{"x":{"y":1},"x":2}}`,
	``,
	`{`,
	`{"a":[`,
}

// TestDecodeFields: the one-pass decoding of authRequest gives what
// encoding/json gives, and refuses what decodeStrict refuses.
func TestDecodeFields(t *testing.T) {
	deep := `{"x":` + strings.Repeat("[", maxJSONDepth-1) + strings.Repeat("]", maxJSONDepth-1) + `}`
	tooDeep := `{"session":{"x":` + strings.Repeat("[", maxJSONDepth-1) + strings.Repeat("]", maxJSONDepth-1) + `}}`
	for _, body := range append(decodeFieldsSeeds, deep, tooDeep) {
		compareDecode(t, []byte(body))
	}
	var v authRequest
	if err := decodeStrict([]byte(deep), &v); err != nil {
		t.Errorf("%d deep refused: %v", maxJSONDepth, err)
	}
	if err := decodeStrict([]byte(tooDeep), &v); err == nil {
		t.Errorf("%d deep accepted", maxJSONDepth+1)
	}
}

func compareDecode(t *testing.T, body []byte) {
	t.Helper()
	var got, want authRequest
	gotErr, wantErr := decodeStrict(body, &got), decodeReference(body, &want)
	if (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("%q: decodeStrict = %v, reference = %v", body, gotErr, wantErr)
	}
	if gotErr != nil && gotErr != errBadJSON {
		t.Fatalf("%q: error %v, want errBadJSON", body, gotErr)
	}
	if gotErr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: decoded %+v (session %+v), encoding/json %+v (session %+v)", body, got, got.Session, want, want.Session)
	}
}

// FuzzDecodeFields: on every input, the one-pass decoding of authRequest
// and encoding/json with the oracle agree: both refuse, or both accept
// with the same values.
func FuzzDecodeFields(f *testing.F) {
	for _, s := range decodeFieldsSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { compareDecode(t, body) })
}

// BenchmarkDecodeStrict: the one-pass decoding of a refresh body against
// what it replaced (encoding/json, then the key check).
func BenchmarkDecodeStrict(b *testing.B) {
	b.Run("one-pass", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v authRequest
			if err := decodeStrict(refreshBody, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v authRequest
			if !utf8.Valid(refreshBody) || json.Unmarshal(refreshBody, &v) != nil || checkJSON(refreshBody) != nil {
				b.Fatal("refused")
			}
		}
	})
}
