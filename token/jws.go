package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/actas-dev/actas"
)

// MaxTokenLen bounds the tokens Parse looks at. Ours are about 1 KiB; the
// bound is checked before any decoding, so a huge header or payload costs
// nothing.
const MaxTokenLen = 16 << 10

// maxHeaderLen bounds the encoded protected header. Ours is about 60
// characters; a large header can only be an attempt to make the JSON
// decoder work before the signature is checked.
const maxHeaderLen = 1 << 10

// Errors of Parse. Each returned error wraps exactly one of them; test with
// errors.Is. The text after the sentinel's says what was wrong; of the
// token's content it echoes only a kid or alg that passed validation.
var (
	ErrMalformed  = errors.New("token: malformed")
	ErrUnknownKey = errors.New("token: unknown key")
	ErrAlgorithm  = errors.New("token: algorithm not allowed")
	ErrSignature  = errors.New("token: invalid signature")
)

// b64 is base64url without padding (RFC 7515 §2), strict: Parse has
// already refused every character outside the alphabet (the decoder would
// skip '\r' and '\n'), and Strict refuses non-zero trailing bits, so each
// token has exactly one spelling.
var b64 = base64.RawURLEncoding.Strict()

// Sign returns the compact JWS (RFC 7515 §7.1) of claims: the protected
// header {"kid":…,"alg":…}, payload json.Marshal(claims). A *Claims or
// Claims whose token_use differs from the key's use is refused, so an ID
// key never signs an access token.
func (k *Key) Sign(claims any) (string, error) {
	if k == nil || k.head == "" {
		return "", errors.New("token: sign: key not made by LoadKey")
	}
	if k.priv == nil {
		return "", ErrNoPrivateKey
	}
	var use *string
	switch c := claims.(type) {
	case *Claims:
		if c == nil {
			return "", errors.New("token: sign: nil claims")
		}
		use = &c.TokenUse
	case Claims:
		use = &c.TokenUse
	}
	if use != nil && *use != k.use {
		return "", fmt.Errorf("token: sign: token_use %q with a key of use %q", *use, k.use)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("token: sign: %w", err)
	}
	enc := base64.RawURLEncoding
	n := len(k.head) + enc.EncodedLen(len(payload))
	buf := make([]byte, 0, n+1+enc.EncodedLen(k.sigLen()))
	buf = append(buf, k.head...)
	buf = enc.AppendEncode(buf, payload)
	sig, err := k.sign(buf)
	if err != nil {
		return "", fmt.Errorf("token: sign: %w", err)
	}
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, sig)
	return string(buf), nil
}

func (k *Key) sigLen() int {
	if p, ok := k.pub.(*rsa.PublicKey); ok {
		return p.Size()
	}
	return 64 // ES256 r||s (RFC 7518 §3.4), Ed25519 (RFC 8032 §5.1.6)
}

// sign signs the JWS signing input with the key's pinned algorithm.
func (k *Key) sign(input []byte) ([]byte, error) {
	switch p := k.priv.(type) {
	case *rsa.PrivateKey:
		h := sha256.Sum256(input)
		return rsa.SignPKCS1v15(nil, p, crypto.SHA256, h[:])
	case *ecdsa.PrivateKey:
		h := sha256.Sum256(input)
		r, s, err := ecdsa.Sign(rand.Reader, p, h[:])
		if err != nil {
			return nil, err
		}
		// RFC 7518 §3.4: R and S as 32-byte big-endian, concatenated; not
		// the ASN.1 DER that crypto/ecdsa's Signer returns.
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		return sig, nil
	case ed25519.PrivateKey:
		return ed25519.Sign(p, input), nil
	}
	return nil, fmt.Errorf("unsupported private key %T", k.priv)
}

// verify checks sig over the signing input with the key's own algorithm.
func (k *Key) verify(input string, sig []byte) bool {
	switch p := k.pub.(type) {
	case *rsa.PublicKey:
		h := sha256.Sum256([]byte(input))
		return rsa.VerifyPKCS1v15(p, crypto.SHA256, h[:], sig) == nil
	case *ecdsa.PublicKey:
		if len(sig) != 64 {
			return false
		}
		h := sha256.Sum256([]byte(input))
		r := new(big.Int).SetBytes(sig[:32])
		s := new(big.Int).SetBytes(sig[32:])
		return ecdsa.Verify(p, h[:], r, s)
	case ed25519.PublicKey:
		return len(sig) == ed25519.SignatureSize && ed25519.Verify(p, []byte(input), sig)
	}
	return false
}

// Parse verifies a compact JWS and decodes its claims. It does not check
// exp, iss or any other claim: that is Validate's job.
//
// The order is what keeps it safe: bound the length; split into exactly
// three base64url segments; decode the protected header strictly; refuse
// any alg but RS256, ES256 and EdDSA (so "none" and HS*, RFC 8725 §2.1);
// refuse a bad kid; look the key up; require the header alg to equal the
// key's own alg, since the key, never the token, chooses the algorithm
// (RFC 8725 §3.1); verify the signature over the exact bytes of
// header.payload (RFC 7515 §5.2); only then decode the payload, refusing
// a repeated claim name. Finally a key of one use vouches only for tokens
// of that token_use, so an ID key cannot verify an access token.
//
// lookup should return only the keys that may verify now (next, active,
// and retired until RetireUntil) of one tenant and one use; Lookup builds
// one.
func Parse(token string, lookup func(kid string) (*Key, bool)) (*Claims, *Key, error) {
	if len(token) > MaxTokenLen {
		return nil, nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, MaxTokenLen)
	}
	// Find the dots first (IndexByte is vectorised), so garbage without
	// them costs next to nothing; then check every other byte.
	d1 := strings.IndexByte(token, '.')
	if d1 < 0 {
		return nil, nil, fmt.Errorf("%w: fewer than 3 segments", ErrMalformed)
	}
	d2 := strings.IndexByte(token[d1+1:], '.')
	if d2 < 0 {
		return nil, nil, fmt.Errorf("%w: fewer than 3 segments", ErrMalformed)
	}
	d2 += d1 + 1
	if strings.IndexByte(token[d2+1:], '.') >= 0 {
		return nil, nil, fmt.Errorf("%w: more than 3 segments", ErrMalformed)
	}
	for i := 0; i < len(token); i++ {
		if !b64URLAlphabet[token[i]] && i != d1 && i != d2 {
			return nil, nil, fmt.Errorf("%w: character outside base64url", ErrMalformed)
		}
	}
	if d1 == 0 || d2 == d1+1 || d2 == len(token)-1 {
		return nil, nil, fmt.Errorf("%w: empty segment", ErrMalformed)
	}
	if d1 > maxHeaderLen {
		return nil, nil, fmt.Errorf("%w: header longer than %d bytes", ErrMalformed, maxHeaderLen)
	}

	hb, err := b64.DecodeString(token[:d1])
	if err != nil {
		return nil, nil, fmt.Errorf("%w: header is not base64url", ErrMalformed)
	}
	h, err := decodeHeader(hb)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	switch h.alg {
	case actas.AlgRS256, actas.AlgES256, actas.AlgEdDSA:
	default:
		return nil, nil, fmt.Errorf("%w: alg must be one of RS256, ES256, EdDSA", ErrAlgorithm)
	}
	if !validKID(h.kid) {
		return nil, nil, fmt.Errorf("%w: kid must be 1-%d base64url characters", ErrMalformed, MaxKIDLen)
	}
	if lookup == nil {
		return nil, nil, fmt.Errorf("%w: no lookup", ErrUnknownKey)
	}
	key, ok := lookup(h.kid)
	if !ok || key == nil || key.head == "" || key.kid != h.kid {
		return nil, nil, fmt.Errorf("%w: kid %s", ErrUnknownKey, h.kid)
	}
	if h.alg != key.alg {
		return nil, nil, fmt.Errorf("%w: header alg %s, key %s is %s", ErrAlgorithm, h.alg, key.kid, key.alg)
	}

	sig, err := b64.DecodeString(token[d2+1:])
	if err != nil {
		return nil, nil, fmt.Errorf("%w: signature is not base64url", ErrMalformed)
	}
	if !key.verify(token[:d2], sig) {
		return nil, nil, ErrSignature
	}

	payload, err := b64.DecodeString(token[d1+1 : d2])
	if err != nil {
		return nil, nil, fmt.Errorf("%w: payload is not base64url", ErrMalformed)
	}
	c, err := decodeClaims(payload)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	if c.TokenUse != key.use {
		return nil, nil, fmt.Errorf("%w: key %s signs %s tokens, not token_use %q", ErrUnknownKey, key.kid, key.use, c.TokenUse)
	}
	return c, key, nil
}

type header struct {
	kid, alg string
}

// decodeHeader reads the JOSE header (RFC 7515 §4). It refuses a repeated
// member (§5.2 step 4 allows either refusing or last-wins; parsers
// disagree, so refuse), any "crit" (we understand no extension, §4.1.11),
// and the members that carry or point to a key: a key comes only from
// lookup, never from the token.
func decodeHeader(b []byte) (header, error) {
	var h header
	err := decodeObject(b, func(name, v []byte) error {
		switch string(name) {
		case "alg":
			return decodeString(v, &h.alg)
		case "kid":
			return decodeString(v, &h.kid)
		case "crit", "jwk", "jku", "x5u", "x5c", "b64", "zip", "enc":
			return fmt.Errorf("member %q not accepted", name)
		}
		return nil
	})
	return h, err
}

// b64URLAlphabet marks the 64 characters of base64url (RFC 4648 §5).
var b64URLAlphabet = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") {
		t[c] = true
	}
	return t
}()

func isB64URL(c byte) bool { return b64URLAlphabet[c] }
