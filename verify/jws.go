package verify

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"

	"github.com/actas-dev/actas/jose"
)

// MaxTokenLen bounds the tokens looked at; actas tokens are about 1 KiB.
// The bound is checked before any decoding.
const MaxTokenLen = jose.MaxTokenLen

// b64 decodes the base64url members of a JWK (RFC 7518 §6), strictly.
var b64 = base64.RawURLEncoding.Strict()

// key is one public key of the issuer, pinned to the algorithm of its JWK:
// the key, never the token, chooses the algorithm (RFC 8725 §3.1).
type key struct {
	kid  string
	jose jose.Key
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
	if !jose.ValidKID(j.KID) {
		return nil, errors.New("invalid kid")
	}
	var pub crypto.PublicKey
	switch j.Alg {
	case jose.AlgRS256:
		if j.Kty != "RSA" {
			return nil, errors.New("RS256 needs kty RSA")
		}
		n, err1 := b64.DecodeString(j.N)
		e, err2 := b64.DecodeString(j.E)
		if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
			return nil, errors.New("bad RSA parameters")
		}
		pub = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	case jose.AlgES256:
		if j.Kty != "EC" || j.Crv != "P-256" {
			return nil, errors.New("ES256 needs an EC P-256 key")
		}
		x, err1 := b64.DecodeString(j.X)
		y, err2 := b64.DecodeString(j.Y)
		if err1 != nil || err2 != nil || len(x) != 32 || len(y) != 32 {
			return nil, errors.New("bad EC parameters")
		}
		pt := append(append([]byte{4}, x...), y...)
		p, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), pt)
		if err != nil {
			return nil, errors.New("EC point not on P-256")
		}
		pub = p
	case jose.AlgEdDSA:
		if j.Kty != "OKP" || j.Crv != "Ed25519" {
			return nil, errors.New("EdDSA needs an OKP Ed25519 key")
		}
		x, err := b64.DecodeString(j.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return nil, errors.New("bad Ed25519 parameters")
		}
		pub = ed25519.PublicKey(x)
	default:
		return nil, nil // not an algorithm actas uses: never trusted
	}
	// NewKey pins the key to j.Alg and refuses an RSA key under 2048 bits
	// or with a bad exponent.
	jk, err := jose.NewKey(j.Alg, pub)
	if err != nil {
		return nil, err
	}
	return &key{kid: j.KID, jose: jk}, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
