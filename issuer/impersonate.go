package issuer

import (
	"context"
	"errors"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/token"
)

// Impersonation: a permitted operator gets tokens for another user. The
// checks run in the order a reviewer expects: authenticate the caller,
// then authorise it, then check the target. Every attempt, allowed or
// denied, is an audit event; an allowed one is written in the same
// transaction as the session it creates.

var (
	errNotImpersonator = actas.Errorf(actas.EFORBIDDEN, "Do not have the required role privileges")
	errChain           = actas.Errorf(actas.EFORBIDDEN, "An impersonated session cannot impersonate")
	errImpDisabled     = actas.Errorf(actas.EFORBIDDEN, "Impersonation is disabled for this tenant")
	errNoTarget        = actas.Errorf(actas.EINVALID, "Invalid Authentication Parameters")
	errReasonTooLong   = actas.Errorf(actas.EINVALID, "reason is longer than 512 bytes")
	errTargetUnknown   = actas.Errorf(actas.EPRECONDITION, "Target user does not exist")
	errTargetDisabled  = actas.Errorf(actas.EPRECONDITION, "Target user is disabled")
	errTargetSelf      = actas.Errorf(actas.EPRECONDITION, "Cannot impersonate yourself")
	errTargetPrivilege = actas.Errorf(actas.EPRECONDITION, "Target user has privileges the caller lacks")
	errCallerTokens    = actas.Errorf(actas.EUNAUTHORIZED, "Invalid or expired caller tokens")

	// ErrReasonRequired: the tenant requires a reason and none was given.
	ErrReasonRequired = &actas.Error{Code: actas.EPRECONDITION, Message: "A reason is required to impersonate in this tenant"}
)

// MaxReasonLen bounds the free-text reason.
const MaxReasonLen = 512

// ImpersonateRequest is a parsed impersonation.
type ImpersonateRequest struct {
	IDToken     string // the caller's ID token; required unless ViaExchange
	AccessToken string // the caller's access token
	Username    string // the target
	Reason      string
	IP          string
	UserAgent   string
	// ViaExchange marks the RFC 8693 token exchange, where the actor
	// presents only its access token.
	ViaExchange bool
}

// Impersonate starts a session for the target user on behalf of the
// caller. The session cannot be refreshed, lives at most
// min(access token lifetime, tenant impersonation limit), is a child of
// the caller's session, and its tokens carry act = the caller.
func (i *Issuer) Impersonate(ctx context.Context, c *Client, r ImpersonateRequest) (*Result, error) {
	t := c.Tenant
	now := i.now()
	action := actas.ActionImpersonate
	if r.ViaExchange {
		action = actas.ActionTokenExchange
	}
	ev := &actas.AuditEvent{
		Time: now, TenantID: t.ID, Action: action, Subject: truncate(r.Username, actas.MaxUsernameBytes),
		APIKeyID: c.APIKeyID, IP: r.IP, UserAgent: truncate(r.UserAgent, 512),
		Reason: truncate(r.Reason, MaxReasonLen), Outcome: actas.OutcomeDenied,
	}
	deny := func(err error) (*Result, error) {
		ev.Details = actas.ErrorMessage(err)
		if aerr := i.store.AppendAudit(ctx, ev); aerr != nil {
			// The attempt must not go unrecorded: fail it as an outage.
			return nil, wrap("record denied impersonation", aerr)
		}
		i.log.Info("impersonation denied", "tenant", t.Name, "actor", ev.Actor, "subject", ev.Subject, "why", ev.Details)
		return nil, err
	}

	// 1. Authenticate: valid, unrevoked tokens of this tenant, of one user
	// and one session, whose session and user are still good.
	caller, parent, act, err := i.authenticateCaller(ctx, t, r, now)
	if err != nil {
		if actas.ErrorCode(err) == actas.EUNAUTHORIZED {
			return deny(err)
		}
		return nil, err
	}
	ev.ActorID, ev.Actor, ev.ParentID = caller.ID, caller.Username, parent.ID

	// 2. Authorise.
	switch {
	case t.Settings.ImpersonationDisabled:
		return deny(errImpDisabled)
	case parent.Impersonated() || act != nil:
		return deny(errChain)
	case !caller.InGroup(actas.GroupImpersonator):
		return deny(errNotImpersonator)
	}

	// 3. The request and the target.
	switch {
	case r.Username == "":
		return deny(errNoTarget)
	case len(r.Reason) > MaxReasonLen || !utf8.ValidString(r.Reason):
		return deny(errReasonTooLong)
	case r.Reason == "" && t.Settings.ImpersonationRequireReason:
		return deny(ErrReasonRequired)
	}
	var target *actas.User
	if actas.MayNameUser(r.Username) {
		target, err = i.store.UserByUsername(ctx, t.ID, r.Username)
		if err != nil && !errors.Is(err, actas.ErrNotFound) {
			return nil, wrap("impersonate", err)
		}
	}
	if target == nil {
		return deny(errTargetUnknown)
	}
	ev.SubjectID, ev.Subject = target.ID, target.Username
	switch {
	case target.ID == caller.ID:
		return deny(errTargetSelf)
	case !target.Active():
		return deny(errTargetDisabled)
	case !privilegesWithin(target, caller):
		return deny(errTargetPrivilege)
	}

	// 4. The session, its audit record, its tokens.
	life := min(t.Settings.AccessTTL.D(), t.Settings.ImpersonationTTL.D())
	expires := now.Add(life)
	if expires.After(parent.ExpiresAt) {
		expires = parent.ExpiresAt
	}
	s := &actas.Session{
		ID: actas.NewID(), TenantID: t.ID, UserID: target.ID, AuthTime: now, ExpiresAt: expires,
		ClientIP: r.IP, UserAgent: ev.UserAgent, ImpersonatorID: caller.ID, ParentID: parent.ID,
		Reason: ev.Reason, CreatedAt: now,
	}
	ev.SessionID, ev.Outcome, ev.Details = s.ID, actas.OutcomeAllowed, ""
	res, err := i.mint(ctx, t, target, s, &token.Actor{Sub: caller.ID, Username: caller.Username}, now)
	if err != nil {
		return nil, err
	}
	if err := i.store.CreateSession(ctx, s, nil, ev); errors.Is(err, actas.ErrParentRevoked) {
		// The caller's session was revoked after we checked it: the
		// store refused the child in the same transaction.
		ev.Outcome, ev.SessionID = actas.OutcomeDenied, ""
		return deny(errCallerTokens)
	} else if err != nil {
		return nil, wrap("create impersonation session", err)
	}
	// The caller may have been disabled or lost its impersonator group
	// while we worked; the revocation that followed that change may have
	// run before this session existed. Look again now that it does.
	if cur, err := i.store.User(ctx, t.ID, caller.ID); err != nil || !cur.Active() || !cur.InGroup(actas.GroupImpersonator) {
		_ = i.revokeSessions(ctx, actas.RevokeQuery{TenantID: t.ID, SessionID: s.ID}, now, actas.ReasonGroupRemoved)
		if err != nil && !errors.Is(err, actas.ErrNotFound) {
			return nil, wrap("re-read caller", err)
		}
		return nil, errNotImpersonator
	}
	i.log.Info("impersonation allowed", "tenant", t.Name, "actor", caller.Username, "subject", target.Username, "session", s.ID)
	return res, nil
}

// authenticateCaller checks the caller's tokens (both, or the access
// token alone for the token exchange) and loads its user and session.
func (i *Issuer) authenticateCaller(ctx context.Context, t *actas.Tenant, r ImpersonateRequest, now time.Time) (*actas.User, *actas.Session, *token.Actor, error) {
	if r.AccessToken == "" || (!r.ViaExchange && r.IDToken == "") {
		return nil, nil, nil, errCallerTokens
	}
	idTok := r.IDToken
	if r.ViaExchange {
		idTok = ""
	}
	u, s, act, err := i.authenticateTokens(ctx, t, idTok, r.AccessToken, now)
	if errors.Is(err, errNoCaller) {
		return nil, nil, nil, errCallerTokens
	}
	return u, s, act, err
}

// privilegesWithin reports whether every privileged group of target is
// also one of caller's ("equal or lesser administrative privileges").
func privilegesWithin(target, caller *actas.User) bool {
	for _, g := range actas.PrivilegedGroups {
		if slices.Contains(target.Groups, g) && !slices.Contains(caller.Groups, g) {
			return false
		}
	}
	return true
}
