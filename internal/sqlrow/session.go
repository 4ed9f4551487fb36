package sqlrow

import (
	"fmt"
	"math"
	"strings"

	"github.com/actas-dev/actas"
)

// SessionCols is the sessions table's column list.
const SessionCols = `id, tenant_id, user_id, auth_time, expires_at, last_refresh_at, revoked_at, revoke_reason,
	client_ip, user_agent, refreshable, refresh_generation, rotated_at, impersonator_id, parent_id, reason,
	created_at`

// MaxGeneration is the largest refresh generation a store keeps. The
// generation columns (sessions.refresh_generation, refresh_tokens.generation)
// are INTEGER in both schemas: 64 bits in SQLite, 32 in PostgreSQL. Both
// stores read and write them as int64 and refuse, with the same error, a
// generation PostgreSQL could not hold, so neither wraps it silently.
const MaxGeneration = math.MaxInt32

// Generation returns n as written to a generation column, or an error if
// it is out of the range both stores hold.
func Generation(n int) (int64, error) {
	if n < math.MinInt32 || n > MaxGeneration {
		return 0, fmt.Errorf("refresh generation %d out of range", n)
	}
	return int64(n), nil
}

// SessionRow holds the columns of SessionCols while they are scanned.
type SessionRow struct {
	s                                                  actas.Session
	auth, expires, refreshed, revoked, rot, creat, gen int64
}

// Dest returns the scan destinations of SessionCols.
func (r *SessionRow) Dest() []any {
	s := &r.s
	return []any{&s.ID, &s.TenantID, &s.UserID, &r.auth, &r.expires, &r.refreshed, &r.revoked, &s.RevokeReason,
		&s.ClientIP, &s.UserAgent, &s.Refreshable, &r.gen, &r.rot, &s.ImpersonatorID, &s.ParentID,
		&s.Reason, &r.creat}
}

// Session returns the scanned session.
func (r *SessionRow) Session() *actas.Session {
	s := r.s
	s.RefreshGeneration = int(r.gen)
	s.AuthTime, s.ExpiresAt, s.LastRefreshAt = FromMS(r.auth), FromMS(r.expires), FromMS(r.refreshed)
	s.RevokedAt, s.RotatedAt, s.CreatedAt = FromMS(r.revoked), FromMS(r.rot), FromMS(r.creat)
	return &s
}

// StoredSession returns s as reading it back after writing SessionArgs(s)
// would: times at millisecond precision in UTC.
func StoredSession(s *actas.Session) *actas.Session {
	r := SessionRow{s: *s, auth: MS(s.AuthTime), expires: MS(s.ExpiresAt), refreshed: MS(s.LastRefreshAt),
		revoked: MS(s.RevokedAt), rot: MS(s.RotatedAt), creat: MS(s.CreatedAt), gen: int64(s.RefreshGeneration)}
	return r.Session()
}

// ScanSession scans a row of SessionCols.
func ScanSession(row Scanner) (*actas.Session, error) {
	var r SessionRow
	if err := row.Scan(r.Dest()...); err != nil {
		return nil, err
	}
	return r.Session(), nil
}

// SessionArgs returns the values of SessionCols after id and tenant_id.
func SessionArgs(s *actas.Session) ([]any, error) {
	gen, err := Generation(s.RefreshGeneration)
	if err != nil {
		return nil, err
	}
	return []any{s.UserID, MS(s.AuthTime), MS(s.ExpiresAt), MS(s.LastRefreshAt), MS(s.RevokedAt),
		s.RevokeReason, s.ClientIP, s.UserAgent, s.Refreshable, gen, MS(s.RotatedAt),
		s.ImpersonatorID, s.ParentID, s.Reason, MS(s.CreatedAt)}, nil
}

// Prefixed qualifies every column of a comma-separated list with p.
func Prefixed(p, cols string) string {
	fields := strings.Split(cols, ",")
	for i, f := range fields {
		fields[i] = p + strings.TrimSpace(f)
	}
	return strings.Join(fields, ", ")
}

// RefreshTokenCols is the refresh_tokens table's column list.
const RefreshTokenCols = `hash, session_id, generation, created_at`

// RefreshTokenArgs returns the values of RefreshTokenCols for rt stored
// with sessionID, refusing a token of another session.
func RefreshTokenArgs(sessionID string, rt *actas.RefreshToken) ([]any, error) {
	if rt.SessionID != "" && rt.SessionID != sessionID {
		return nil, fmt.Errorf("refresh token belongs to session %q, not %q", rt.SessionID, sessionID)
	}
	gen, err := Generation(rt.Generation)
	if err != nil {
		return nil, err
	}
	return []any{Blob(rt.Hash), sessionID, gen, MS(rt.CreatedAt)}, nil
}

// RefreshRow holds a row of RefreshTokenCols followed by SessionCols (a
// refresh token joined with its session) while it is scanned.
type RefreshRow struct {
	rt           actas.RefreshToken
	gen, created int64
	SessionRow
}

// Dest returns the scan destinations of RefreshTokenCols and SessionCols.
func (r *RefreshRow) Dest() []any {
	return append([]any{&r.rt.Hash, &r.rt.SessionID, &r.gen, &r.created}, r.SessionRow.Dest()...)
}

// Token returns the scanned refresh token, held in r (no copy: it is read
// on every refresh).
func (r *RefreshRow) Token() *actas.RefreshToken {
	r.rt.Generation, r.rt.CreatedAt = int(r.gen), FromMS(r.created)
	return &r.rt
}
