package sqlrow

import (
	"time"

	"github.com/actas-dev/actas"
)

// RevocationInsertCols are the revocations columns but the sequence number,
// in RevocationArgs's order.
const RevocationInsertCols = `tenant_id, id, revoked_at, expires_at`

// RevocationCols is the revocations table's column list as read.
const RevocationCols = `seq, ` + RevocationInsertCols

// ScanRevocation scans a row of RevocationCols.
func ScanRevocation(row Scanner) (*actas.Revocation, error) {
	var (
		r                actas.Revocation
		revoked, expires int64
	)
	if err := row.Scan(&r.Seq, &r.TenantID, &r.ID, &revoked, &expires); err != nil {
		return nil, err
	}
	r.RevokedAt, r.ExpiresAt = FromMS(revoked), FromMS(expires)
	return &r, nil
}

// RevocationArgs returns the values of RevocationInsertCols for r.
func RevocationArgs(r *actas.Revocation) []any {
	return []any{r.TenantID, r.ID, MS(r.RevokedAt), MS(r.ExpiresAt)}
}

// SessionRevocation returns the Revocation appended for a session revoked
// at at: it lasts as long as the session would have.
func SessionRevocation(s *actas.Session, at time.Time) *actas.Revocation {
	return &actas.Revocation{TenantID: s.TenantID, ID: s.ID, RevokedAt: at, ExpiresAt: s.ExpiresAt}
}
