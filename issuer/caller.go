package issuer

import (
	"context"
	"errors"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/token"
)

// errNoCaller is what authenticateTokens returns for any token that does
// not authenticate a caller; each API answers it with its own message.
var errNoCaller = errors.New("no valid caller tokens")

// errUnauthorized is §7's answer to a caller without valid tokens.
var errUnauthorized = actas.Errorf(actas.EUNAUTHORIZED, "Unauthorized")

// authenticateTokens is the one check of a caller's tokens, shared by
// /auth/impersonate, the token exchange and the user administration API.
// idTok and accessTok are the raw ID and access tokens; either may be ""
// but not both, and when both are given they must be of the same user and
// the same session. The tokens must be valid and unrevoked, of this
// tenant, and their session and user still good (unrevoked, unexpired,
// active). It returns the user, the session and the token's act claim
// (nil unless the session is an impersonation).
func (i *Issuer) authenticateTokens(ctx context.Context, t *actas.Tenant, idTok, accessTok string, now time.Time) (*actas.User, *actas.Session, *token.Actor, error) {
	var claims *token.Claims
	if accessTok != "" {
		ac, err := i.checkToken(ctx, t, accessTok, actas.KeyUseAccess, now, false, false)
		if err != nil {
			return nil, nil, nil, errNoCaller
		}
		claims = ac
	}
	if idTok != "" {
		ic, err := i.checkToken(ctx, t, idTok, actas.KeyUseID, now, false, false)
		if err != nil || (claims != nil && (ic.Sub != claims.Sub || ic.OriginJti != claims.OriginJti)) {
			return nil, nil, nil, errNoCaller
		}
		if claims == nil {
			claims = ic
		}
	}
	if claims == nil {
		return nil, nil, nil, errNoCaller
	}
	s, err := i.store.Session(ctx, claims.OriginJti)
	if errors.Is(err, actas.ErrNotFound) {
		return nil, nil, nil, errNoCaller
	} else if err != nil {
		return nil, nil, nil, wrap("authenticate caller", err)
	}
	if s.TenantID != t.ID || s.UserID != claims.Sub || s.Revoked() || !now.Before(s.ExpiresAt) {
		return nil, nil, nil, errNoCaller
	}
	u, err := i.store.User(ctx, t.ID, claims.Sub)
	if errors.Is(err, actas.ErrNotFound) {
		return nil, nil, nil, errNoCaller
	} else if err != nil {
		return nil, nil, nil, wrap("authenticate caller", err)
	}
	if !u.Active() {
		return nil, nil, nil, errNoCaller
	}
	return u, s, claims.Act, nil
}

// Caller is an authenticated caller of the user administration API.
type Caller struct {
	Client    *Client
	User      *actas.User
	Session   *actas.Session
	Act       *token.Actor // the impersonator, for an impersonated session
	IP        string
	UserAgent string
}

// Impersonated reports whether the caller's session is an impersonation.
func (c *Caller) Impersonated() bool { return c.Act != nil || c.Session.Impersonated() }

// Admin reports whether the caller is a tenant administrator.
func (c *Caller) Admin() bool { return c.User.InGroup(actas.GroupAdmin) }

// CallerRequest is what the HTTP layer hands over: the Authorization
// header without its optional "Bearer " prefix, and the AccessToken header.
type CallerRequest struct {
	Authorization string
	AccessToken   string
	IP            string
	UserAgent     string
}

// AuthenticateCaller authenticates a caller of SPEC §7 and §8: the ID
// token in Authorization, with the access token of the same session in
// AccessToken when the client sends it, or an access token alone in
// Authorization. Anything else: 401 Unauthorized.
func (i *Issuer) AuthenticateCaller(ctx context.Context, c *Client, r CallerRequest) (*Caller, error) {
	now := i.now()
	if r.Authorization == "" {
		return nil, errUnauthorized
	}
	u, s, act, err := i.authenticateTokens(ctx, c.Tenant, r.Authorization, r.AccessToken, now)
	if errors.Is(err, errNoCaller) && r.AccessToken == "" {
		// A bearer access token alone.
		u, s, act, err = i.authenticateTokens(ctx, c.Tenant, "", r.Authorization, now)
	}
	if errors.Is(err, errNoCaller) {
		return nil, errUnauthorized
	} else if err != nil {
		return nil, err
	}
	return &Caller{Client: c, User: u, Session: s, Act: act, IP: r.IP, UserAgent: truncate(r.UserAgent, 512)}, nil
}
