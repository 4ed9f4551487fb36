package issuer

import (
	"context"
	"errors"
	"strings"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/token"
)

// OAuth token revocation (RFC 7009) and introspection (RFC 7662).
//
// Both accept any of the three kinds of token actas issues, told apart by
// their shape (a JWT has two dots, a refresh token is 43 base64url
// characters), so token_type_hint is never needed (RFC 7009 §2.1 and RFC
// 7662 §2.1 let a server search every type).

// Revoke revokes the session of a token of c's tenant (RFC 7009 §2.1):
// a refresh token, an access token or an ID token alike revoke their
// whole session and every impersonation session started from it. An
// access or ID token cannot be revoked alone: that would leave its
// sibling and the refresh token alive, which is not what a client
// logging out means. Expired access and ID tokens are accepted, so a
// client can still end a live session with them.
//
// A token that is unknown, malformed, of another tenant or already
// revoked is not an error (RFC 7009 §2.2: "invalid tokens do not cause an
// error response"): the caller learns nothing about other tenants.
func (i *Issuer) Revoke(ctx context.Context, c *Client, raw string) error {
	t := c.Tenant
	now := i.now()
	sessionID, err := i.sessionOfToken(ctx, t, raw)
	if err != nil || sessionID == "" {
		return err
	}
	return i.revokeSessions(ctx, actas.RevokeQuery{TenantID: t.ID, SessionID: sessionID}, now, actas.ReasonOAuthRevocation)
}

// sessionOfToken returns the session of a token of tenant t, or "" if the
// token is not one of t's. Only storage failures are errors.
func (i *Issuer) sessionOfToken(ctx context.Context, t *actas.Tenant, raw string) (string, error) {
	if strings.Count(raw, ".") == 2 {
		now := i.now()
		for _, use := range []string{actas.KeyUseAccess, actas.KeyUseID} {
			c, err := i.checkToken(ctx, t, raw, use, now, true, true)
			if err == nil {
				return c.OriginJti, nil
			}
			if actas.ErrorCode(err) != actas.EUNAUTHORIZED {
				return "", err
			}
		}
		return "", nil
	}
	s, _, err := i.refreshSession(ctx, t, raw)
	if err != nil || s == nil {
		return "", err
	}
	return s.ID, nil
}

// refreshSession finds the session and refresh token of an opaque refresh
// token of tenant t; nil, nil, nil if there is none.
func (i *Issuer) refreshSession(ctx context.Context, t *actas.Tenant, raw string) (*actas.Session, *actas.RefreshToken, error) {
	if len(raw) != refreshTokenLen {
		return nil, nil, nil
	}
	s, rt, err := i.store.SessionByRefreshToken(ctx, hashSecret(raw))
	switch {
	case errors.Is(err, actas.ErrNotFound):
		return nil, nil, nil
	case err != nil:
		return nil, nil, wrap("find refresh token", err)
	case s.TenantID != t.ID:
		return nil, nil, nil
	}
	return s, rt, nil
}

// Introspection is the answer of RFC 7662 §2.2. Inactive tokens have only
// Active: false.
type Introspection struct {
	Active    bool         `json:"active"`
	Scope     string       `json:"scope,omitempty"`
	ClientID  string       `json:"client_id,omitempty"`
	Username  string       `json:"username,omitempty"`
	TokenType string       `json:"token_type,omitempty"`
	Exp       int64        `json:"exp,omitempty"`
	Iat       int64        `json:"iat,omitempty"`
	Nbf       int64        `json:"nbf,omitempty"`
	Sub       string       `json:"sub,omitempty"`
	Aud       string       `json:"aud,omitempty"`
	Iss       string       `json:"iss,omitempty"`
	Jti       string       `json:"jti,omitempty"`
	OriginJti string       `json:"origin_jti,omitempty"`
	Sid       string       `json:"sid,omitempty"`
	TokenUse  string       `json:"token_use,omitempty"`
	AuthTime  int64        `json:"auth_time,omitempty"`
	Groups    []string     `json:"cognito:groups,omitempty"`
	Act       *token.Actor `json:"act,omitempty"`
}

func inactive() *Introspection { return &Introspection{Active: false} }

// Introspect says whether a token of c's tenant is active (RFC 7662): an
// access or ID token that verifies, has not expired and whose session is
// not revoked, or a refresh token that a refresh would accept now. The
// session is read from the store, not only from the in-memory set, so a
// revocation made by any replica is seen at once. Anything else is
// inactive, with no reason given (§2.2).
func (i *Issuer) Introspect(ctx context.Context, c *Client, raw string) (*Introspection, error) {
	t := c.Tenant
	now := i.now()
	if strings.Count(raw, ".") == 2 {
		for _, use := range []string{actas.KeyUseAccess, actas.KeyUseID} {
			cl, err := i.checkToken(ctx, t, raw, use, now, false, false)
			if err != nil {
				if actas.ErrorCode(err) != actas.EUNAUTHORIZED {
					return nil, err
				}
				continue
			}
			s, err := i.store.Session(ctx, cl.OriginJti)
			switch {
			case errors.Is(err, actas.ErrNotFound):
				return inactive(), nil
			case err != nil:
				return nil, wrap("introspect", err)
			case s.TenantID != t.ID || s.Revoked() || !now.Before(s.ExpiresAt):
				return inactive(), nil
			}
			in := &Introspection{
				Active: true, Sub: cl.Sub, Iss: cl.Iss, Exp: cl.Exp, Iat: cl.Iat, Nbf: cl.Nbf,
				Jti: cl.Jti, OriginJti: cl.OriginJti, TokenUse: cl.TokenUse, AuthTime: cl.AuthTime,
				Groups: cl.Groups, Act: cl.Act, Sid: cl.Sid,
			}
			if use == actas.KeyUseAccess {
				in.ClientID, in.Username, in.Scope, in.TokenType = cl.ClientID, cl.Username, cl.Scope, "Bearer"
				in.Aud = cl.Aud // the tenant's access_token_audience, if set (SPEC §6)
			} else {
				in.ClientID, in.Aud, in.Username = cl.Aud, cl.Aud, cl.CognitoUsername
			}
			return in, nil
		}
		return inactive(), nil
	}
	s, rt, err := i.refreshSession(ctx, t, raw)
	if err != nil || s == nil {
		return inactive(), err
	}
	// Active only if a refresh with it would succeed: the current
	// generation (an older one would trigger reuse detection).
	if refreshable(s, now) != nil || rt.Generation != s.RefreshGeneration {
		return inactive(), nil
	}
	u, err := i.store.User(ctx, t.ID, s.UserID)
	if errors.Is(err, actas.ErrNotFound) {
		return inactive(), nil
	} else if err != nil {
		return nil, wrap("introspect", err)
	}
	if !u.Active() {
		return inactive(), nil
	}
	return &Introspection{
		Active: true, Sub: u.ID, ClientID: t.ClientID, Username: u.Username, Iss: i.Issuer(t),
		Exp: s.ExpiresAt.Unix(), Iat: rt.CreatedAt.Unix(), OriginJti: s.ID, TokenUse: "refresh",
	}, nil
}
