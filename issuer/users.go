package issuer

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/password"
)

// The user administration API (SPEC §7): who may do what, no escalation,
// the last-admin rule, what each change revokes, tenant isolation and
// audit. Every change is written with its audit event and its revocations
// in one transaction (actas.UserAdminStore.ChangeUser); every refused
// change is an audit event too.

var (
	errPrivileges     = actas.Errorf(actas.EFORBIDDEN, "Do not have the required role privileges")
	errImpersonatedOp = actas.Errorf(actas.EFORBIDDEN, "Impersonated sessions cannot perform administrative operations")
	errUserNotFound   = actas.Errorf(actas.ENOTFOUND, "User not found")
	errGroupNotFound  = actas.Errorf(actas.ENOTFOUND, "Group not found")
	errUserExists     = actas.Errorf(actas.ECONFLICT, "User already exists")
	errGroupExists    = actas.Errorf(actas.ECONFLICT, "Group already exists")
	errLastAdmin      = actas.Errorf(actas.EPRECONDITION, "Cannot remove, disable or delete the tenant's last administrator")
	errDefaultGroup   = actas.Errorf(actas.EPRECONDITION, "The admin and impersonator groups cannot be deleted")
	errSamePassword   = actas.Errorf(actas.EINVALID, "Password must differ from the previous password")
	errBadStatus      = actas.Errorf(actas.EINVALID, "status must be enabled or disabled")
	errBadLimit       = actas.Errorf(actas.EINVALID, "limit must be between 1 and 100")
	errBadGroupName   = actas.Errorf(actas.EINVALID, "groupName must be 1-64 printable characters")
	errNoGroup        = actas.Errorf(actas.EINVALID, "userGroupId or userGroupName is required")
)

// MaxFieldLen bounds every free-text field of a user (SPEC §10).
const MaxFieldLen = actas.MaxFieldLen

// Wire statuses of the User object.
const (
	StatusEnabled  = "enabled"
	StatusDisabled = "disabled"
)

// maxAuditActionLen bounds GET /audit's action filter: longer than any
// action actas records.
const maxAuditActionLen = 64

// textParam refuses a query parameter that is not UTF-8: it can match no
// record, and PostgreSQL refuses such bytes as text, so it is the
// client's error (400), not the store's (500).
func textParam(name, v string) error {
	if !utf8.ValidString(v) {
		return actas.Errorf(actas.EINVALID, "%s must be UTF-8", name)
	}
	return nil
}

// checkNewPassword applies the tenant's password policy (SPEC §8). The
// username rule compares identities: the name as given (a request's raw
// form, or the stored canonical one) and both in their canonical forms,
// so that "Ａlice" (fullwidth) is refused as the password of alice.
func checkNewPassword(t *actas.Tenant, username, pw string) error {
	err := password.Policy{MinLength: t.Settings.PasswordMinLength}.Check(pw, username)
	if err == nil && username != "" && actas.NormalizeUsername(pw) == actas.NormalizeUsername(username) {
		err = password.ErrIsUsername
	}
	var pe *password.PolicyError
	if errors.As(err, &pe) {
		return actas.Errorf(actas.EINVALID, "%s", pe.Rule)
	}
	return err
}

// hashPassword hashes a password, answering a saturated hasher with 503.
func (i *Issuer) hashPassword(ctx context.Context, pw string) (string, error) {
	h, err := i.hasher.Hash(ctx, pw)
	if errors.Is(err, password.ErrBusy) {
		return "", errOverloaded
	} else if err != nil {
		return "", wrap("hash password", err)
	}
	return h, nil
}

// Profile holds the profile fields of a user; a nil field is not set.
type Profile struct {
	FirstName, LastName, FriendlyName, Company, Country, Contact, Phone *string
}

// fields lists the profile's fields with their wire names and targets.
func (p *Profile) fields(u *actas.User) []struct {
	name string
	v    *string
	dst  *string
} {
	return []struct {
		name string
		v    *string
		dst  *string
	}{
		{"firstName", p.FirstName, &u.FirstName}, {"lastName", p.LastName, &u.LastName},
		{"friendlyName", p.FriendlyName, &u.FriendlyName}, {"company", p.Company, &u.Company},
		{"country", p.Country, &u.Country}, {"contact", p.Contact, &u.Contact}, {"phone", p.Phone, &u.Phone},
	}
}

func checkField(name string, v *string) error {
	if v != nil && len(*v) > MaxFieldLen {
		return actas.Errorf(actas.EINVALID, "%s is longer than %d bytes", name, MaxFieldLen)
	}
	return nil
}

// denied records a refused change and returns err (or an outage if the
// record cannot be written: a refusal never goes unrecorded).
func (i *Issuer) denied(ctx context.Context, c *Caller, action, subjectID, subject string, err error) error {
	ev := i.auditEvent(c, action, subjectID, subject)
	ev.Outcome, ev.Details = actas.OutcomeDenied, actas.ErrorMessage(err)
	if aerr := i.store.AppendAudit(ctx, ev); aerr != nil {
		return wrap("record refused change", aerr)
	}
	return err
}

func (i *Issuer) auditEvent(c *Caller, action, subjectID, subject string) *actas.AuditEvent {
	return &actas.AuditEvent{
		Time: i.now(), TenantID: c.Client.Tenant.ID, Action: action, ActorID: c.User.ID, Actor: c.User.Username,
		SubjectID: subjectID, Subject: truncate(subject, actas.MaxUsernameLen), SessionID: c.Session.ID,
		APIKeyID: c.Client.APIKeyID, IP: c.IP, UserAgent: c.UserAgent, Outcome: actas.OutcomeAllowed,
	}
}

// authorize answers an impersonated caller, then a caller who is neither
// an administrator nor (when self is allowed) the user id.
func authorize(c *Caller, id string, selfAllowed bool) error {
	switch {
	case c.Impersonated():
		return errImpersonatedOp
	case c.Admin(), selfAllowed && id == c.User.ID:
		return nil
	}
	return errPrivileges
}

// Me is GET /user: the caller's own user (impersonated callers included).
func (i *Issuer) Me(c *Caller) *actas.User { return c.User }

// lookupUser finds a user of the caller's tenant by id; an id that is not
// a UUID, or of another tenant, is unknown.
func (i *Issuer) lookupUser(ctx context.Context, c *Caller, id string) (*actas.User, error) {
	if !actas.ValidID(id) {
		return nil, errUserNotFound
	}
	u, err := i.store.User(ctx, c.Client.Tenant.ID, id)
	if errors.Is(err, actas.ErrNotFound) {
		return nil, errUserNotFound
	} else if err != nil {
		return nil, wrap("find user", err)
	}
	return u, nil
}

// GetUser is GET /user/{id}.
func (i *Issuer) GetUser(ctx context.Context, c *Caller, id string) (*actas.User, error) {
	if err := authorize(c, id, true); err != nil {
		return nil, err
	}
	return i.lookupUser(ctx, c, id)
}

// SearchUsers is GET /user/search/{text}.
func (i *Issuer) SearchUsers(ctx context.Context, c *Caller, text, after string, limit int) ([]*actas.User, error) {
	if err := authorize(c, "", false); err != nil {
		return nil, err
	}
	if limit == 0 {
		limit = 100
	}
	if limit < 1 || limit > 100 {
		return nil, errBadLimit
	}
	if len(text) > MaxFieldLen {
		return nil, actas.Errorf(actas.EINVALID, "searchText is longer than %d bytes", MaxFieldLen)
	}
	if len(after) > actas.MaxUsernameBytes { // a username is 128 characters, of up to 4 bytes
		return nil, actas.Errorf(actas.EINVALID, "after is longer than any username (%d bytes)", actas.MaxUsernameBytes)
	}
	if err := textParam("searchText", text); err != nil {
		return nil, err
	}
	if err := textParam("after", after); err != nil {
		return nil, err
	}
	us, err := i.store.SearchUsers(ctx, c.Client.Tenant.ID, text, after, limit)
	if err != nil {
		return nil, wrap("search users", err)
	}
	return us, nil
}

// NewUser is the body of POST /user.
type NewUser struct {
	Username           string
	Password           string
	Email              string
	Profile            Profile
	Groups             []string // ids or names
	MustChangePassword *bool    // default true
}

// CreateUserBy is POST /user.
func (i *Issuer) CreateUserBy(ctx context.Context, c *Caller, r NewUser) (*actas.User, error) {
	t := c.Client.Tenant
	subject := r.Username // the canonical form once it is known
	deny := func(err error) (*actas.User, error) {
		return nil, i.denied(ctx, c, actas.ActionUserCreate, "", subject, err)
	}
	if err := authorize(c, "", false); err != nil {
		return deny(err)
	}
	username, err := actas.CanonicalUsername(r.Username)
	if err != nil {
		return deny(actas.Errorf(actas.EINVALID, "%s", err.Error()))
	}
	subject = username
	if r.Password == "" {
		return deny(actas.Errorf(actas.EINVALID, "password is required"))
	}
	if err := checkField("email", &r.Email); err != nil {
		return deny(err)
	}
	now := i.now()
	u := &actas.User{
		ID: actas.NewID(), TenantID: t.ID, Username: username, Email: r.Email, Status: actas.UserActive,
		MustChangePassword: r.MustChangePassword == nil || *r.MustChangePassword, CreatedAt: now, UpdatedAt: now,
	}
	for _, f := range r.Profile.fields(u) {
		if err := checkField(f.name, f.v); err != nil {
			return deny(err)
		}
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	groups, err := i.resolveGroups(ctx, t, r.Groups)
	if err != nil {
		return deny(err)
	}
	if err := noEscalation(c, nil, groups); err != nil {
		return deny(err)
	}
	u.Groups = groups
	if err := checkNewPassword(t, username, r.Password); err != nil {
		return deny(err)
	}
	if _, err := i.store.UserByUsername(ctx, t.ID, username); err == nil {
		return deny(errUserExists)
	}
	if u.PasswordHash, err = i.hashPassword(ctx, r.Password); err != nil {
		return nil, err
	}
	ev := i.auditEvent(c, actas.ActionUserCreate, u.ID, u.Username)
	ev.Details = "groups: " + strings.Join(groups, ",")
	if err := i.store.CreateUserAudited(ctx, u, ev); errors.Is(err, actas.ErrConflict) {
		return deny(errUserExists)
	} else if err != nil {
		return nil, wrap("create user", err)
	}
	return u, nil
}

// noEscalation refuses granting impersonator to a caller who lacks it
// (an administrator holds admin, so may grant it).
func noEscalation(c *Caller, before, after []string) error {
	for _, g := range actas.PrivilegedGroups {
		if slices.Contains(after, g) && !slices.Contains(before, g) && !c.User.InGroup(g) {
			return errPrivileges
		}
	}
	return nil
}

// resolveGroups maps group ids or names to the tenant's group names,
// sorted and unique; an unknown one is 404 Group not found.
func (i *Issuer) resolveGroups(ctx context.Context, t *actas.Tenant, refs []string) ([]string, error) {
	if len(refs) > actas.MaxGroups {
		return nil, actas.Errorf(actas.EINVALID, "groups: a user may be in at most %d groups", actas.MaxGroups)
	}
	var names []string
	for _, ref := range refs {
		g, err := i.findGroup(ctx, t, ref, ref)
		if err != nil {
			return nil, err
		}
		names = append(names, g.Name)
	}
	return actas.NormalizeGroups(names), nil
}

// findGroup finds a group by id, else by name. The default groups exist
// in every tenant: they are created on first use.
func (i *Issuer) findGroup(ctx context.Context, t *actas.Tenant, id, name string) (*actas.Group, error) {
	if id != "" && actas.ValidID(id) {
		g, err := i.store.Group(ctx, t.ID, id)
		if err == nil {
			return g, nil
		} else if !errors.Is(err, actas.ErrNotFound) {
			return nil, wrap("find group", err)
		}
	}
	if name == "" || len(name) > 4*actas.MaxGroupLen {
		return nil, errGroupNotFound
	}
	g, err := i.store.GroupByName(ctx, t.ID, name)
	if errors.Is(err, actas.ErrNotFound) {
		if slices.Contains(actas.DefaultGroups, actas.GroupKey(name)) {
			gs, err := i.store.EnsureGroups(ctx, t.ID, []string{actas.GroupKey(name)}, i.now())
			if err != nil {
				return nil, wrap("create default group", err)
			}
			return gs[0], nil
		}
		return nil, errGroupNotFound
	} else if err != nil {
		return nil, wrap("find group", err)
	}
	return g, nil
}

// UserPatch is the body of PATCH /user/{id}; nil fields are not sent.
type UserPatch struct {
	Profile            Profile
	Email              *string
	Status             *string
	Groups             *[]string
	MustChangePassword *bool
}

// changeUser runs a change of user id by caller c: change mutates the
// user and says what the change writes besides; the store applies it in
// one transaction with its audit event, and a refusal is recorded.
func (i *Issuer) changeUser(ctx context.Context, c *Caller, action, id string,
	change func(u *actas.User, ev *actas.AuditEvent) (*actas.UserChange, error)) (*actas.User, []*actas.Session, error) {
	t := c.Client.Tenant
	var subject string
	u, revoked, err := i.store.ChangeUser(ctx, t.ID, id, func(u *actas.User) (*actas.UserChange, error) {
		subject = u.Username
		ev := i.auditEvent(c, action, u.ID, u.Username)
		before := *u
		before.Groups = slices.Clone(u.Groups)
		ch, err := change(u, ev)
		if err != nil {
			return nil, err
		}
		if !reflect.DeepEqual(&before, u) {
			u.UpdatedAt = ev.Time
		}
		ch.At = ev.Time
		ch.Audit = append(ch.Audit, ev)
		return ch, nil
	})
	switch {
	case errors.Is(err, actas.ErrLastAdmin):
		err = errLastAdmin
	case errors.Is(err, actas.ErrNotFound):
		return nil, nil, errUserNotFound
	}
	if err != nil {
		if code := actas.ErrorCode(err); code != actas.EINTERNAL && code != actas.EUNAVAILABLE {
			return nil, nil, i.denied(ctx, c, action, id, subject, err)
		}
		return nil, nil, wrap("change user", err)
	}
	for _, s := range revoked {
		i.revoked.Add(s.ID, s.ExpiresAt)
	}
	return u, revoked, nil
}

// revocationFor says what a change from before to u revokes (SPEC §3, §7):
// disabling revokes the user's sessions and the impersonations it
// started; losing impersonator revokes the impersonations it started.
func revocationFor(before, u *actas.User) *actas.UserChange {
	switch {
	case before.Active() && !u.Active():
		return &actas.UserChange{RevokeUser: true, RevokeImpersonations: true, Reason: actas.ReasonUserDisabled}
	case before.InGroup(actas.GroupImpersonator) && !u.InGroup(actas.GroupImpersonator):
		return &actas.UserChange{RevokeImpersonations: true, Reason: actas.ReasonGroupRemoved}
	}
	return &actas.UserChange{}
}

// PatchUser is PATCH /user/{id}.
func (i *Issuer) PatchUser(ctx context.Context, c *Caller, id string, p UserPatch) (*actas.User, error) {
	t := c.Client.Tenant
	if err := authorize(c, id, true); err != nil {
		return nil, i.denied(ctx, c, actas.ActionUserUpdate, id, "", err)
	}
	if !actas.ValidID(id) {
		return nil, errUserNotFound
	}
	var groups []string
	if p.Groups != nil {
		var err error
		if groups, err = i.resolveGroups(ctx, t, *p.Groups); err != nil {
			return nil, i.denied(ctx, c, actas.ActionUserUpdate, id, "", err)
		}
	}
	for _, f := range p.Profile.fields(&actas.User{}) {
		if err := checkField(f.name, f.v); err != nil {
			return nil, err
		}
	}
	if err := checkField("email", p.Email); err != nil {
		return nil, err
	}
	if p.Status != nil && *p.Status != StatusEnabled && *p.Status != StatusDisabled {
		return nil, errBadStatus
	}
	u, _, err := i.changeUser(ctx, c, actas.ActionUserUpdate, id, func(u *actas.User, ev *actas.AuditEvent) (*actas.UserChange, error) {
		before := *u
		var changed []string
		for _, f := range p.Profile.fields(u) {
			if f.v != nil && *f.v != *f.dst {
				*f.dst = *f.v
				changed = append(changed, f.name)
			}
		}
		var admin []string // fields only an administrator may change
		if p.Email != nil && *p.Email != u.Email {
			u.Email, u.EmailVerified = *p.Email, false
			admin = append(admin, "email")
		}
		if p.Status != nil && *p.Status != wireStatus(u) {
			u.Status = actas.UserActive
			if *p.Status == StatusDisabled {
				u.Status = actas.UserDisabled
			}
			admin = append(admin, "status")
		}
		if p.Groups != nil && !slices.Equal(groups, u.Groups) {
			if err := noEscalation(c, u.Groups, groups); err != nil {
				return nil, err
			}
			u.Groups = groups
			admin = append(admin, "groups")
		}
		if p.MustChangePassword != nil && *p.MustChangePassword != u.MustChangePassword {
			u.MustChangePassword = *p.MustChangePassword
			admin = append(admin, "mustChangePassword")
		}
		if len(admin) > 0 && !c.Admin() {
			return nil, errPrivileges
		}
		ev.Details = "changed: " + strings.Join(append(changed, admin...), ",")
		return revocationFor(&before, u), nil
	})
	return u, err
}

func wireStatus(u *actas.User) string {
	if u.Active() {
		return StatusEnabled
	}
	return StatusDisabled
}

// DeleteUserBy is DELETE /user/{id}: revokes every session of the user and
// every impersonation it started, then deletes it, in one transaction.
func (i *Issuer) DeleteUserBy(ctx context.Context, c *Caller, id string) error {
	if err := authorize(c, "", false); err != nil {
		return i.denied(ctx, c, actas.ActionUserDelete, id, "", err)
	}
	if !actas.ValidID(id) {
		return errUserNotFound
	}
	_, _, err := i.changeUser(ctx, c, actas.ActionUserDelete, id, func(u *actas.User, ev *actas.AuditEvent) (*actas.UserChange, error) {
		return &actas.UserChange{Delete: true, Reason: actas.ReasonUserDeleted}, nil
	})
	return err
}

// ChangeGroup is PATCH /user/{id}/add-to-group and remove-from-group.
func (i *Issuer) ChangeGroup(ctx context.Context, c *Caller, id, groupID, groupName string, add bool) error {
	action := actas.ActionUserGroupRemove
	if add {
		action = actas.ActionUserGroupAdd
	}
	if err := authorize(c, "", false); err != nil {
		return i.denied(ctx, c, action, id, "", err)
	}
	if !actas.ValidID(id) {
		return errUserNotFound
	}
	if groupID == "" && groupName == "" {
		return errNoGroup
	}
	// Unknown user before unknown group: look the user up first.
	if _, err := i.lookupUser(ctx, c, id); err != nil {
		return err
	}
	g, err := i.findGroup(ctx, c.Client.Tenant, groupID, groupName)
	if err != nil {
		return i.denied(ctx, c, action, id, "", err)
	}
	_, _, err = i.changeUser(ctx, c, action, id, func(u *actas.User, ev *actas.AuditEvent) (*actas.UserChange, error) {
		before := *u
		ev.Details = "group: " + g.Name
		groups := slices.DeleteFunc(slices.Clone(u.Groups), func(n string) bool { return n == g.Name })
		if add {
			groups = actas.NormalizeGroups(append(groups, g.Name))
			if len(groups) > actas.MaxGroups {
				return nil, actas.Errorf(actas.EINVALID, "a user may be in at most %d groups", actas.MaxGroups)
			}
		}
		if err := noEscalation(c, u.Groups, groups); err != nil {
			return nil, err
		}
		u.Groups = groups
		return revocationFor(&before, u), nil
	})
	return err
}

// SetPasswordBy is POST /user/{id}/password: sets the password and
// revokes every session of the user, in one transaction.
func (i *Issuer) SetPasswordBy(ctx context.Context, c *Caller, id, pw string, mustChange *bool) error {
	if err := authorize(c, "", false); err != nil {
		return i.denied(ctx, c, actas.ActionUserPassword, id, "", err)
	}
	u, err := i.lookupUser(ctx, c, id)
	if err != nil {
		return err
	}
	if pw == "" {
		return actas.Errorf(actas.EINVALID, "password is required")
	}
	if err := checkNewPassword(c.Client.Tenant, u.Username, pw); err != nil {
		return i.denied(ctx, c, actas.ActionUserPassword, u.ID, u.Username, err)
	}
	hash, err := i.hashPassword(ctx, pw)
	if err != nil {
		return err
	}
	_, _, err = i.changeUser(ctx, c, actas.ActionUserPassword, id, func(u *actas.User, ev *actas.AuditEvent) (*actas.UserChange, error) {
		u.PasswordHash = hash
		u.MustChangePassword = mustChange == nil || *mustChange
		ev.Details = fmt.Sprintf("mustChangePassword: %t", u.MustChangePassword)
		return &actas.UserChange{RevokeUser: true, RevokeImpersonations: true, Reason: actas.ReasonAdmin}, nil
	})
	return err
}

// maxListedSessions bounds GET /user/{id}/sessions.
const maxListedSessions = 1000

// UserSessions is GET /user/{id}/sessions: the user's live sessions.
func (i *Issuer) UserSessions(ctx context.Context, c *Caller, id string) ([]ListedSession, error) {
	if err := authorize(c, id, true); err != nil {
		return nil, err
	}
	u, err := i.lookupUser(ctx, c, id)
	if err != nil {
		return nil, err
	}
	ss, err := i.store.Sessions(ctx, actas.SessionFilter{TenantID: u.TenantID, UserID: u.ID, ActiveAt: i.now(), Limit: maxListedSessions})
	if err != nil {
		return nil, wrap("list sessions", err)
	}
	out := make([]ListedSession, len(ss))
	names := map[string]string{} // impersonator id → username, read once each
	for n, s := range ss {
		out[n].Session = s
		if s.ImpersonatorID == "" {
			continue
		}
		name, ok := names[s.ImpersonatorID]
		if !ok {
			// A deleted impersonator leaves its id and no name.
			if imp, err := i.store.User(ctx, u.TenantID, s.ImpersonatorID); err == nil {
				name = imp.Username
			}
			names[s.ImpersonatorID] = name
		}
		out[n].Impersonator = name
	}
	return out, nil
}

// ListedSession is a live session as GET /user/{id}/sessions lists it.
type ListedSession struct {
	*actas.Session
	Impersonator string // the impersonator's username, if any and not deleted
}

// RevokeSessionsOf is DELETE /user/{id}/sessions: revokes every session
// of the user with their impersonation children, and returns how many.
func (i *Issuer) RevokeSessionsOf(ctx context.Context, c *Caller, id string) (int, error) {
	if err := authorize(c, id, true); err != nil {
		return 0, i.denied(ctx, c, actas.ActionUserSessions, id, "", err)
	}
	if !actas.ValidID(id) {
		return 0, errUserNotFound
	}
	_, revoked, err := i.changeUser(ctx, c, actas.ActionUserSessions, id, func(u *actas.User, ev *actas.AuditEvent) (*actas.UserChange, error) {
		return &actas.UserChange{RevokeUser: true, Reason: actas.ReasonAdmin}, nil
	})
	return len(revoked), err
}

// AuditQuery is GET /audit's filter.
type AuditQuery struct {
	Since    time.Time
	Action   string
	Subject  string
	Limit    int   // 1–1000, default 100
	BeforeID int64 // the cursor
}

// AuditPage is GET /audit: the tenant's events newest first, and the
// cursor of the next page (0: none).
func (i *Issuer) AuditPage(ctx context.Context, c *Caller, q AuditQuery) ([]*actas.AuditEvent, int64, error) {
	if err := authorize(c, "", false); err != nil {
		return nil, 0, err
	}
	if q.Limit == 0 {
		q.Limit = 100
	}
	if q.Limit < 1 || q.Limit > 1000 {
		return nil, 0, actas.Errorf(actas.EINVALID, "limit must be between 1 and 1000")
	}
	if len(q.Action) > maxAuditActionLen {
		return nil, 0, actas.Errorf(actas.EINVALID, "action is longer than %d bytes", maxAuditActionLen)
	}
	if len(q.Subject) > actas.MaxUsernameBytes {
		return nil, 0, actas.Errorf(actas.EINVALID, "subject is longer than any username (%d bytes)", actas.MaxUsernameBytes)
	}
	if err := textParam("action", q.Action); err != nil {
		return nil, 0, err
	}
	if err := textParam("subject", q.Subject); err != nil {
		return nil, 0, err
	}
	subject := q.Subject // a username: its canonical form is the one recorded (SPEC §10)
	if subject != "" {
		subject = actas.NormalizeUsername(subject)
	}
	evs, err := i.store.AuditEvents(ctx, actas.AuditFilter{
		TenantID: c.Client.Tenant.ID, Action: q.Action, Since: q.Since, Subject: subject,
		BeforeID: q.BeforeID, Limit: q.Limit + 1, NewestFirst: true,
	})
	if err != nil {
		return nil, 0, wrap("audit events", err)
	}
	var next int64
	if len(evs) > q.Limit {
		evs = evs[:q.Limit]
		next = evs[len(evs)-1].ID
	}
	return evs, next, nil
}
