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

	"github.com/actas-dev/actas/jose"
)

// MaxTokenLen bounds the tokens Parse looks at. Ours are about 1 KiB; the
// bound is checked before any decoding, so a huge header or payload costs
// nothing.
const MaxTokenLen = jose.MaxTokenLen

// Errors of Parse. Each returned error wraps exactly one of them; test with
// errors.Is. The text after the sentinel's says what was wrong; of the
// token's content it echoes only a kid or alg that passed validation.
var (
	ErrMalformed  = errors.New("token: malformed")
	ErrUnknownKey = errors.New("token: unknown key")
	ErrAlgorithm  = errors.New("token: algorithm not allowed")
	ErrSignature  = errors.New("token: invalid signature")
)

// Sign returns the compact JWS (RFC 7515 §7.1) of claims: the protected
// header {"kid":…,"alg":…}, payload json.Marshal(claims). A *Claims or
// Claims whose token_use differs from the key's use is refused, so an ID
// key never signs an access token.
func (k *Key) Sign(claims any) (string, error) {
	if k == nil {
		return "", errors.New("token: sign: key not made by LoadKey")
	}
	return k.signHead(k.head, claims)
}

func (k *Key) signHead(head string, claims any) (string, error) {
	if k.head == "" {
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
	n := len(head) + enc.EncodedLen(len(payload))
	buf := make([]byte, 0, n+1+enc.EncodedLen(k.sigLen()))
	buf = append(buf, head...)
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

// Parse verifies a compact JWS and decodes its claims. It does not check
// exp, iss or any other claim: that is Validate's job.
//
// The order is what keeps it safe, and is jose.Verify's up to the
// payload: bound the length; split into exactly three base64url segments;
// decode the protected header strictly; refuse any alg but RS256, ES256
// and EdDSA (so "none" and HS*, RFC 8725 §2.1); refuse a bad kid; look the
// key up; require the header alg to equal the key's own alg, since the
// key, never the token, chooses the algorithm (RFC 8725 §3.1); verify the
// signature over the exact bytes of header.payload (RFC 7515 §5.2); only
// then decode the payload, refusing a repeated claim name. Finally a key
// of one use vouches only for tokens of that token_use, so an ID key
// cannot verify an access token.
//
// lookup should return only the keys that may verify now (next, active,
// and retired until RetireUntil) of one tenant and one use; Lookup builds
// one.
func Parse(token string, lookup func(kid string) (*Key, bool)) (*Claims, *Key, error) {
	var (
		key  *Key
		find func(kid string) (jose.Key, bool) // nil for a nil lookup
	)
	if lookup != nil {
		find = func(kid string) (jose.Key, bool) {
			k, ok := lookup(kid)
			if !ok || k == nil || k.head == "" || k.kid != kid {
				return jose.Key{}, false
			}
			key = k
			return k.jose, true
		}
	}
	payload, err := jose.Verify(token, find)
	if err != nil {
		return nil, nil, joseErrors.Wrap(err)
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

// joseErrors gives jose.Verify's errors this package's sentinels.
var joseErrors = jose.Sentinels{
	Malformed:  ErrMalformed,
	UnknownKey: ErrUnknownKey,
	Algorithm:  ErrAlgorithm,
	Signature:  ErrSignature,

	InvalidClaims: ErrInvalidClaims,
	Expired:       ErrExpired,
}
