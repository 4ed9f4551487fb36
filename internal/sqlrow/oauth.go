package sqlrow

import (
	"github.com/actas-dev/actas"
)

// OAuthClientCols are the columns of oauth_clients, in the order of
// OAuthClientArgs and ScanOAuthClient.
const OAuthClientCols = `id, tenant_id, name, secret_hash, redirect_uris, post_logout_redirect_uris, is_public, created_at`

// OAuthClientArgs returns the statement arguments of c for OAuthClientCols.
func OAuthClientArgs(c *actas.OAuthClient) []any {
	return []any{c.ID, c.TenantID, c.Name, Blob(c.SecretHash), EncodeList(c.RedirectURIs),
		EncodeList(c.PostLogoutRedirectURIs), c.Public, MS(c.CreatedAt)}
}

// ScanOAuthClient scans a row of OAuthClientCols.
func ScanOAuthClient(row Scanner) (*actas.OAuthClient, error) {
	var (
		c        actas.OAuthClient
		ru, plru string
		created  int64
		secret   []byte
	)
	if err := row.Scan(&c.ID, &c.TenantID, &c.Name, &secret, &ru, &plru, &c.Public, &created); err != nil {
		return nil, err
	}
	var err error
	if c.RedirectURIs, err = DecodeList(ru); err != nil {
		return nil, err
	}
	if c.PostLogoutRedirectURIs, err = DecodeList(plru); err != nil {
		return nil, err
	}
	if len(secret) > 0 {
		c.SecretHash = secret
	}
	c.CreatedAt = FromMS(created)
	return &c, nil
}

// AuthCodeCols are the columns of oauth_codes.
const AuthCodeCols = `hash, tenant_id, client_id, redirect_uri, code_challenge, nonce, scope, parent_id,
	user_id, auth_time, expires_at, used_at, session_id, created_at`

// AuthCodeArgs returns the statement arguments of c for AuthCodeCols.
func AuthCodeArgs(c *actas.AuthCode) []any {
	return []any{c.Hash, c.TenantID, c.ClientID, c.RedirectURI, c.CodeChallenge, c.Nonce, c.Scope, c.ParentID,
		c.UserID, MS(c.AuthTime), MS(c.ExpiresAt), MS(c.UsedAt), c.SessionID, MS(c.CreatedAt)}
}

// ScanAuthCode scans a row of AuthCodeCols.
func ScanAuthCode(row Scanner) (*actas.AuthCode, error) {
	var (
		c                            actas.AuthCode
		authTime, exp, used, created int64
	)
	if err := row.Scan(&c.Hash, &c.TenantID, &c.ClientID, &c.RedirectURI, &c.CodeChallenge, &c.Nonce, &c.Scope,
		&c.ParentID, &c.UserID, &authTime, &exp, &used, &c.SessionID, &created); err != nil {
		return nil, err
	}
	c.AuthTime, c.ExpiresAt, c.UsedAt, c.CreatedAt = FromMS(authTime), FromMS(exp), FromMS(used), FromMS(created)
	return &c, nil
}

// BrowserSessionCols are the columns of browser_sessions.
const BrowserSessionCols = `hash, tenant_id, session_id, created_at`

// BrowserSessionArgs returns the statement arguments of b.
func BrowserSessionArgs(b *actas.BrowserSession) []any {
	return []any{b.Hash, b.TenantID, b.SessionID, MS(b.CreatedAt)}
}

// ScanBrowserSession scans a row of BrowserSessionCols.
func ScanBrowserSession(row Scanner) (*actas.BrowserSession, error) {
	var (
		b       actas.BrowserSession
		created int64
	)
	if err := row.Scan(&b.Hash, &b.TenantID, &b.SessionID, &created); err != nil {
		return nil, err
	}
	b.CreatedAt = FromMS(created)
	return &b, nil
}

// OAuthGrantCols are the columns of oauth_grants.
const OAuthGrantCols = `session_id, tenant_id, client_id, scope, created_at`

// OAuthGrantArgs returns the statement arguments of g.
func OAuthGrantArgs(g *actas.OAuthGrant) []any {
	return []any{g.SessionID, g.TenantID, g.ClientID, g.Scope, MS(g.CreatedAt)}
}

// ScanOAuthGrant scans a row of OAuthGrantCols.
func ScanOAuthGrant(row Scanner) (*actas.OAuthGrant, error) {
	var (
		g       actas.OAuthGrant
		created int64
	)
	if err := row.Scan(&g.SessionID, &g.TenantID, &g.ClientID, &g.Scope, &created); err != nil {
		return nil, err
	}
	g.CreatedAt = FromMS(created)
	return &g, nil
}
