package httpapi

import (
	"context"
	"net/url"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/issuer"
	"github.com/actas-dev/actas/revocation"
)

// The issuer operations the handlers call, one small interface per route
// group. *issuer.Issuer implements them all; a handler test can give the
// Server a fake that embeds Service and overrides only the methods its
// route calls (httpapi/service_test.go).

// Tokens is what /auth/token and /auth/impersonate call (SPEC §3, §5).
type Tokens interface {
	Authenticate(ctx context.Context, apiKey string) (*issuer.Client, error)
	SignIn(ctx context.Context, c *issuer.Client, r issuer.SignInRequest) (*issuer.Result, error)
	Refresh(ctx context.Context, c *issuer.Client, r issuer.RefreshRequest) (*issuer.Result, error)
	Expire(ctx context.Context, c *issuer.Client, r issuer.ExpireRequest) (*issuer.ExpireResult, error)
	Impersonate(ctx context.Context, c *issuer.Client, r issuer.ImpersonateRequest) (*issuer.Result, error)
	Issuer(t *actas.Tenant) string
	Now() time.Time
}

// Revocations is what RFC 7009 revocation, introspection and the
// revocation feed call.
type Revocations interface {
	Revoke(ctx context.Context, c *issuer.Client, raw string) error
	Introspect(ctx context.Context, c *issuer.Client, raw string) (*issuer.Introspection, error)
	RevocationFeed(ctx context.Context, c *issuer.Client, after int64, wait time.Duration) (*revocation.Feed, error)
}

// Documents is what discovery and JWKS call, and every route under a
// user pool.
type Documents interface {
	TenantByPoolID(ctx context.Context, poolID string) (*actas.Tenant, error)
	DiscoveryJSON(ctx context.Context, t *actas.Tenant) (*issuer.Document, error)
	JWKSDocument(ctx context.Context, t *actas.Tenant) (*issuer.Document, error)
}

// OAuthGrants is what /oauth2/token calls for the grants an OAuth client
// authenticates itself for (SPEC §9).
type OAuthGrants interface {
	AuthenticateClient(ctx context.Context, t *actas.Tenant, c issuer.ClientCredentials) error
	ExchangeCode(ctx context.Context, t *actas.Tenant, r issuer.CodeRequest) (*issuer.Result, error)
	RefreshForClient(ctx context.Context, t *actas.Tenant, r issuer.RefreshClientRequest) (*issuer.Result, error)
}

// BrowserSignIn is what the hosted pages, userinfo, logout and CORS call
// (SPEC §9).
type BrowserSignIn interface {
	ParseAuthorize(ctx context.Context, t *actas.Tenant, q url.Values) (*issuer.AuthorizeRequest, error)
	ErrorRedirect(e *issuer.AuthorizeError) string
	FindBrowserSession(ctx context.Context, t *actas.Tenant, cookie string) (*issuer.BrowserSession, error)
	ForgetBrowserCookie(ctx context.Context, t *actas.Tenant, cookie string, now *issuer.BrowserSession)
	NeedsLogin(ar *issuer.AuthorizeRequest, b *issuer.BrowserSession) bool
	PageSignIn(ctx context.Context, r issuer.PageSignInRequest) (*issuer.PageSignInResult, error)
	IssueCode(ctx context.Context, ar *issuer.AuthorizeRequest, b *issuer.BrowserSession) (string, error)
	Logout(ctx context.Context, r issuer.LogoutRequest) (string, error)
	UserInfo(ctx context.Context, t *actas.Tenant, raw string) (map[string]any, error)
	SecureCookies() bool
	CORSOriginAllowed(ctx context.Context, poolID, origin string) (bool, error)
}

// UserAdmin is what the user, group, password and audit routes call
// (SPEC §7, §8).
type UserAdmin interface {
	AuthenticateCaller(ctx context.Context, c *issuer.Client, r issuer.CallerRequest) (*issuer.Caller, error)
	Me(c *issuer.Caller) *actas.User
	GetUser(ctx context.Context, c *issuer.Caller, id string) (*actas.User, error)
	SearchUsers(ctx context.Context, c *issuer.Caller, text, after string, limit int) ([]*actas.User, error)
	CreateUserBy(ctx context.Context, c *issuer.Caller, r issuer.NewUser) (*actas.User, error)
	PatchUser(ctx context.Context, c *issuer.Caller, id string, p issuer.UserPatch) (*actas.User, error)
	DeleteUserBy(ctx context.Context, c *issuer.Caller, id string) error
	ChangeGroup(ctx context.Context, c *issuer.Caller, id, groupID, groupName string, add bool) error
	SetPasswordBy(ctx context.Context, c *issuer.Caller, id, pw string, mustChange *bool) error
	ChangeOwnPassword(ctx context.Context, c *issuer.Caller, previous, proposed string) error
	UserSessions(ctx context.Context, c *issuer.Caller, id string) ([]issuer.ListedSession, error)
	RevokeSessionsOf(ctx context.Context, c *issuer.Caller, id string) (int, error)
	ListGroups(ctx context.Context, c *issuer.Caller) ([]*actas.Group, error)
	CreateGroupBy(ctx context.Context, c *issuer.Caller, name string) (*actas.Group, error)
	DeleteGroupBy(ctx context.Context, c *issuer.Caller, id string) error
	GroupIDs(ctx context.Context, t *actas.Tenant, names []string) ([]string, error)
	AuditPage(ctx context.Context, c *issuer.Caller, q issuer.AuditQuery) ([]*actas.AuditEvent, int64, error)
}

// Service is every operation the Server calls.
type Service interface {
	Tokens
	Revocations
	Documents
	OAuthGrants
	BrowserSignIn
	UserAdmin
}

var _ Service = (*issuer.Issuer)(nil)
