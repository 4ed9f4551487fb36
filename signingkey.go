package actas

import "time"

// Key uses: ID tokens and access tokens are signed with different keys, so
// one can never pass for the other.
const (
	KeyUseID     = "id"
	KeyUseAccess = "access"
)

// Signing key states. A key is published in JWKS in every state but
// expired; it signs only while active.
const (
	KeyNext    = "next"    // published, not yet signing
	KeyActive  = "active"  // signing
	KeyRetired = "retired" // published until RetireUntil, no longer signing
	// KeyWithdrawn is a key taken out of service at once because it may be
	// compromised (actas keys retire): out of JWKS from RetireUntil (the
	// moment it was withdrawn), never signing again, and no token it
	// signed is trusted any more, expired or not. Rotations leave it alone.
	KeyWithdrawn = "withdrawn"
)

// SigningKey is an asymmetric key of one tenant for one use.
type SigningKey struct {
	KID        string
	TenantID   string
	Use        string // KeyUseID or KeyUseAccess
	Alg        string // AlgRS256, AlgES256, AlgEdDSA
	State      string
	PrivateEnc []byte // PKCS#8 private key sealed under the master key
	PublicDER  []byte // PKIX public key
	CreatedAt  time.Time
	ActivateAt time.Time // when a next key starts signing (zero: on demand)
	// RetireUntil is when a retired key leaves JWKS: the expiry of the last
	// token it can have signed.
	RetireUntil time.Time
}
