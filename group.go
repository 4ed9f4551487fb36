package actas

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Group is a record of a tenant (SPEC §7): a UUID and a name unique
// case-insensitively within the tenant. Users hold group names (the
// record's spelling), which tokens carry in cognito:groups.
type Group struct {
	ID        string // UUID
	TenantID  string
	Name      string
	CreatedAt time.Time
	Members   int // filled by GroupStore.Groups
}

// DefaultGroups exist in every tenant and cannot be deleted.
var DefaultGroups = []string{GroupAdmin, GroupImpersonator}

// GroupKey is the form group names are compared in.
func GroupKey(name string) string { return strings.ToLower(name) }

// ValidGroupName reports whether name is an acceptable name for a group
// record: 1–64 printable characters (SPEC §7).
func ValidGroupName(name string) bool {
	if name == "" || utf8.RuneCountInString(name) > MaxGroupLen || !utf8.ValidString(name) || strings.TrimSpace(name) != name {
		return false
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// ErrLastAdmin is returned by UserAdminStore.ChangeUser when the change
// would leave a tenant that has an active administrator without one.
var ErrLastAdmin = errors.New("the tenant's last administrator")

// GroupStore keeps group records.
type GroupStore interface {
	// CreateGroup stores g and ev atomically; a taken name (compared
	// case-insensitively) wraps ErrConflict.
	CreateGroup(ctx context.Context, g *Group, ev *AuditEvent) error
	Group(ctx context.Context, tenantID, id string) (*Group, error)
	// GroupByName looks a group up case-insensitively.
	GroupByName(ctx context.Context, tenantID, name string) (*Group, error)
	// Groups returns the tenant's groups by name, with Members counted.
	Groups(ctx context.Context, tenantID string) ([]*Group, error)
	// EnsureGroups returns the records of names, creating (at now) those
	// that do not exist, atomically; in the order of names.
	EnsureGroups(ctx context.Context, tenantID string, names []string, now time.Time) ([]*Group, error)
	// DeleteGroup deletes a group, removes its name from every user of
	// the tenant (setting their UpdatedAt to ev.Time) and appends ev,
	// atomically.
	DeleteGroup(ctx context.Context, tenantID, id string, ev *AuditEvent) error
}

// UserChange is what an administrative change of one user writes besides
// the user, in the same transaction.
type UserChange struct {
	Delete bool // delete the user (its sessions are revoked first)
	// RevokeUser revokes every session of the user and their
	// descendants; RevokeImpersonations revokes the impersonation
	// sessions the user started.
	RevokeUser           bool
	RevokeImpersonations bool
	Reason               string    // revocation reason
	At                   time.Time // revocation time
	Audit                []*AuditEvent
}

// UserAdminStore holds the writes of the user administration API, each
// one transaction with its audit events and its revocations.
type UserAdminStore interface {
	// CreateUserAudited is CreateUser with its audit event, atomically.
	CreateUserAudited(ctx context.Context, u *User, ev *AuditEvent) error
	// ChangeUser reads the user, calls fn, and writes in one transaction
	// the changed user (or deletes it), the revocations and the audit
	// events fn's UserChange names. If fn returns an error nothing is
	// written and that error is returned. If the user was an active
	// member of GroupAdmin and no longer is one after the change (or is
	// deleted), and no other active user of the tenant is, nothing is
	// written and the error wraps ErrLastAdmin; two such changes running
	// at once are serialised, so they cannot both pass the check. It
	// returns the user as written (nil when deleted) and the sessions it
	// revoked.
	ChangeUser(ctx context.Context, tenantID, id string, fn func(*User) (*UserChange, error)) (*User, []*Session, error)
	// SearchUsers returns up to limit users of the tenant whose username,
	// email, first, last or friendly name starts with prefix, compared
	// case-insensitively, and whose username sorts after after (as
	// NormalizeUsername folds both), by folded username. It reads by
	// index, never the whole tenant.
	SearchUsers(ctx context.Context, tenantID, prefix, after string, limit int) ([]*User, error)
}

// Audit actions of the user administration API (SPEC §7, §8).
const (
	ActionUserCreate      = "user_create"
	ActionUserUpdate      = "user_update"
	ActionUserDelete      = "user_delete"
	ActionUserGroupAdd    = "user_group_add"
	ActionUserGroupRemove = "user_group_remove"
	ActionUserPassword    = "user_password_set"
	ActionUserSessions    = "user_sessions_revoked"
	ActionGroupCreate     = "group_create"
	ActionGroupDelete     = "group_delete"
	ActionPasswordChange  = "password_change"
)

// ValidID reports whether s is a UUID in canonical lowercase text form,
// the form NewID returns (and the migration writes).
func ValidID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
		}
	}
	return true
}
