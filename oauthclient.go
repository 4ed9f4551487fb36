package actas

import (
	"context"
	"time"
)

// OAuthClient is a relying party registered with a tenant for browser
// sign-in (SPEC §9): the authorization code flow with PKCE.
type OAuthClient struct {
	ID       string // client_id: 26 lowercase alphanumerics
	TenantID string
	Name     string
	// SecretHash is the SHA-256 of the client secret of a confidential
	// client; empty for a public client.
	SecretHash             []byte
	RedirectURIs           []string // matched exactly (loopback ports aside)
	PostLogoutRedirectURIs []string // matched exactly
	Public                 bool
	CreatedAt              time.Time
}

// AuthCode is one authorization code, stored only as its hash. It is
// single use: RedeemAuthCode marks it used, and a second redemption is
// told apart so that the session of the first can be revoked (RFC 6749
// §4.1.2).
type AuthCode struct {
	Hash          []byte
	TenantID      string
	ClientID      string
	RedirectURI   string // as the authorization request sent it
	CodeChallenge string // PKCE S256 challenge
	Nonce         string
	Scope         string // space-separated, as granted
	// ParentID is the browser session the code was issued from; the
	// session an exchange creates is its child.
	ParentID  string
	UserID    string
	AuthTime  time.Time
	ExpiresAt time.Time
	UsedAt    time.Time // zero until redeemed
	SessionID string    // the session the first redemption creates
	CreatedAt time.Time
}

// BrowserSession maps the hash of a browser-session cookie to the actas
// session a page sign-in created.
type BrowserSession struct {
	Hash      []byte
	TenantID  string
	SessionID string
	CreatedAt time.Time
}

// OAuthGrant records which OAuth client, with which scope, a session
// created by a code exchange belongs to, so that its refreshes mint the
// same tokens.
type OAuthGrant struct {
	SessionID string
	TenantID  string
	ClientID  string
	Scope     string
	CreatedAt time.Time
}

// ClientStore keeps a tenant's OAuth clients. See Store for the contract
// every method follows.
type ClientStore interface {
	// CreateOAuthClient fails with ErrConflict if the id is taken.
	CreateOAuthClient(ctx context.Context, c *OAuthClient) error
	OAuthClient(ctx context.Context, tenantID, id string) (*OAuthClient, error)
	// OAuthClients returns a tenant's clients by name, then id.
	OAuthClients(ctx context.Context, tenantID string) ([]*OAuthClient, error)
	// DeleteOAuthClient removes a client; ErrNotFound if there is none.
	// Sessions it started stay (the caller revokes them if it wants).
	DeleteOAuthClient(ctx context.Context, tenantID, id string) error
}

// AuthCodeStore keeps authorization codes and the grants their exchanges
// create.
type AuthCodeStore interface {
	CreateAuthCode(ctx context.Context, c *AuthCode) error
	// AuthCode returns the code with this hash; ErrNotFound if none.
	AuthCode(ctx context.Context, hash []byte) (*AuthCode, error)
	// RedeemAuthCode atomically marks the code with this hash used at now
	// by the session of g, and stores g, whose session must exist. It
	// returns the code as it was before: if UsedAt is already set, the
	// code was redeemed before and nothing is written. ErrNotFound if
	// there is no such code.
	RedeemAuthCode(ctx context.Context, hash []byte, now time.Time, g *OAuthGrant) (*AuthCode, error)
	// CreateOAuthGrant records the grant of a session that exists.
	CreateOAuthGrant(ctx context.Context, g *OAuthGrant) error
	// OAuthGrant returns the grant of a session; ErrNotFound if the
	// session was not created by a code exchange.
	OAuthGrant(ctx context.Context, sessionID string) (*OAuthGrant, error)
}

// BrowserSessionStore keeps browser-session cookies by hash. A row goes
// away with its session (when it is purged or its user deleted).
type BrowserSessionStore interface {
	CreateBrowserSession(ctx context.Context, b *BrowserSession) error
	BrowserSession(ctx context.Context, hash []byte) (*BrowserSession, error)
	// DeleteBrowserSession removes the cookie's row; none is not an error.
	DeleteBrowserSession(ctx context.Context, hash []byte) error
}

// Audit actions of browser sign-in.
const (
	ActionPageSignIn   = "page_signin"   // a sign-in through the hosted page
	ActionCodeExchange = "code_exchange" // an authorization code exchanged
	ActionCodeReuse    = "code_reuse"    // a code presented a second time
	ActionPageSignOut  = "page_signout"  // RP-initiated logout
)

// Revocation reasons of browser sign-in.
const (
	ReasonCodeReuse = "authorization_code_reuse"
)

// ValidOAuthClientID reports whether s has the shape of a client_id: 26
// lowercase alphanumerics.
func ValidOAuthClientID(s string) bool {
	if len(s) != 26 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
