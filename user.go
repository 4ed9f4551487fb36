package actas

import (
	"slices"
	"time"
)

// User statuses.
const (
	UserActive   = "active"
	UserDisabled = "disabled"
)

// Groups that carry meaning.
const (
	GroupAdmin        = "admin"
	GroupImpersonator = "impersonator"
)

// PrivilegedGroups are the groups whose holders have administrative
// privileges; an impersonation target may hold none the caller lacks.
var PrivilegedGroups = []string{GroupAdmin, GroupImpersonator}

// User belongs to one tenant. Its ID is the token subject (sub).
type User struct {
	ID                 string // UUID, the sub claim
	TenantID           string
	Username           string // CanonicalUsername's form when created (username.go); unique per tenant
	Email              string
	EmailVerified      bool
	PasswordHash       string // argon2id PHC string
	Status             string // UserActive or UserDisabled
	MustChangePassword bool
	Groups             []string // sorted, unique
	CreatedAt          time.Time
	UpdatedAt          time.Time

	// Profile (SPEC §7); "" when not set. FirstName, LastName and
	// FriendlyName reach the ID token as given_name, family_name and
	// nickname.
	FirstName    string
	LastName     string
	FriendlyName string
	Company      string
	Country      string
	Contact      string
	Phone        string
}

// Active reports whether the user may sign in.
func (u *User) Active() bool { return u.Status == UserActive }

// InGroup reports whether the user is in group g.
func (u *User) InGroup(g string) bool { return slices.Contains(u.Groups, g) }

// Bounds on user input.
const (
	MaxUsernameLen = 128 // characters, after the PRECIS mapping (username.go)
	// MaxFieldLen bounds every other field of a user, the email included
	// (SPEC §10: at most 256 bytes each).
	MaxFieldLen = 256
	MaxEmailLen = MaxFieldLen
	MaxGroupLen = 64
	MaxGroups   = 64
)

// NormalizeGroups returns groups sorted and without duplicates.
func NormalizeGroups(groups []string) []string {
	out := slices.Clone(groups)
	slices.Sort(out)
	return slices.Compact(out)
}
