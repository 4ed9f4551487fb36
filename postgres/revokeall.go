package postgres

import (
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/internal/sqlrow"
)

// sessionRevocations returns one Revocation per revoked session.
func sessionRevocations(sessions []*actas.Session, at time.Time) []*actas.Revocation {
	revs := make([]*actas.Revocation, len(sessions))
	for i, s := range sessions {
		revs[i] = sqlrow.SessionRevocation(s, at)
	}
	return revs
}
