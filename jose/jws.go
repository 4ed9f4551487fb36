package jose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// The algorithms Verify accepts (RFC 7518 §3.3, §3.4; RFC 8037 §3.1).
// Everything else, "none" and the HMAC family above all, is refused
// before any key is looked up (RFC 8725 §2.1, §3.1).
const (
	AlgRS256 = "RS256"
	AlgES256 = "ES256"
	AlgEdDSA = "EdDSA"
)

const (
	// MaxTokenLen bounds the tokens Verify looks at. actas tokens are
	// about 1 KiB; the bound is checked before any decoding, so a huge
	// header or payload costs nothing.
	MaxTokenLen = 16 << 10
	// MaxHeaderLen bounds the encoded protected header. actas's is about
	// 60 characters; a large header can only be an attempt to make the
	// JSON decoder work before the signature is checked.
	MaxHeaderLen = 1 << 10
	// MaxKIDLen bounds a kid; see ValidKID.
	MaxKIDLen = 256
	// MinRSABits is the smallest RSA modulus NewKey accepts.
	MinRSABits = 2048
)

// Errors of Verify. Each error Verify returns is an *Error whose Kind is
// exactly one of them; test with errors.Is, or give them the caller's own
// sentinels with Sentinels.Wrap.
var (
	ErrMalformed  = errors.New("jose: malformed")
	ErrUnknownKey = errors.New("jose: unknown key")
	ErrAlgorithm  = errors.New("jose: algorithm not allowed")
	ErrSignature  = errors.New("jose: invalid signature")
)

// Error is an error of Verify: its kind, one of the sentinels, and what
// was wrong. Of the token's content, Detail echoes only a kid or alg that
// passed validation.
type Error struct {
	Kind   error
	Detail string // may be empty
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return e.Kind.Error()
	}
	return e.Kind.Error() + ": " + e.Detail
}

func (e *Error) Unwrap() error { return e.Kind }

func errorf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Detail: fmt.Sprintf(format, args...)}
}

// Sentinels are a caller's own errors for the kinds of Error, so that a
// package can keep its API's sentinels while Verify and Claims.Validate
// do the work.
type Sentinels struct {
	Malformed, UnknownKey, Algorithm, Signature error
	InvalidClaims, Expired                      error
}

// Wrap returns err, an error of Verify or Claims.Validate, wrapping the
// caller's sentinel for its kind instead of jose's, with the same detail:
// the text reads "<sentinel>: <detail>", or is the sentinel itself when
// there is no detail. It reuses err, which was made for this call alone.
// An error that is not an *Error of a kind s has a sentinel for is
// returned unchanged.
func (s *Sentinels) Wrap(err error) error {
	e, ok := err.(*Error)
	if !ok {
		return err
	}
	var kind error
	switch e.Kind {
	case ErrMalformed:
		kind = s.Malformed
	case ErrUnknownKey:
		kind = s.UnknownKey
	case ErrAlgorithm:
		kind = s.Algorithm
	case ErrSignature:
		kind = s.Signature
	case ErrInvalidClaims:
		kind = s.InvalidClaims
	case ErrExpired:
		kind = s.Expired
	default:
		return err
	}
	if kind == nil {
		return err
	}
	if e.Detail == "" {
		return kind
	}
	e.Kind = kind
	return e
}

// b64 is base64url without padding (RFC 7515 §2), strict: Verify has
// already refused every character outside the alphabet (the decoder would
// skip '\r' and '\n'), and Strict refuses non-zero trailing bits, so each
// token has exactly one spelling.
var b64 = base64.RawURLEncoding.Strict()

// b64URLAlphabet marks the 64 characters of base64url (RFC 4648 §5).
var b64URLAlphabet = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") {
		t[c] = true
	}
	return t
}()

// ValidKID reports whether kid is 1–MaxKIDLen characters of the base64url
// alphabet. Refusing everything else means a kid can never be read as a
// path, a query or a log escape by whatever a lookup does with it.
func ValidKID(kid string) bool {
	if len(kid) == 0 || len(kid) > MaxKIDLen {
		return false
	}
	for i := 0; i < len(kid); i++ {
		if !b64URLAlphabet[kid[i]] {
			return false
		}
	}
	return true
}

// Key is a public key pinned to the one algorithm it verifies with
// (RFC 8725 §3.1): the key, never the token, chooses the algorithm. The
// zero Key verifies nothing. Make one with NewKey.
type Key struct {
	alg string
	pub crypto.PublicKey
}

// NewKey pins pub to alg. It accepts exactly: RS256 with an RSA key of at
// least MinRSABits and an odd exponent in [3, 2^31-1]; ES256 with a P-256
// key; EdDSA with an Ed25519 key.
func NewKey(alg string, pub crypto.PublicKey) (Key, error) {
	switch alg {
	case AlgRS256:
		p, ok := pub.(*rsa.PublicKey)
		if !ok || p == nil || p.N == nil {
			return Key{}, fmt.Errorf("alg %s needs an RSA key, have %T", alg, pub)
		}
		if p.N.BitLen() < MinRSABits {
			return Key{}, fmt.Errorf("RSA key of %d bits, want at least %d", p.N.BitLen(), MinRSABits)
		}
		if p.E < 3 || p.E%2 == 0 || p.E > 1<<31-1 {
			return Key{}, fmt.Errorf("RSA key with bad exponent %d", p.E)
		}
	case AlgES256:
		p, ok := pub.(*ecdsa.PublicKey)
		if !ok || p == nil || p.Curve != elliptic.P256() {
			return Key{}, fmt.Errorf("alg %s needs a P-256 key, have %T", alg, pub)
		}
	case AlgEdDSA:
		p, ok := pub.(ed25519.PublicKey)
		if !ok || len(p) != ed25519.PublicKeySize {
			return Key{}, fmt.Errorf("alg %s needs an Ed25519 key, have %T", alg, pub)
		}
	default:
		return Key{}, fmt.Errorf("unsupported alg %q", alg)
	}
	return Key{alg: alg, pub: pub}, nil
}

// Alg returns the algorithm the key is pinned to.
func (k Key) Alg() string { return k.alg }

// Public returns the public key.
func (k Key) Public() crypto.PublicKey { return k.pub }

// Verify reports whether sig is the key's signature over input with the
// key's own algorithm: RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3),
// ECDSA P-256 with SHA-256 as the 64-byte R||S (§3.4; not ASN.1), or
// Ed25519 (RFC 8037 §3.1).
func (k Key) Verify(input string, sig []byte) bool {
	switch k.alg {
	case AlgRS256:
		p, ok := k.pub.(*rsa.PublicKey)
		if !ok {
			return false
		}
		h := sha256.Sum256([]byte(input))
		return rsa.VerifyPKCS1v15(p, crypto.SHA256, h[:], sig) == nil
	case AlgES256:
		p, ok := k.pub.(*ecdsa.PublicKey)
		if !ok || len(sig) != 64 {
			return false
		}
		h := sha256.Sum256([]byte(input))
		r := new(big.Int).SetBytes(sig[:32])
		s := new(big.Int).SetBytes(sig[32:])
		return ecdsa.Verify(p, h[:], r, s)
	case AlgEdDSA:
		p, ok := k.pub.(ed25519.PublicKey)
		return ok && len(sig) == ed25519.SignatureSize && ed25519.Verify(p, []byte(input), sig)
	}
	return false
}

// Verify verifies a compact JWS (RFC 7515 §7.1) and returns its payload,
// which it does not interpret: decoding and validating the claims is the
// caller's job.
//
// The order is what keeps it safe: bound the length; split into exactly
// three non-empty base64url segments; decode the protected header
// strictly (RFC 7515 §4, see DecodeObject); refuse any alg but RS256,
// ES256 and EdDSA (so "none" and HS*, RFC 8725 §2.1); refuse a bad kid;
// look the key up; require the header alg to equal the key's own alg,
// since the key, never the token, chooses the algorithm (RFC 8725 §3.1);
// verify the signature over the exact bytes of header.payload (RFC 7515
// §5.2); only then decode the payload.
//
// lookup returns the key for a kid that passed ValidKID, and false when
// there is none; it is called at most once, and not at all for a token
// refused before it.
func Verify(token string, lookup func(kid string) (Key, bool)) ([]byte, error) {
	if len(token) > MaxTokenLen {
		return nil, errorf(ErrMalformed, "longer than %d bytes", MaxTokenLen)
	}
	d1, d2, err := split(token)
	if err != nil {
		return nil, err
	}
	hb, err := b64.DecodeString(token[:d1])
	if err != nil {
		return nil, &Error{ErrMalformed, "header is not base64url"}
	}
	kid, alg, err := decodeHeader(hb)
	if err != nil {
		return nil, errorf(ErrMalformed, "header: %v", err)
	}
	switch alg {
	case AlgRS256, AlgES256, AlgEdDSA:
	default:
		return nil, &Error{ErrAlgorithm, "alg must be one of RS256, ES256, EdDSA"}
	}
	if !ValidKID(kid) {
		return nil, errorf(ErrMalformed, "kid must be 1-%d base64url characters", MaxKIDLen)
	}
	if lookup == nil {
		return nil, &Error{ErrUnknownKey, "no lookup"}
	}
	key, ok := lookup(kid)
	if !ok || key.alg == "" {
		return nil, &Error{ErrUnknownKey, "kid " + kid}
	}
	if alg != key.alg {
		return nil, errorf(ErrAlgorithm, "header alg %s, key %s is %s", alg, kid, key.alg)
	}

	sig, err := b64.DecodeString(token[d2+1:])
	if err != nil {
		return nil, &Error{ErrMalformed, "signature is not base64url"}
	}
	if !key.Verify(token[:d2], sig) {
		return nil, &Error{Kind: ErrSignature}
	}

	payload, err := b64.DecodeString(token[d1+1 : d2])
	if err != nil {
		return nil, &Error{ErrMalformed, "payload is not base64url"}
	}
	return payload, nil
}

// split checks the compact serialization (RFC 7515 §7.1) cheaply and
// strictly: exactly three non-empty segments of base64url characters and a
// header of at most MaxHeaderLen. It returns the positions of the two dots.
func split(token string) (d1, d2 int, err error) {
	// Find the dots first (IndexByte is vectorised), so garbage without
	// them costs next to nothing; then check every other byte.
	d1 = strings.IndexByte(token, '.')
	if d1 < 0 {
		return 0, 0, &Error{ErrMalformed, "fewer than 3 segments"}
	}
	d2 = strings.IndexByte(token[d1+1:], '.')
	if d2 < 0 {
		return 0, 0, &Error{ErrMalformed, "fewer than 3 segments"}
	}
	d2 += d1 + 1
	if strings.IndexByte(token[d2+1:], '.') >= 0 {
		return 0, 0, &Error{ErrMalformed, "more than 3 segments"}
	}
	for i := 0; i < len(token); i++ {
		if !b64URLAlphabet[token[i]] && i != d1 && i != d2 {
			return 0, 0, &Error{ErrMalformed, "character outside base64url"}
		}
	}
	if d1 == 0 || d2 == d1+1 || d2 == len(token)-1 {
		return 0, 0, &Error{ErrMalformed, "empty segment"}
	}
	if d1 > MaxHeaderLen {
		return 0, 0, errorf(ErrMalformed, "header longer than %d bytes", MaxHeaderLen)
	}
	return d1, d2, nil
}

// decodeHeader reads the JOSE header (RFC 7515 §4). It refuses a repeated
// member (§5.2 step 4 allows either refusing or last-wins; parsers
// disagree, so refuse), any "crit" (no extension is understood, §4.1.11),
// "b64" (RFC 7797), "zip" and "enc" (JWE, RFC 7516 §4.1), and the members
// that carry or point to a key (jwk, jku, x5u, x5c; §4.1.2-§4.1.6): a key
// comes only from the caller's lookup, never from the token. Other
// members, "typ" among them, are ignored.
func decodeHeader(b []byte) (kid, alg string, err error) {
	// One struct for both, so that the closure moves one value to the
	// heap, not two.
	var h struct{ kid, alg string }
	err = DecodeObject(b, func(name, v []byte) error {
		switch string(name) {
		case "alg":
			return DecodeString(v, &h.alg)
		case "kid":
			return DecodeString(v, &h.kid)
		case "crit", "jwk", "jku", "x5u", "x5c", "b64", "zip", "enc":
			return fmt.Errorf("member %q not accepted", name)
		}
		return nil
	})
	return h.kid, h.alg, err
}
