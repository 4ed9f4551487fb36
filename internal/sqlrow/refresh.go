package sqlrow

import (
	"fmt"
	"time"

	"github.com/actas-dev/actas"
)

// The two statements of a refresh's common case (actas.SessionStore's
// RefreshLookup and AdvanceSession), the same on every database but for
// the placeholders.

// RefreshLookupQuery returns RefreshLookup's query: a refresh token with
// its session and the session's user, by the token's hash (the one
// parameter, p(1)).
func RefreshLookupQuery(p func(n int) string) string {
	return `SELECT ` + Prefixed("t.", RefreshTokenCols) + `, ` + Prefixed("s.", SessionCols) + `, ` +
		Prefixed("u.", UserCols) + ` FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id
		JOIN users u ON u.id = s.user_id AND u.tenant_id = s.tenant_id
		WHERE t.hash = ` + p(1)
}

// RefreshUserRow holds a row of RefreshLookupQuery while it is scanned.
type RefreshUserRow struct {
	RefreshRow
	UserRow
}

// Dest returns the scan destinations of RefreshLookupQuery's columns.
func (r *RefreshUserRow) Dest() []any {
	return append(r.RefreshRow.Dest(), r.UserRow.Dest()...)
}

// AdvanceSessionQuery returns AdvanceSession's update, with rotation or
// without; its arguments are AdvanceSessionArgs's.
func AdvanceSessionQuery(p func(n int) string, rotate bool) string {
	set := `last_refresh_at = ` + p(1)
	if rotate {
		set += `, refresh_generation = ` + p(5) + `, rotated_at = ` + p(1)
	}
	// The conditions of the issuer's refreshable and of a token of the
	// current generation, checked by the write itself.
	return `UPDATE sessions SET ` + set + ` WHERE id = ` + p(2) + ` AND refresh_generation = ` + p(3) +
		` AND revoked_at = 0 AND refreshable AND expires_at > ` + p(4)
}

// AdvanceSessionArgs returns the arguments of AdvanceSessionQuery; next
// (nil: no rotation) must be of generation gen+1.
func AdvanceSessionArgs(id string, gen int, at time.Time, next *actas.RefreshToken) ([]any, error) {
	g, err := Generation(gen)
	if err != nil {
		return nil, err
	}
	a := []any{MS(at), id, g, MS(at)}
	if next != nil {
		if next.Generation != gen+1 {
			return nil, fmt.Errorf("advance session: next refresh token of generation %d, want %d", next.Generation, gen+1)
		}
		ng, err := Generation(next.Generation)
		if err != nil {
			return nil, err
		}
		a = append(a, ng)
	}
	return a, nil
}
