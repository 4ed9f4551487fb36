package issuer

import (
	"context"
	"crypto/subtle"
	"errors"
	"strings"
	"time"

	"github.com/actas-dev/actas"
)

// The authorization_code and refresh_token grants of the token endpoint
// for OAuth clients (SPEC §9). The client authenticates itself; no API
// key is involved.

// Errors of the two grants; httpapi maps them to OAuth error codes by
// identity.
var (
	errInvalidClient = &actas.Error{Code: actas.EUNAUTHORIZED, Message: "client authentication failed"}
	errInvalidGrant  = &actas.Error{Code: actas.EUNAUTHORIZED, Message: "the code is invalid, expired, already used, or was issued to another client or redirect URI"}
)

// ErrInvalidClient is the error of a failed client authentication
// (invalid_client, 401).
var ErrInvalidClient error = errInvalidClient

// ClientCredentials is how a client authenticated at the token endpoint.
type ClientCredentials struct {
	ID         string
	Secret     string
	SecretSent bool // client_secret_basic or client_secret_post
}

// AuthenticateClient checks a client's credentials alone, for a token
// request refused after the client is known (unsupported_grant_type).
func (i *Issuer) AuthenticateClient(ctx context.Context, t *actas.Tenant, c ClientCredentials) error {
	_, err := i.authenticateClient(ctx, t, c)
	return err
}

// CodeRequest is a parsed authorization_code grant.
type CodeRequest struct {
	Client       ClientCredentials
	Code         string
	RedirectURI  string
	CodeVerifier string
	IP           string
	UserAgent    string
}

// ExchangeCode redeems an authorization code (RFC 6749 §4.1.3, RFC 7636
// §4.6). The code is single use: a second redemption is refused and
// revokes the session the first created (RFC 6749 §4.1.2). The new
// session is a child of the browser session the code came from, so
// ending that ends this one too.
func (i *Issuer) ExchangeCode(ctx context.Context, t *actas.Tenant, r CodeRequest) (*Result, error) {
	cl, err := i.authenticateClient(ctx, t, r.Client)
	if err != nil {
		return nil, err
	}
	switch {
	case r.Code == "":
		return nil, actas.Errorf(actas.EINVALID, "code is required")
	case r.RedirectURI == "":
		return nil, actas.Errorf(actas.EINVALID, "redirect_uri is required")
	case r.CodeVerifier == "":
		return nil, actas.Errorf(actas.EINVALID, "code_verifier is required")
	case !validVerifier(r.CodeVerifier):
		return nil, actas.Errorf(actas.EINVALID, "code_verifier must be 43-128 characters of [A-Za-z0-9-._~]")
	case len(r.Code) != refreshTokenLen:
		return nil, errInvalidGrant
	}
	now := i.now()
	hash := hashSecret(r.Code)
	c, err := i.store.AuthCode(ctx, hash)
	if errors.Is(err, actas.ErrNotFound) {
		return nil, errInvalidGrant
	} else if err != nil {
		return nil, wrap("find code", err)
	}
	if c.TenantID != t.ID {
		return nil, errInvalidGrant
	}
	if !c.UsedAt.IsZero() {
		return nil, i.codeReused(ctx, t, c, r.IP, now)
	}
	switch {
	case !now.Before(c.ExpiresAt),
		c.ClientID != cl.ID,
		c.RedirectURI != r.RedirectURI,
		subtle.ConstantTimeCompare([]byte(s256(r.CodeVerifier)), []byte(c.CodeChallenge)) != 1:
		return nil, errInvalidGrant
	}
	u, err := i.store.User(ctx, t.ID, c.UserID)
	if errors.Is(err, actas.ErrNotFound) {
		return nil, errInvalidGrant
	} else if err != nil {
		return nil, wrap("exchange code", err)
	}
	if !u.Active() {
		return nil, errInvalidGrant
	}
	// The session first, then the redemption with the grant in one
	// transaction: two writes per exchange. Of two exchanges racing for
	// one code both may create a session, but one redemption wins; the
	// other revokes its own session and, as for any reuse, the winner's.
	refreshable := hasScope(c.Scope, "offline_access")
	s := &actas.Session{
		ID: actas.NewID(), TenantID: t.ID, UserID: u.ID, AuthTime: c.AuthTime,
		ExpiresAt: now.Add(t.Settings.RefreshTTL.D()), ClientIP: r.IP, UserAgent: truncate(r.UserAgent, 512),
		Refreshable: refreshable, ParentID: c.ParentID, CreatedAt: now,
	}
	var refresh string
	var rt *actas.RefreshToken
	if refreshable {
		s.RotatedAt = now
		refresh, rt = newRefreshToken(s.ID, 0, now)
	}
	ev := &actas.AuditEvent{Time: now, TenantID: t.ID, Action: actas.ActionCodeExchange, ActorID: u.ID, Actor: u.Username,
		SubjectID: u.ID, Subject: u.Username, SessionID: s.ID, ParentID: c.ParentID, IP: r.IP, UserAgent: s.UserAgent,
		Outcome: actas.OutcomeAllowed, Details: "client " + cl.ID}
	if err := i.store.CreateSession(ctx, s, rt, ev); errors.Is(err, actas.ErrParentRevoked) || errors.Is(err, actas.ErrNotFound) {
		return nil, errInvalidGrant // signed out meanwhile
	} else if err != nil {
		return nil, wrap("create session", err)
	}
	g := &actas.OAuthGrant{SessionID: s.ID, TenantID: t.ID, ClientID: cl.ID, Scope: c.Scope, CreatedAt: now}
	won, err := i.store.RedeemAuthCode(ctx, hash, now, g)
	if err == nil && !won.UsedAt.IsZero() {
		err = i.codeReused(ctx, t, won, r.IP, now)
	}
	if err != nil {
		_ = i.revokeSessions(ctx, actas.RevokeQuery{TenantID: t.ID, SessionID: s.ID}, now, actas.ReasonCodeReuse)
		if errors.Is(err, actas.ErrNotFound) {
			return nil, errInvalidGrant
		}
		return nil, wrap("redeem code", err)
	}
	res, err := i.mintWith(ctx, t, u, s, nil, now, &mintOptions{ClientID: cl.ID, Scope: c.Scope, Nonce: c.Nonce})
	if err != nil {
		return nil, err
	}
	res.RefreshToken = refresh
	return res, nil
}

// codeReused answers a code presented again: the session its first
// exchange created is revoked (RFC 6749 §4.1.2), the browser session is
// not.
func (i *Issuer) codeReused(ctx context.Context, t *actas.Tenant, c *actas.AuthCode, ip string, now time.Time) error {
	if c.SessionID != "" {
		if err := i.revokeSessions(ctx, actas.RevokeQuery{TenantID: t.ID, SessionID: c.SessionID}, now, actas.ReasonCodeReuse); err != nil {
			return err
		}
	}
	_ = i.store.AppendAudit(ctx, &actas.AuditEvent{Time: now, TenantID: t.ID, Action: actas.ActionCodeReuse,
		SubjectID: c.UserID, SessionID: c.SessionID, IP: ip, Outcome: actas.OutcomeDenied,
		Details: "an authorization code was presented a second time; the session of its first exchange was revoked"})
	return errInvalidGrant
}

// RefreshClientRequest is a parsed refresh_token grant of an OAuth client.
type RefreshClientRequest struct {
	Client       ClientCredentials
	RefreshToken string
}

// RefreshForClient refreshes a session that a code exchange of this
// client created, through Refresh: the tenant's rotation, grace and
// reuse detection apply as for POST /auth/token.
func (i *Issuer) RefreshForClient(ctx context.Context, t *actas.Tenant, r RefreshClientRequest) (*Result, error) {
	cl, err := i.authenticateClient(ctx, t, r.Client)
	if err != nil {
		return nil, err
	}
	if r.RefreshToken == "" {
		return nil, actas.Errorf(actas.EINVALID, "refresh_token is required")
	}
	return i.Refresh(ctx, &Client{Tenant: t}, RefreshRequest{RefreshToken: r.RefreshToken, OAuthClientID: cl.ID})
}

// mintOptions are the claims of tokens minted for an OAuth client.
type mintOptions struct {
	ClientID string // aud of the ID token, client_id of the access token
	Scope    string
	Nonce    string // ID token of a code exchange only
}

// grantOptions returns how tokens of session s are minted on refresh:
// nil for an ordinary session refreshed with the tenant's API key, the
// grant's client and scope for a session of a code exchange. A refresh
// token of one kind is refused on the other path.
func (i *Issuer) grantOptions(ctx context.Context, s *actas.Session, oauthClientID string) (*mintOptions, error) {
	if s.ParentID == "" || s.Impersonated() {
		if oauthClientID != "" {
			return nil, errBadRefresh
		}
		return nil, nil
	}
	g, err := i.store.OAuthGrant(ctx, s.ID)
	if errors.Is(err, actas.ErrNotFound) {
		return nil, errBadRefresh
	} else if err != nil {
		return nil, wrap("find grant", err)
	}
	if g.ClientID != oauthClientID {
		return nil, errBadRefresh
	}
	return &mintOptions{ClientID: g.ClientID, Scope: g.Scope}, nil
}

func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	return strings.Trim(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") == ""
}
