package token

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// MasterKeySize is the length of the master key in bytes (AES-256).
const MasterKeySize = 32

// nonceSize is the AES-GCM standard nonce length. A random 96-bit nonce is
// safe for far more than the handful of keys a deployment ever seals
// (NIST SP 800-38D §8.3 bounds it at 2^32 messages per key).
const nonceSize = 12

// ErrUnseal is returned by Open and LoadKey when sealed data cannot be
// opened: wrong master key, wrong associated data or corrupted bytes. GCM
// cannot tell these apart, and the message deliberately says no more.
var ErrUnseal = errors.New("token: cannot open sealed data (wrong master key or corrupted)")

// GenerateMasterKey returns a fresh master key: 32 random bytes, standard
// base64 encoded, the form ACTAS_MASTER_KEY takes (SPEC §5).
func GenerateMasterKey() string {
	b := make([]byte, MasterKeySize)
	_, _ = rand.Read(b) // crypto/rand.Read never fails; it crashes the program instead.
	return base64.StdEncoding.EncodeToString(b)
}

// ParseMasterKey decodes a master key written in standard or URL-safe
// base64, padded or not, ignoring surrounding white space (a key file ends
// in a newline). It must decode to exactly 32 bytes. Errors never contain
// the value, since it is a secret that ends up in logs.
func ParseMasterKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("master key: empty")
	}
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding,
		base64.URLEncoding, base64.RawURLEncoding,
	} {
		b, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(b) != MasterKeySize {
			clear(b)
			return nil, fmt.Errorf("master key: decodes to %d bytes, want %d", len(b), MasterKeySize)
		}
		return b, nil
	}
	return nil, fmt.Errorf("master key: not base64 (%d characters); generate one with `actas keys genmaster`", len(s))
}

// Sealer encrypts small secrets (private keys) at rest with AES-256-GCM.
// The sealed form is nonce(12) || ciphertext || tag(16). A Sealer is safe
// for concurrent use.
type Sealer struct {
	aead   cipher.AEAD
	derive [32]byte // the root of Derive (derive.go)
}

// NewSealer returns a Sealer for a 32-byte master key.
func NewSealer(masterKey []byte) (*Sealer, error) {
	if len(masterKey) != MasterKeySize {
		return nil, fmt.Errorf("master key: %d bytes, want %d", len(masterKey), MasterKeySize)
	}
	block, err := aes.NewCipher(masterKey)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	return &Sealer{aead: aead, derive: deriveRoot(masterKey)}, nil
}

// Seal encrypts plaintext, binding it to aad: Open succeeds only with the
// same aad. For private keys the aad is the kid, so a sealed key copied onto
// another key's row does not open.
func (s *Sealer) Seal(plaintext, aad []byte) []byte {
	out := make([]byte, nonceSize, nonceSize+len(plaintext)+s.aead.Overhead())
	_, _ = rand.Read(out)
	return s.aead.Seal(out, out[:nonceSize], plaintext, aad)
}

// Open decrypts what Seal produced with the same master key and aad. Any
// failure is ErrUnseal.
func (s *Sealer) Open(sealed, aad []byte) ([]byte, error) {
	if len(sealed) < nonceSize+s.aead.Overhead() {
		return nil, ErrUnseal
	}
	pt, err := s.aead.Open(nil, sealed[:nonceSize], sealed[nonceSize:], aad)
	if err != nil {
		return nil, ErrUnseal
	}
	return pt, nil
}
