package verify

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// MaxTokenLen bounds the tokens looked at; actas tokens are about 1 KiB.
// The bound is checked before any decoding.
const MaxTokenLen = 16 << 10

const (
	maxHeaderLen = 1 << 10
	maxKIDLen    = 256
	minRSABits   = 2048
)

// The algorithms actas signs with. The key, never the token, chooses the
// algorithm (RFC 8725 §3.1): a key is pinned to the alg of its JWK.
const (
	algRS256 = "RS256"
	algES256 = "ES256"
	algEdDSA = "EdDSA"
)

var b64 = base64.RawURLEncoding.Strict()

// key is one public key of the issuer, pinned to one algorithm.
type key struct {
	kid, alg string
	rsa      *rsa.PublicKey
	ec       *ecdsa.PublicKey
	ed       ed25519.PublicKey
}

// verify checks sig over input with the key's own algorithm.
func (k *key) verify(input string, sig []byte) bool {
	switch k.alg {
	case algRS256:
		h := sha256.Sum256([]byte(input))
		return rsa.VerifyPKCS1v15(k.rsa, crypto.SHA256, h[:], sig) == nil
	case algES256:
		if len(sig) != 64 {
			return false
		}
		h := sha256.Sum256([]byte(input))
		r := new(big.Int).SetBytes(sig[:32])
		s := new(big.Int).SetBytes(sig[32:])
		return ecdsa.Verify(k.ec, h[:], r, s)
	case algEdDSA:
		return len(sig) == ed25519.SignatureSize && ed25519.Verify(k.ed, []byte(input), sig)
	}
	return false
}

// jwk is one member of a JWK Set (RFC 7517 §4, RFC 7518 §6, RFC 8037 §2).
type jwk struct {
	Kty string `json:"kty"`
	KID string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// parseJWKS reads a JWK Set. Keys that are not signature keys of a
// supported algorithm are skipped; a malformed supported key, or two keys
// with one kid, is an error, since the set is then not to be trusted.
func parseJWKS(b []byte) (map[string]*key, error) {
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	out := make(map[string]*key, len(set.Keys))
	for _, j := range set.Keys {
		if j.Use != "" && j.Use != "sig" {
			continue
		}
		k, err := parseJWK(j)
		if err != nil {
			return nil, fmt.Errorf("jwks: key %q: %w", truncate(j.KID, 64), err)
		}
		if k == nil {
			continue
		}
		if _, dup := out[k.kid]; dup {
			return nil, fmt.Errorf("jwks: duplicate kid %q", truncate(k.kid, 64))
		}
		out[k.kid] = k
	}
	return out, nil
}

func parseJWK(j jwk) (*key, error) {
	if !validKID(j.KID) {
		return nil, errors.New("invalid kid")
	}
	k := &key{kid: j.KID, alg: j.Alg}
	switch j.Alg {
	case algRS256:
		if j.Kty != "RSA" {
			return nil, errors.New("RS256 needs kty RSA")
		}
		n, err1 := b64.DecodeString(j.N)
		e, err2 := b64.DecodeString(j.E)
		if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
			return nil, errors.New("bad RSA parameters")
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if pub.N.BitLen() < minRSABits || pub.E < 3 || pub.E%2 == 0 {
			return nil, errors.New("RSA key too small or bad exponent")
		}
		k.rsa = pub
	case algES256:
		if j.Kty != "EC" || j.Crv != "P-256" {
			return nil, errors.New("ES256 needs an EC P-256 key")
		}
		x, err1 := b64.DecodeString(j.X)
		y, err2 := b64.DecodeString(j.Y)
		if err1 != nil || err2 != nil || len(x) != 32 || len(y) != 32 {
			return nil, errors.New("bad EC parameters")
		}
		pt := append(append([]byte{4}, x...), y...)
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), pt)
		if err != nil {
			return nil, errors.New("EC point not on P-256")
		}
		k.ec = pub
	case algEdDSA:
		if j.Kty != "OKP" || j.Crv != "Ed25519" {
			return nil, errors.New("EdDSA needs an OKP Ed25519 key")
		}
		x, err := b64.DecodeString(j.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return nil, errors.New("bad Ed25519 parameters")
		}
		k.ed = ed25519.PublicKey(x)
	default:
		return nil, nil // not an algorithm actas uses: never trusted
	}
	return k, nil
}

// splitToken checks the compact form cheaply and strictly: bounded
// length, exactly three non-empty base64url segments, a bounded header.
// It returns the positions of the two dots.
func splitToken(tok string) (d1, d2 int, err error) {
	if len(tok) > MaxTokenLen {
		return 0, 0, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, MaxTokenLen)
	}
	d1 = strings.IndexByte(tok, '.')
	if d1 < 0 {
		return 0, 0, fmt.Errorf("%w: not a JWS", ErrMalformed)
	}
	d2 = strings.IndexByte(tok[d1+1:], '.')
	if d2 < 0 {
		return 0, 0, fmt.Errorf("%w: not a JWS", ErrMalformed)
	}
	d2 += d1 + 1
	if strings.IndexByte(tok[d2+1:], '.') >= 0 {
		return 0, 0, fmt.Errorf("%w: more than 3 segments", ErrMalformed)
	}
	for i := 0; i < len(tok); i++ {
		if !b64Alphabet[tok[i]] && i != d1 && i != d2 {
			return 0, 0, fmt.Errorf("%w: character outside base64url", ErrMalformed)
		}
	}
	if d1 == 0 || d2 == d1+1 || d2 == len(tok)-1 {
		return 0, 0, fmt.Errorf("%w: empty segment", ErrMalformed)
	}
	if d1 > maxHeaderLen {
		return 0, 0, fmt.Errorf("%w: header too long", ErrMalformed)
	}
	return d1, d2, nil
}

// decodeHeader reads the JOSE header. It refuses a repeated member, any
// "crit" (RFC 7515 §4.1.11), and members that carry or point to a key: a
// key comes only from the issuer's JWKS, never from the token.
func decodeHeader(b []byte) (kid, alg string, err error) {
	err = decodeObject(b, func(name, v []byte) error {
		switch string(name) {
		case "alg":
			return decodeString(v, &alg)
		case "kid":
			return decodeString(v, &kid)
		case "crit", "jwk", "jku", "x5u", "x5c", "b64", "zip", "enc":
			return fmt.Errorf("member %q not accepted", name)
		}
		return nil
	})
	return kid, alg, err
}

var b64Alphabet = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") {
		t[c] = true
	}
	return t
}()

func validKID(kid string) bool {
	if len(kid) == 0 || len(kid) > maxKIDLen {
		return false
	}
	for i := 0; i < len(kid); i++ {
		if !b64Alphabet[kid[i]] {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
