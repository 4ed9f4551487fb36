package issuer

import (
	"context"
	"errors"
	"net/url"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/token"
)

// expectedClient returns the client a token of tenant t must name (aud
// of an ID token, client_id of an access token): the tenant's own
// clientId, or one of its OAuth clients (SPEC §9). A registered client is
// looked up only for a token that names another id than the tenant's.
func (i *Issuer) expectedClient(ctx context.Context, t *actas.Tenant, c *token.Claims) (string, error) {
	got := c.ClientID
	if c.TokenUse == token.UseID {
		got = c.Aud
	}
	if got == t.ClientID || !actas.ValidOAuthClientID(got) {
		return t.ClientID, nil
	}
	_, err := i.store.OAuthClient(ctx, t.ID, got)
	if errors.Is(err, actas.ErrNotFound) {
		return t.ClientID, nil
	} else if err != nil {
		return "", wrap("find client", err)
	}
	return got, nil
}

// ErrInvalidToken is userinfo's refusal of a missing, invalid, expired or
// revoked access token (RFC 6750 §3.1: invalid_token).
var ErrInvalidToken = actas.Errorf(actas.EUNAUTHORIZED, "the access token is invalid, expired or revoked")

// cognitoAdminScope is the scope of tokens from POST /auth/token, which
// (as in Cognito) may read every claim.
const cognitoAdminScope = "aws.cognito.signin.user.admin"

// UserInfo answers the UserInfo endpoint (OpenID Connect Core §5.3) for
// an access token of tenant t: sub and username always; by scope email
// and email_verified ("email"), the profile claims and groups
// ("profile"); act for an impersonated token.
func (i *Issuer) UserInfo(ctx context.Context, t *actas.Tenant, raw string) (map[string]any, error) {
	if raw == "" {
		return nil, ErrInvalidToken
	}
	c, err := i.checkToken(ctx, t, raw, actas.KeyUseAccess, i.now(), false, false)
	if err != nil {
		if actas.ErrorCode(err) == actas.EUNAUTHORIZED {
			return nil, ErrInvalidToken
		}
		return nil, err
	}
	u, err := i.store.User(ctx, t.ID, c.Sub)
	if errors.Is(err, actas.ErrNotFound) {
		return nil, ErrInvalidToken
	} else if err != nil {
		return nil, wrap("userinfo", err)
	}
	if !u.Active() {
		return nil, ErrInvalidToken
	}
	all := hasScope(c.Scope, cognitoAdminScope)
	out := map[string]any{"sub": u.ID, "username": u.Username}
	if all || hasScope(c.Scope, "email") {
		out["email"] = u.Email
		out["email_verified"] = u.EmailVerified
	}
	if all || hasScope(c.Scope, "profile") {
		for k, v := range profileClaims(u) {
			if v != "" {
				out[k] = v
			}
		}
		if len(u.Groups) > 0 {
			out["cognito:groups"] = u.Groups
		}
	}
	if c.Act != nil {
		out["act"] = c.Act
	}
	return out, nil
}

// profileClaims are the OIDC standard claims of a user's profile
// (given_name, family_name, nickname = friendlyName, SPEC §7), as the ID
// token carries them.
func profileClaims(u *actas.User) map[string]string {
	return map[string]string{"given_name": u.FirstName, "family_name": u.LastName, "nickname": u.FriendlyName}
}

// LogoutRequest is an RP-initiated logout (OpenID RP-Initiated Logout
// 1.0 §2).
type LogoutRequest struct {
	Tenant                *actas.Tenant
	IDTokenHint           string
	ClientID              string
	PostLogoutRedirectURI string
	State                 string
	Cookie                string // the browser-session cookie, if any
}

// Logout ends the browser session of the cookie, or the one the ID token
// hint was issued from, revoking it and every session of its code
// exchanges. It returns where to redirect ("" for the signed-out page).
// A request that names an unregistered redirect, or whose hint and
// client_id disagree, is refused with an *AuthorizeError (an error page,
// never a redirect) before anything is ended.
func (i *Issuer) Logout(ctx context.Context, r LogoutRequest) (string, error) {
	t := r.Tenant
	page := func(desc string) error { return &AuthorizeError{Code: "invalid_request", Description: desc} }
	now := i.now()
	var hint *token.Claims
	if r.IDTokenHint != "" {
		c, err := i.checkToken(ctx, t, r.IDTokenHint, actas.KeyUseID, now, true, true)
		if err != nil {
			if actas.ErrorCode(err) == actas.EUNAUTHORIZED {
				return "", page("id_token_hint is not an ID token of this issuer")
			}
			return "", err
		}
		hint = c
	}
	clientID := r.ClientID
	if hint != nil {
		if clientID != "" && clientID != hint.Aud {
			return "", page("client_id does not match the id_token_hint")
		}
		clientID = hint.Aud
	}
	if len(r.State) > maxStateLen {
		return "", page("state is too long")
	}
	var redirect string
	if r.PostLogoutRedirectURI != "" {
		if clientID == "" || clientID == t.ClientID {
			return "", page("post_logout_redirect_uri needs client_id or id_token_hint")
		}
		cl, err := i.store.OAuthClient(ctx, t.ID, clientID)
		if errors.Is(err, actas.ErrNotFound) {
			return "", page("unknown client")
		} else if err != nil {
			return "", wrap("find client", err)
		}
		if !contains(cl.PostLogoutRedirectURIs, r.PostLogoutRedirectURI) {
			return "", page("post_logout_redirect_uri is not registered for this client")
		}
		u, err := url.Parse(r.PostLogoutRedirectURI)
		if err != nil {
			return "", page("post_logout_redirect_uri is not registered for this client")
		}
		if r.State != "" {
			q := u.Query()
			q.Set("state", r.State)
			u.RawQuery = q.Encode()
		}
		redirect = u.String()
	}

	var ended []string
	if b, err := i.FindBrowserSession(ctx, t, r.Cookie); err != nil {
		return "", err
	} else if b != nil {
		ended = append(ended, b.Session.ID)
	}
	if len(r.Cookie) == refreshTokenLen {
		if err := i.store.DeleteBrowserSession(ctx, hashSecret(r.Cookie)); err != nil {
			return "", wrap("logout", err)
		}
	}
	if hint != nil {
		id := hint.OriginJti
		if s, err := i.store.Session(ctx, id); err == nil && s.TenantID == t.ID && s.ParentID != "" && !s.Impersonated() {
			id = s.ParentID // the browser session the hint's session came from
		}
		ended = append(ended, id)
	}
	for _, id := range ended {
		if err := i.revokeSessions(ctx, actas.RevokeQuery{TenantID: t.ID, SessionID: id}, now, actas.ReasonLogout); err != nil {
			return "", err
		}
	}
	if len(ended) > 0 {
		_ = i.store.AppendAudit(ctx, &actas.AuditEvent{Time: now, TenantID: t.ID, Action: actas.ActionPageSignOut,
			SessionID: ended[0], Outcome: actas.OutcomeAllowed, Details: "RP-initiated logout"})
	}
	return redirect, nil
}
