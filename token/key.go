package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/jose"
)

// RSABits is the size of generated RS256 keys (SPEC §4).
const RSABits = 2048

// MaxKIDLen bounds the kid a token may carry; longer ones are refused
// before any lookup.
const MaxKIDLen = jose.MaxKIDLen

// ErrNoPrivateKey is returned by Sign on a key loaded with PublicKey.
var ErrNoPrivateKey = errors.New("token: key has no private part")

// Key is a parsed signing key, ready to sign (when loaded with LoadKey) or
// verify. A Key is immutable and safe for concurrent use; the exported
// fields are informational copies of the stored key and changing them does
// not change how the key signs or verifies.
type Key struct {
	KID, Alg, Use, State string
	RetireUntil          time.Time
	Public               crypto.PublicKey

	priv crypto.Signer    // nil when loaded public-only
	pub  crypto.PublicKey // what verifies, whatever Public is set to
	jose jose.Key         // pub pinned to alg: what Parse verifies with
	kid  string
	alg  string // the algorithm the key is pinned to (RFC 7518 §3.1)
	use  string // the token_use this key vouches for
	// head is base64url({"kid":…,"alg":…}) followed by '.', computed once
	// so that Sign only encodes the payload.
	head string
}

// GenerateKey makes a new active signing key for tenantID. The kid is
// base64url of 16 random bytes: it names the key and carries no other
// meaning, and stays short in every token header. The PKCS#8 private key
// is sealed with the kid as associated data.
func GenerateKey(s *Sealer, tenantID, use, alg string, now time.Time) (*actas.SigningKey, error) {
	if s == nil {
		return nil, errors.New("generate key: nil sealer")
	}
	if tenantID == "" {
		return nil, errors.New("generate key: empty tenant id")
	}
	if err := checkUse(use); err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	var (
		priv crypto.Signer
		err  error
	)
	switch alg {
	case actas.AlgRS256:
		priv, err = rsa.GenerateKey(rand.Reader, RSABits)
	case actas.AlgES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case actas.AlgEdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, fmt.Errorf("generate key: unsupported alg %q", alg)
	}
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	defer clear(pkcs8)
	pub, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	kid := newKID()
	return &actas.SigningKey{
		KID:        kid,
		TenantID:   tenantID,
		Use:        use,
		Alg:        alg,
		State:      actas.KeyActive,
		PrivateEnc: s.Seal(pkcs8, []byte(kid)),
		PublicDER:  pub,
		CreatedAt:  now,
	}, nil
}

// LoadKey decrypts a stored key with the master key and returns it ready
// to sign. A wrong master key gives ErrUnseal and nothing else about why.
func LoadKey(s *Sealer, k *actas.SigningKey) (*Key, error) {
	if s == nil {
		return nil, errors.New("load key: nil sealer")
	}
	key, err := PublicKey(k)
	if err != nil {
		return nil, err
	}
	der, err := s.Open(k.PrivateEnc, []byte(k.KID))
	if err != nil {
		return nil, fmt.Errorf("load key %s: %w", k.KID, err)
	}
	defer clear(der)
	p, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("load key %s: private key is not PKCS#8", k.KID)
	}
	priv, ok := p.(crypto.Signer)
	if !ok || !publicEqual(priv.Public(), key.pub) {
		return nil, fmt.Errorf("load key %s: private key does not match public key", k.KID)
	}
	key.priv = priv
	return key, nil
}

// PublicKey parses the public half of a stored key, for verification and
// JWKS. It needs no master key.
func PublicKey(k *actas.SigningKey) (*Key, error) {
	if k == nil {
		return nil, errors.New("load key: nil key")
	}
	if !jose.ValidKID(k.KID) {
		return nil, fmt.Errorf("load key: invalid kid (want 1-%d base64url characters)", MaxKIDLen)
	}
	if err := checkUse(k.Use); err != nil {
		return nil, fmt.Errorf("load key %s: %w", k.KID, err)
	}
	pub, err := x509.ParsePKIXPublicKey(k.PublicDER)
	if err != nil {
		return nil, fmt.Errorf("load key %s: public key is not PKIX", k.KID)
	}
	jk, err := jose.NewKey(k.Alg, pub)
	if err != nil {
		return nil, fmt.Errorf("load key %s: %w", k.KID, err)
	}
	head, err := json.Marshal(struct {
		KID string `json:"kid"`
		Alg string `json:"alg"`
	}{k.KID, k.Alg})
	if err != nil {
		return nil, fmt.Errorf("load key %s: %w", k.KID, err)
	}
	return &Key{
		KID:         k.KID,
		Alg:         k.Alg,
		Use:         k.Use,
		State:       k.State,
		RetireUntil: k.RetireUntil,
		Public:      pub,
		pub:         pub,
		jose:        jk,
		kid:         k.KID,
		alg:         k.Alg,
		use:         k.Use,
		head:        base64.RawURLEncoding.EncodeToString(head) + ".",
	}, nil
}

// CanSign reports whether k holds a private key.
func (k *Key) CanSign() bool { return k != nil && k.priv != nil }

func checkUse(use string) error {
	switch use {
	case actas.KeyUseID, actas.KeyUseAccess:
		return nil
	}
	return fmt.Errorf("unsupported key use %q", use)
}

func publicEqual(a, b crypto.PublicKey) bool {
	e, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && e.Equal(b)
}

// Lookup returns a lookup for Parse over the keys of one use (KeyUseID or
// KeyUseAccess). Keys of other uses are left out, so an ID key never
// verifies an access token even if the caller passes every tenant key.
func Lookup(use string, keys ...*Key) func(kid string) (*Key, bool) {
	m := make(map[string]*Key, len(keys))
	for _, k := range keys {
		if k != nil && k.use == use {
			m[k.kid] = k
		}
	}
	return func(kid string) (*Key, bool) {
		k, ok := m[kid]
		return k, ok
	}
}

// jwk is one entry of a JWK Set (RFC 7517 §4, RFC 7518 §6). Field order
// is the order of the output.
type jwk struct {
	Kty string `json:"kty"`
	KID string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
}

// JWKS returns the JWK Set document (RFC 7517 §5) publishing keys. Only
// public parameters are written. Every key is "use":"sig": the ID/access
// split is actas's own and lives in the kid, not in the JWK. Two keys with
// one kid are an error, since a verifier could not tell them apart.
func JWKS(keys []*Key) ([]byte, error) {
	set := struct {
		Keys []jwk `json:"keys"`
	}{Keys: make([]jwk, 0, len(keys))}
	seen := make(map[string]bool, len(keys))
	b64 := base64.RawURLEncoding.EncodeToString
	for _, k := range keys {
		if k == nil {
			return nil, errors.New("jwks: nil key")
		}
		if k.head == "" {
			return nil, errors.New("jwks: key not made by LoadKey or PublicKey")
		}
		if seen[k.kid] {
			return nil, fmt.Errorf("jwks: duplicate kid %s", k.kid)
		}
		seen[k.kid] = true
		j := jwk{KID: k.kid, Use: "sig", Alg: k.alg}
		switch p := k.pub.(type) {
		case *rsa.PublicKey:
			// RFC 7518 §6.3.1: unsigned big-endian, minimal length.
			j.Kty, j.N, j.E = "RSA", b64(p.N.Bytes()), b64(big.NewInt(int64(p.E)).Bytes())
		case *ecdsa.PublicKey:
			// RFC 7518 §6.2.1: x and y are each the full 32 bytes of P-256.
			pt, err := p.Bytes() // 0x04 || X || Y
			if err != nil || len(pt) != 65 {
				return nil, fmt.Errorf("jwks: key %s: bad P-256 point", k.kid)
			}
			j.Kty, j.Crv, j.X, j.Y = "EC", "P-256", b64(pt[1:33]), b64(pt[33:])
		case ed25519.PublicKey:
			// RFC 8037 §2.
			j.Kty, j.Crv, j.X = "OKP", "Ed25519", b64(p)
		default:
			return nil, fmt.Errorf("jwks: key %s: unsupported type %T", k.kid, k.pub)
		}
		set.Keys = append(set.Keys, j)
	}
	return json.Marshal(set)
}

// newKID returns a random key id: 16 bytes, base64url. One in 64 would
// start with '-', which a command line takes for a flag (`actas keys
// retire -AjIJ…` fails): those are drawn again, as are ids starting with
// '_', so that every kid starts with a letter or a digit.
// NewKID returns a fresh kid as GenerateKey makes them: base64url of 16
// random bytes, starting with a letter or a digit.
func NewKID() string { return newKID() }

func newKID() string {
	for {
		var id [16]byte
		_, _ = rand.Read(id[:])
		if kid := base64.RawURLEncoding.EncodeToString(id[:]); kid[0] != '-' && kid[0] != '_' {
			return kid
		}
	}
}
