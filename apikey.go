package actas

import "time"

// APIKey is a tenant's secret sent as X-API-Key. Only the SHA-256 of its
// secret part is stored; the key itself is shown once, at creation.
type APIKey struct {
	ID         string // public identifier, part of the key string
	TenantID   string
	Name       string
	Hash       []byte // SHA-256 of the whole key string
	CreatedAt  time.Time
	LastUsedAt time.Time // zero if never used
	RevokedAt  time.Time // zero while valid
}

// Revoked reports whether the key has been revoked.
func (k *APIKey) Revoked() bool { return !k.RevokedAt.IsZero() }
