package jose

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/actas-dev/actas/jose/josetest"
)

var enc = base64.RawURLEncoding

type testKey struct {
	kid  string
	priv crypto.Signer
	key  Key
}

var (
	keysOnce sync.Once
	testKeys map[string]*testKey // by alg, plus "fuzz" (the seed corpus's key)
)

// fuzzKID names a deterministic Ed25519 key (seed 32×0x07), the same as
// token's FuzzParse uses, so that the committed corpus holds tokens with
// valid signatures.
const fuzzKID = "fuzz-ed25519-key-0"

func keys(t testing.TB) map[string]*testKey {
	keysOnce.Do(func() {
		r, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		e, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		_, d, _ := ed25519.GenerateKey(rand.Reader)
		testKeys = map[string]*testKey{}
		for kid, k := range map[string]struct {
			alg  string
			priv crypto.Signer
		}{
			"rsa-key-1": {AlgRS256, r},
			"ec-key-1":  {AlgES256, e},
			"ed-key-1":  {AlgEdDSA, d},
			fuzzKID:     {AlgEdDSA, ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))},
		} {
			jk, err := NewKey(k.alg, k.priv.Public())
			if err != nil {
				panic(err)
			}
			name := k.alg
			if kid == fuzzKID {
				name = "fuzz"
			}
			testKeys[name] = &testKey{kid: kid, priv: k.priv, key: jk}
		}
	})
	return testKeys
}

func lookupIn(ks map[string]*testKey) func(string) (Key, bool) {
	return func(kid string) (Key, bool) {
		for _, k := range ks {
			if k.kid == kid {
				return k.key, true
			}
		}
		return Key{}, false
	}
}

// rawSign signs input as alg would with k.
func rawSign(k crypto.Signer, input []byte) []byte {
	switch p := k.(type) {
	case *rsa.PrivateKey:
		h := sha256.Sum256(input)
		s, _ := rsa.SignPKCS1v15(nil, p, crypto.SHA256, h[:])
		return s
	case *ecdsa.PrivateKey:
		h := sha256.Sum256(input)
		r, s, _ := ecdsa.Sign(rand.Reader, p, h[:])
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		return sig
	case ed25519.PrivateKey:
		return ed25519.Sign(p, input)
	}
	panic("unsupported key")
}

func craft(header, payload string, sign func([]byte) []byte) string {
	in := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	var sig []byte
	if sign != nil {
		sig = sign([]byte(in))
	}
	return in + "." + enc.EncodeToString(sig)
}

func signer(k *testKey) func([]byte) []byte {
	return func(in []byte) []byte { return rawSign(k.priv, in) }
}

func hdr(kid, alg string) string { return fmt.Sprintf(`{"kid":%q,"alg":%q}`, kid, alg) }

const payload = `{"sub":"a","exp":2000000000}`

func TestVerify(t *testing.T) {
	ks := keys(t)
	rs, es, ed := ks[AlgRS256], ks[AlgES256], ks[AlgEdDSA]
	for _, k := range []*testKey{rs, es, ed} {
		tok := craft(hdr(k.kid, k.key.Alg()), payload, signer(k))
		p, err := Verify(tok, lookupIn(ks))
		if err != nil || string(p) != payload {
			t.Fatalf("%s: Verify = %q, %v", k.key.Alg(), p, err)
		}
	}
	good := craft(hdr(ed.kid, AlgEdDSA), payload, signer(ed))
	seg := strings.Split(good, ".")
	pubDER := rs.key.Public().(*rsa.PublicKey).N.Bytes()
	hs256 := func(in []byte) []byte { m := hmac.New(sha256.New, pubDER); m.Write(in); return m.Sum(nil) }

	cases := []struct {
		name   string
		tok    string
		want   error
		lookup bool // whether lookup may be called
	}{
		{"alg none", craft(hdr(rs.kid, "none"), payload, nil), ErrMalformed, false},
		{"alg none signed", craft(hdr(rs.kid, "none"), payload, signer(rs)), ErrAlgorithm, false},
		{"HS256", craft(hdr(rs.kid, "HS256"), payload, hs256), ErrAlgorithm, false},
		{"alg missing", craft(`{"kid":"`+rs.kid+`"}`, payload, signer(rs)), ErrAlgorithm, false},
		{"RS256 relabelled ES256", craft(hdr(rs.kid, AlgES256), payload, signer(rs)), ErrAlgorithm, true},
		{"EdDSA kid, ES256 alg", craft(hdr(ed.kid, AlgES256), payload, signer(es)), ErrAlgorithm, true},
		{"payload changed", seg[0] + "." + enc.EncodeToString([]byte(`{"sub":"b"}`)) + "." + seg[2], ErrSignature, true},
		{"ES256 ASN.1 signature", craft(hdr(es.kid, AlgES256), payload, func(in []byte) []byte {
			h := sha256.Sum256(in)
			s, _ := es.priv.Sign(rand.Reader, h[:], crypto.SHA256)
			return s
		}), ErrSignature, true},
		{"unknown kid", craft(hdr("AAAA", AlgEdDSA), payload, signer(ed)), ErrUnknownKey, true},
		{"kid too long", craft(hdr(strings.Repeat("k", MaxKIDLen+1), AlgEdDSA), payload, signer(ed)), ErrMalformed, false},
		{"kid path", craft(hdr("../keys", AlgEdDSA), payload, signer(ed)), ErrMalformed, false},
		{"kid empty", craft(hdr("", AlgEdDSA), payload, signer(ed)), ErrMalformed, false},
		{"duplicate alg", craft(`{"kid":"`+ed.kid+`","alg":"EdDSA","alg":"EdDSA"}`, payload, signer(ed)), ErrMalformed, false},
		{"duplicate alg escaped", craft(`{"kid":"`+ed.kid+`","alg":"EdDSA","\u0061lg":"EdDSA"}`, payload, signer(ed)), ErrMalformed, false},
		{"ALG is not alg", craft(`{"kid":"`+ed.kid+`","ALG":"EdDSA"}`, payload, signer(ed)), ErrAlgorithm, false},
	}
	for _, m := range []string{"crit", "jwk", "jku", "x5u", "x5c", "b64", "zip", "enc"} {
		cases = append(cases, struct {
			name   string
			tok    string
			want   error
			lookup bool
		}{"header " + m, craft(`{"kid":"`+ed.kid+`","alg":"EdDSA","`+m+`":null}`, payload, signer(ed)), ErrMalformed, false})
	}
	for _, c := range []struct{ name, tok string }{
		{"empty", ""},
		{"two segments", seg[0] + "." + seg[1]},
		{"four segments", good + ".AAAA"},
		{"empty segment", seg[0] + ".." + seg[2]},
		{"padding", good + "=="},
		{"newline", good[:5] + "\n" + good[5:]},
		{"standard alphabet", seg[0] + "." + seg[1] + "+/" + "." + seg[2]},
		{"oversized", good + strings.Repeat("A", MaxTokenLen)},
		{"header too long", craft(`{"kid":"`+ed.kid+`","alg":"EdDSA","p":"`+strings.Repeat("p", MaxHeaderLen)+`"}`, payload, signer(ed))},
		{"header not an object", craft(`["EdDSA"]`, payload, signer(ed))},
		{"header invalid UTF-8", craft(`{"kid":"`+ed.kid+`","alg":"EdDSA","x":"`+"\xff"+`"}`, payload, signer(ed))},
	} {
		cases = append(cases, struct {
			name   string
			tok    string
			want   error
			lookup bool
		}{c.name, c.tok, ErrMalformed, false})
	}
	// Non-zero trailing bits in the signature: refused after lookup.
	i := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", good[len(good)-1])
	cases = append(cases, struct {
		name   string
		tok    string
		want   error
		lookup bool
	}{"non-canonical signature", good[:len(good)-1] + string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[i^1]), ErrMalformed, true})

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			called := false
			p, err := Verify(c.tok, func(kid string) (Key, bool) { called = true; return lookupIn(ks)(kid) })
			if !errors.Is(err, c.want) || p != nil {
				t.Fatalf("Verify = %q, %v; want %v", p, err, c.want)
			}
			var e *Error
			if !errors.As(err, &e) || e.Kind != c.want {
				t.Fatalf("err %v is not an *Error of kind %v", err, c.want)
			}
			if called && !c.lookup {
				t.Fatal("lookup called for a token that should have been refused before it")
			}
		})
	}
	t.Run("nil lookup", func(t *testing.T) {
		if _, err := Verify(good, nil); !errors.Is(err, ErrUnknownKey) {
			t.Fatal(err)
		}
	})
	t.Run("zero Key from lookup", func(t *testing.T) {
		if _, err := Verify(good, func(string) (Key, bool) { return Key{}, true }); !errors.Is(err, ErrUnknownKey) {
			t.Fatal(err)
		}
	})
}

func TestSentinelsWrap(t *testing.T) {
	mine := Sentinels{
		Malformed:  errors.New("x: malformed"),
		UnknownKey: errors.New("x: unknown key"),
		Algorithm:  errors.New("x: algorithm"),
		Signature:  errors.New("x: signature"),
	}
	ks := keys(t)
	ed := ks[AlgEdDSA]
	good := craft(hdr(ed.kid, AlgEdDSA), payload, signer(ed))
	for _, c := range []struct {
		tok      string
		want     error
		wantText string
	}{
		{"", mine.Malformed, "x: malformed: fewer than 3 segments"},
		{craft(hdr(ed.kid, "none"), payload, signer(ed)), mine.Algorithm, "x: algorithm: alg must be one of RS256, ES256, EdDSA"},
		{craft(hdr("nope", AlgEdDSA), payload, signer(ed)), mine.UnknownKey, "x: unknown key: kid nope"},
		{good[:len(good)-4] + "AAAA", mine.Signature, "x: signature"},
	} {
		_, err := Verify(c.tok, lookupIn(ks))
		err = mine.Wrap(err)
		if !errors.Is(err, c.want) || err.Error() != c.wantText {
			t.Errorf("%q: %v, want %q", c.tok, err, c.wantText)
		}
		for _, s := range []error{ErrMalformed, ErrUnknownKey, ErrAlgorithm, ErrSignature} {
			if errors.Is(err, s) {
				t.Errorf("%v still wraps %v", err, s)
			}
		}
	}
	other := errors.New("other")
	if mine.Wrap(other) != other {
		t.Error("Wrap changed a foreign error")
	}
}

func TestNewKey(t *testing.T) {
	ks := keys(t)
	rsaPub := ks[AlgRS256].key.Public().(*rsa.PublicKey)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	for name, c := range map[string]struct {
		alg string
		pub crypto.PublicKey
	}{
		"RS256 with EC key":    {AlgRS256, ks[AlgES256].key.Public()},
		"ES256 with RSA key":   {AlgES256, rsaPub},
		"EdDSA with RSA key":   {AlgEdDSA, rsaPub},
		"RS256 1024 bits":      {AlgRS256, &small.PublicKey},
		"RS256 even exponent":  {AlgRS256, &rsa.PublicKey{N: rsaPub.N, E: 65536}},
		"RS256 exponent 1":     {AlgRS256, &rsa.PublicKey{N: rsaPub.N, E: 1}},
		"RS256 nil":            {AlgRS256, (*rsa.PublicKey)(nil)},
		"ES256 P-384":          {AlgES256, &p384.PublicKey},
		"EdDSA short":          {AlgEdDSA, ed25519.PublicKey(make([]byte, 31))},
		"HS256":                {"HS256", rsaPub},
		"none":                 {"none", nil},
		"empty alg":            {"", rsaPub},
		"RS256 as PS256 label": {"PS256", rsaPub},
	} {
		if k, err := NewKey(c.alg, c.pub); err == nil {
			t.Errorf("%s: accepted as %v", name, k.Alg())
		}
	}
	// The zero Key verifies nothing.
	if (Key{}).Verify("a.b", nil) {
		t.Fatal("zero Key verified")
	}
}

func TestDecodeObject(t *testing.T) {
	for _, bad := range []string{
		`{"sub":"a","sub":"b"}`,
		`{"sub":"a","s\u0075b":"b"}`,
		`{"\u0073ub":"a","sub":"b"}`,
		`{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"k":11,"l":12,"m":13,"n":14,"o":15,"p":16,"q":17,"r":18,"s":19,"t":20,"u":21,"v":22,"w":23,"x":24,"y":25,"z":26,"A":27,"B":28,"C":29,"D":30,"E":31,"F":32,"G":33,"a":34}`,
		`[]`, `"x"`, `{} {}`, `{"a":1}x`, `{"a":"` + "\xff" + `"}`, ``, `{`, `null`,
	} {
		if err := DecodeObject([]byte(bad), func(_, _ []byte) error { return nil }); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
	var names []string
	err := DecodeObject([]byte(` {"SUB":1, "sub" : "x", "a\"b":{"c":[1,"}"]} } `), func(n, v []byte) error {
		names = append(names, string(n)+"="+string(v))
		return nil
	})
	if want := []string{`SUB=1`, `sub="x"`, `a"b={"c":[1,"}"]}`}; err != nil || !reflect.DeepEqual(names, want) {
		t.Fatalf("members %q, %v", names, err)
	}

	var n int64
	for _, v := range []string{`1.5`, `1e9`, `"1"`, `99999999999999999999`, `true`} {
		if err := DecodeInt([]byte(v), &n); err == nil {
			t.Errorf("DecodeInt accepted %s", v)
		}
	}
	var s string
	for _, v := range []string{`["a","b"]`, `[]`, `[1]`, `1`, `{}`, ``} {
		if err := DecodeAudience([]byte(v), &s); err == nil {
			t.Errorf("DecodeAudience accepted %s", v)
		}
	}
	if err := DecodeAudience([]byte(`["a\u0062"]`), &s); err != nil || s != "ab" {
		t.Errorf("DecodeAudience = %q, %v", s, err)
	}
	if err := DecodeString(nil, &s); err == nil {
		t.Error("DecodeString accepted nothing")
	}
}

// FuzzVerify: whatever Verify accepts must be three segments under the
// bound whose signature the named key really made, and every error is an
// *Error of exactly one kind. Its corpus holds the tokens of token's
// FuzzParse, signed with the same deterministic key.
func FuzzVerify(f *testing.F) {
	ks := keys(f)
	fk := ks["fuzz"]
	for _, k := range ks {
		f.Add(craft(hdr(k.kid, k.key.Alg()), payload, signer(k)))
	}
	f.Add(craft(hdr(fuzzKID, "none"), `{"sub":"x"}`, nil))
	f.Add(craft(`{"kid":"`+fuzzKID+`","alg":"EdDSA","alg":"none"}`, `{}`, signer(fk)))
	f.Add("a.b.c")
	f.Add("..")
	lookup := lookupIn(ks)
	f.Fuzz(func(t *testing.T, tok string) {
		var used Key
		p, err := Verify(tok, func(kid string) (Key, bool) {
			k, ok := lookup(kid)
			used = k
			return k, ok
		})
		if err != nil {
			var e *Error
			if p != nil || !errors.As(err, &e) {
				t.Fatalf("payload %q or error %v not an *Error", p, err)
			}
			// Unwrap gives Kind alone, so one kind is one sentinel.
			switch e.Kind {
			case ErrMalformed, ErrUnknownKey, ErrAlgorithm, ErrSignature:
			default:
				t.Fatalf("error %v of unknown kind %v", err, e.Kind)
			}
			return
		}
		if len(tok) > MaxTokenLen || strings.Count(tok, ".") != 2 {
			t.Fatalf("accepted %q", tok)
		}
		i := strings.LastIndexByte(tok, '.')
		sig, err := enc.Strict().DecodeString(tok[i+1:])
		if err != nil || !used.Verify(tok[:i], sig) {
			t.Fatalf("accepted a token whose signature does not verify: %q", tok)
		}
		if want, err := enc.Strict().DecodeString(tok[strings.IndexByte(tok, '.')+1 : i]); err != nil || !bytes.Equal(p, want) {
			t.Fatalf("payload %q is not the token's", p)
		}
	})
}

// FuzzObject checks DecodeObject against refMembers, a slow reference on
// encoding/json's own tokenizer: both must accept the same documents and
// report the same members.
func FuzzObject(f *testing.F) {
	f.Add([]byte(`{"sub":"a","aud":["b"],"act":{"sub":"c"},"exp":1}`))
	f.Add([]byte(`{"sub":"a","sub":"b"}`))
	f.Add([]byte(`{"s\u0075b":"a","sub":"b"}`))
	f.Add([]byte(`{"cognito:groups":["a",null],"email":null,"email_verified":false}`))
	f.Add([]byte(` {"exp":-0,"iat":1e3,"nbf":"1"} `))
	f.Add([]byte(`{"act":{"username":"x\"y","sub":{"a":[1,{"b":"}"}]}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var got []string
		err := DecodeObject(b, func(n, v []byte) error {
			var compact bytes.Buffer
			if err := json.Compact(&compact, v); err != nil {
				t.Fatalf("%s: value %q is not JSON", b, v)
			}
			got = append(got, string(n)+"\x00"+compact.String())
			return nil
		})
		want, refErr := refMembers(b)
		if (err == nil) != (refErr == nil) {
			t.Fatalf("%s: DecodeObject err %v, reference err %v", b, err, refErr)
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%s:\n got %q\nwant %q", b, got, want)
		}
	})
}

// refMembers is the reference for DecodeObject, on josetest.RefObject.
// Each member is name NUL compact value.
func refMembers(b []byte) ([]string, error) {
	var out []string
	err := josetest.RefObject(b, func(name string, dec *json.Decoder) error {
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return err
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, v); err != nil {
			return err
		}
		out = append(out, name+"\x00"+compact.String())
		return nil
	})
	return out, err
}

// TestFuzzCorpus keeps the committed corpus (token's FuzzParse seeds)
// honest: valid_eddsa must verify, or the fuzzer never explores the
// success path, and so must duplicate_claim, whose payload Verify does
// not read (its callers refuse it); every other seed is an attack that
// must not.
func TestFuzzCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzVerify", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus (%v)", err)
	}
	for _, name := range files {
		tok, err := josetest.CorpusString(name)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Verify(tok, lookupIn(keys(t)))
		base := filepath.Base(name)
		if valid := base == "valid_eddsa" || base == "duplicate_claim"; valid != (err == nil) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}
