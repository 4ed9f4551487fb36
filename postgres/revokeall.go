package postgres

import (
	"time"

	"github.com/actas-dev/actas"
)

// sessionRevocations returns one Revocation per revoked session.
func sessionRevocations(sessions []*actas.Session, at time.Time) []*actas.Revocation {
	revs := make([]*actas.Revocation, len(sessions))
	for i, s := range sessions {
		revs[i] = &actas.Revocation{TenantID: s.TenantID, ID: s.ID, RevokedAt: at, ExpiresAt: s.ExpiresAt}
	}
	return revs
}
