package sqlrow

import (
	"strings"

	"github.com/actas-dev/actas"
)

// UserCols is the users table's column list as read.
const UserCols = `id, tenant_id, username, email, email_verified, password_hash, status,
	must_change_password, groups_json, created_at, updated_at,
	first_name, last_name, friendly_name, company, country, contact, phone`

// UserWriteCols are the columns UserWriteArgs fills, in its order: every
// column an update may change, then the folded search keys.
var UserWriteCols = []string{"email", "email_verified", "password_hash", "status", "must_change_password",
	"groups_json", "created_at", "updated_at", "first_name", "last_name", "friendly_name", "company",
	"country", "contact", "phone", "email_key", "first_name_key", "last_name_key", "friendly_name_key"}

// UserInsertCols are the columns of an insert: UserInsertArgs's order.
var UserInsertCols = append([]string{"id", "tenant_id", "username", "username_key"}, UserWriteCols...)

// SearchKey folds a field for prefix search: the users' *_key columns and
// the prefix searched for.
func SearchKey(s string) string { return strings.ToLower(s) }

// UserRow holds the columns of UserCols while they are scanned.
type UserRow struct {
	u                actas.User
	groups           string
	created, updated int64
}

// Dest returns the scan destinations of UserCols.
func (r *UserRow) Dest() []any {
	u := &r.u
	return []any{&u.ID, &u.TenantID, &u.Username, &u.Email, &u.EmailVerified, &u.PasswordHash, &u.Status,
		&u.MustChangePassword, &r.groups, &r.created, &r.updated,
		&u.FirstName, &u.LastName, &u.FriendlyName, &u.Company, &u.Country, &u.Contact, &u.Phone}
}

// User returns the scanned user.
func (r *UserRow) User() (*actas.User, error) {
	u := r.u
	var err error
	if u.Groups, err = DecodeList(r.groups); err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = FromMS(r.created), FromMS(r.updated)
	return &u, nil
}

// ScanUser scans a row of UserCols.
func ScanUser(row Scanner) (*actas.User, error) {
	var r UserRow
	if err := row.Scan(r.Dest()...); err != nil {
		return nil, err
	}
	return r.User()
}

// UserWriteArgs returns the values of UserWriteCols for u.
func UserWriteArgs(u *actas.User) ([]any, error) {
	groups := EncodeList(u.Groups)
	return []any{u.Email, u.EmailVerified, u.PasswordHash, u.Status, u.MustChangePassword, groups,
		MS(u.CreatedAt), MS(u.UpdatedAt), u.FirstName, u.LastName, u.FriendlyName, u.Company,
		u.Country, u.Contact, u.Phone, SearchKey(u.Email), SearchKey(u.FirstName), SearchKey(u.LastName),
		SearchKey(u.FriendlyName)}, nil
}

// UserInsertArgs returns the values of UserInsertCols for u.
func UserInsertArgs(u *actas.User) ([]any, error) {
	w, err := UserWriteArgs(u)
	if err != nil {
		return nil, err
	}
	return append([]any{u.ID, u.TenantID, u.Username, actas.NormalizeUsername(u.Username)}, w...), nil
}

// SetList returns "c1 = p(1), c2 = p(2), …" for an UPDATE, p giving the
// driver's placeholder of the n-th argument.
func SetList(cols []string, p func(n int) string) string {
	var b strings.Builder
	for n, c := range cols {
		if n > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c + " = " + p(n+1))
	}
	return b.String()
}

// SearchFields are the folded columns that user search matches a prefix
// against, each the second column of a (tenant_id, column) index.
var SearchFields = []string{"username_key", "email_key", "first_name_key", "last_name_key", "friendly_name_key"}

// PrefixEnd returns the smallest string greater than every string that
// starts with p, in byte order: p followed by the largest code point
// (every valid UTF-8 continuation of p sorts below it).
func PrefixEnd(p string) string { return p + "\U0010FFFF" }

// AdminCandidate is the SQL condition (true for a superset of the users
// in GroupAdmin) that narrows the last-admin check; HasAdmin decides.
const AdminCandidate = `'"admin"'`

// HasAdmin reports whether a decoded user holds GroupAdmin and is active.
func HasAdmin(u *actas.User) bool { return u.Active() && u.InGroup(actas.GroupAdmin) }
