package issuer

import (
	"context"
	"errors"
	"time"

	"github.com/actas-dev/actas"
)

// Passwords set by their owner (SPEC §8): finishing a required change at
// sign-in, and POST /auth/password. Both check the old password through
// verifyCredentials, so they are throttled like a sign-in.

// checkPasswordChange is the check of a password its owner sets in place
// of oldPassword: the tenant's policy, then that it is a new one.
func checkPasswordChange(t *actas.Tenant, username, oldPassword, newPassword string) error {
	if err := checkNewPassword(t, username, newPassword); err != nil {
		return err
	}
	if newPassword == oldPassword {
		return errSamePassword
	}
	return nil
}

// completePasswordChange stores newPassword for u, whose password was just
// verified and must be changed, and clears the flag. The change and its
// audit event are one transaction.
func (i *Issuer) completePasswordChange(ctx context.Context, c *Client, u *actas.User, oldPassword, newPassword, ip string, now time.Time) (*actas.User, error) {
	t := c.Tenant
	if err := checkPasswordChange(t, u.Username, oldPassword, newPassword); err != nil {
		return nil, err
	}
	hash, err := i.hashPassword(ctx, newPassword)
	if err != nil {
		return nil, err
	}
	oldHash := u.PasswordHash
	u2, _, err := i.store.ChangeUser(ctx, t.ID, u.ID, func(cur *actas.User) (*actas.UserChange, error) {
		if cur.PasswordHash != oldHash || !cur.Active() {
			return nil, errBadCredentials // changed by an administrator meanwhile
		}
		cur.PasswordHash, cur.MustChangePassword, cur.UpdatedAt = hash, false, now
		return &actas.UserChange{At: now, Audit: []*actas.AuditEvent{{
			Time: now, TenantID: t.ID, Action: actas.ActionPasswordChange, ActorID: u.ID, Actor: u.Username,
			SubjectID: u.ID, Subject: u.Username, APIKeyID: c.APIKeyID, IP: ip, Outcome: actas.OutcomeAllowed,
			Details: "required change completed at sign-in",
		}}}, nil
	})
	if errors.Is(err, actas.ErrNotFound) {
		return nil, errBadCredentials
	} else if err != nil {
		return nil, wrap("change password", err)
	}
	return u2, nil
}

// ChangeOwnPassword is POST /auth/password: the caller changes its own
// password; every other session of the user is revoked before it returns.
func (i *Issuer) ChangeOwnPassword(ctx context.Context, c *Caller, previous, proposed string) error {
	t := c.Client.Tenant
	if c.Impersonated() {
		return i.denied(ctx, c, actas.ActionPasswordChange, c.User.ID, c.User.Username, errImpersonatedOp)
	}
	if previous == "" || proposed == "" {
		return actas.Errorf(actas.EINVALID, "previousPassword and proposedPassword are required")
	}
	now := i.now()
	u, err := i.verifyCredentials(ctx, t, c.User.Username, previous, c.IP, now)
	if err != nil {
		if errors.Is(err, errBadCredentials) {
			return i.denied(ctx, c, actas.ActionPasswordChange, c.User.ID, c.User.Username, err)
		}
		return err
	}
	if err := checkPasswordChange(t, u.Username, previous, proposed); err != nil {
		return i.denied(ctx, c, actas.ActionPasswordChange, u.ID, u.Username, err)
	}
	hash, err := i.hashPassword(ctx, proposed)
	if err != nil {
		return err
	}
	if _, _, err := i.changeUser(ctx, c, actas.ActionPasswordChange, u.ID, func(u *actas.User, ev *actas.AuditEvent) (*actas.UserChange, error) {
		u.PasswordHash, u.MustChangePassword = hash, false
		ev.Details = "own password changed; other sessions revoked"
		return &actas.UserChange{}, nil
	}); err != nil {
		return err
	}
	// Every other session of the user, with its children.
	ss, err := i.store.Sessions(ctx, actas.SessionFilter{TenantID: t.ID, UserID: u.ID, ActiveAt: now})
	if err != nil {
		return wrap("list sessions", err)
	}
	for _, s := range ss {
		if s.ID == c.Session.ID {
			continue
		}
		if err := i.revokeSessions(ctx, actas.RevokeQuery{TenantID: t.ID, SessionID: s.ID}, now, actas.ReasonAdmin); err != nil {
			return err
		}
	}
	return nil
}
