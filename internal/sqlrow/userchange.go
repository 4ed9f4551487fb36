package sqlrow

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/actas-dev/actas"
)

// FnError marks an error returned by the caller's function of
// UserAdminStore.ChangeUser; the stores return it unchanged.
type FnError struct{ Err error }

func (e FnError) Error() string { return e.Err.Error() }

// ChangeOps are the statements of one ChangeUser transaction, bound to
// the driver's transaction by the store.
type ChangeOps struct {
	// OtherAdmins counts the tenant's active administrators but the user.
	OtherAdmins func() (int, error)
	// RevokeUser and RevokeImpersonations revoke the user's sessions and
	// the impersonations it started, with their descendants.
	RevokeUser, RevokeImpersonations func(at time.Time, reason string) ([]*actas.Session, error)
	InsertAudit                      func(*actas.AuditEvent) error
	Delete                           func() error
	// Update writes the user and returns it as stored.
	Update func(*actas.User) (*actas.User, error)
}

// ApplyUserChange is the body of ChangeUser's transaction, the same on
// every database: u is the user as read (under the store's lock), fn the
// caller's change. An error of fn comes back as a FnError, the last-admin
// refusal as a FnError wrapping actas.ErrLastAdmin.
func ApplyUserChange(u *actas.User, fn func(*actas.User) (*actas.UserChange, error), ops ChangeOps) (*actas.User, []*actas.Session, error) {
	wasAdmin := HasAdmin(u)
	c, err := fn(u)
	if err != nil {
		return nil, nil, FnError{err}
	}
	if c == nil {
		c = &actas.UserChange{}
	}
	if wasAdmin && (c.Delete || !HasAdmin(u)) {
		n, err := ops.OtherAdmins()
		if err != nil {
			return nil, nil, err
		}
		if n == 0 {
			return nil, nil, FnError{actas.ErrLastAdmin}
		}
	}
	var revoked []*actas.Session
	for _, r := range []struct {
		on  bool
		run func(time.Time, string) ([]*actas.Session, error)
	}{{c.RevokeUser || c.Delete, ops.RevokeUser}, {c.RevokeImpersonations || c.Delete, ops.RevokeImpersonations}} {
		if !r.on {
			continue
		}
		s, err := r.run(c.At, c.Reason)
		if err != nil {
			return nil, nil, err
		}
		revoked = append(revoked, s...)
	}
	for _, ev := range c.Audit {
		if err := ops.InsertAudit(ev); err != nil {
			return nil, nil, err
		}
	}
	SortSessions(revoked)
	if c.Delete {
		return nil, revoked, ops.Delete()
	}
	out, err := ops.Update(u)
	return out, revoked, err
}

// SortSessions orders sessions oldest first, as RevokeSessions returns them.
func SortSessions(out []*actas.Session) {
	slices.SortFunc(out, func(a, b *actas.Session) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
}

// CountAdmins counts the users that HasAdmin: the stores narrow the rows
// with AdminCandidate in SQL, and this decides.
func CountAdmins(us []*actas.User) int {
	n := 0
	for _, u := range us {
		if HasAdmin(u) {
			n++
		}
	}
	return n
}
