package storeguard

import (
	"context"
	"time"

	"github.com/actas-dev/actas"
)

// The guarded methods of the role interfaces actas.Store embeds
// (ClientStore, AuthCodeStore, BrowserSessionStore, TenantChangeStore,
// GroupStore, UserAdminStore; WriteProber's ProbeWrite is in methods.go),
// each the store's own under call or do. Without them these calls would
// be promoted from the embedded store and go unguarded: no deadline, and
// no fast failure while the database is known down.
// TestGuardDeclaresEveryStoreMethod fails when one is missing.

// ClientStore.

func (g *Guard) CreateOAuthClient(ctx context.Context, c *actas.OAuthClient) error {
	return do(g, ctx, func(ctx context.Context) error { return g.Store.CreateOAuthClient(ctx, c) })
}

func (g *Guard) OAuthClient(ctx context.Context, tenantID, id string) (*actas.OAuthClient, error) {
	return call(g, ctx, func(ctx context.Context) (*actas.OAuthClient, error) { return g.Store.OAuthClient(ctx, tenantID, id) })
}

func (g *Guard) OAuthClients(ctx context.Context, tenantID string) ([]*actas.OAuthClient, error) {
	return call(g, ctx, func(ctx context.Context) ([]*actas.OAuthClient, error) { return g.Store.OAuthClients(ctx, tenantID) })
}

func (g *Guard) DeleteOAuthClient(ctx context.Context, tenantID, id string) error {
	return do(g, ctx, func(ctx context.Context) error { return g.Store.DeleteOAuthClient(ctx, tenantID, id) })
}

// AuthCodeStore.

func (g *Guard) CreateAuthCode(ctx context.Context, c *actas.AuthCode) error {
	return do(g, ctx, func(ctx context.Context) error { return g.Store.CreateAuthCode(ctx, c) })
}

func (g *Guard) AuthCode(ctx context.Context, hash []byte) (*actas.AuthCode, error) {
	return call(g, ctx, func(ctx context.Context) (*actas.AuthCode, error) { return g.Store.AuthCode(ctx, hash) })
}

func (g *Guard) RedeemAuthCode(ctx context.Context, hash []byte, now time.Time, gr *actas.OAuthGrant) (*actas.AuthCode, error) {
	return call(g, ctx, func(ctx context.Context) (*actas.AuthCode, error) { return g.Store.RedeemAuthCode(ctx, hash, now, gr) })
}

func (g *Guard) CreateOAuthGrant(ctx context.Context, gr *actas.OAuthGrant) error {
	return do(g, ctx, func(ctx context.Context) error { return g.Store.CreateOAuthGrant(ctx, gr) })
}

func (g *Guard) OAuthGrant(ctx context.Context, sessionID string) (*actas.OAuthGrant, error) {
	return call(g, ctx, func(ctx context.Context) (*actas.OAuthGrant, error) { return g.Store.OAuthGrant(ctx, sessionID) })
}

// BrowserSessionStore.

func (g *Guard) CreateBrowserSession(ctx context.Context, b *actas.BrowserSession) error {
	return do(g, ctx, func(ctx context.Context) error { return g.Store.CreateBrowserSession(ctx, b) })
}

func (g *Guard) BrowserSession(ctx context.Context, hash []byte) (*actas.BrowserSession, error) {
	return call(g, ctx, func(ctx context.Context) (*actas.BrowserSession, error) { return g.Store.BrowserSession(ctx, hash) })
}

func (g *Guard) DeleteBrowserSession(ctx context.Context, hash []byte) error {
	return do(g, ctx, func(ctx context.Context) error { return g.Store.DeleteBrowserSession(ctx, hash) })
}

// TenantChangeStore.

func (g *Guard) ConfigChanges(ctx context.Context, after int64, limit int) ([]actas.ConfigChange, error) {
	return call(g, ctx, func(ctx context.Context) ([]actas.ConfigChange, error) {
		return g.Store.ConfigChanges(ctx, after, limit)
	})
}

func (g *Guard) TenantsAfter(ctx context.Context, afterID string, limit int) ([]*actas.Tenant, error) {
	return call(g, ctx, func(ctx context.Context) ([]*actas.Tenant, error) { return g.Store.TenantsAfter(ctx, afterID, limit) })
}

// GroupStore.

func (g *Guard) CreateGroup(ctx context.Context, gr *actas.Group, ev *actas.AuditEvent) error {
	return do(g, ctx, func(ctx context.Context) error { return g.Store.CreateGroup(ctx, gr, ev) })
}

func (g *Guard) Group(ctx context.Context, tenantID, id string) (*actas.Group, error) {
	return call(g, ctx, func(ctx context.Context) (*actas.Group, error) { return g.Store.Group(ctx, tenantID, id) })
}

func (g *Guard) GroupByName(ctx context.Context, tenantID, name string) (*actas.Group, error) {
	return call(g, ctx, func(ctx context.Context) (*actas.Group, error) { return g.Store.GroupByName(ctx, tenantID, name) })
}

func (g *Guard) Groups(ctx context.Context, tenantID string) ([]*actas.Group, error) {
	return call(g, ctx, func(ctx context.Context) ([]*actas.Group, error) { return g.Store.Groups(ctx, tenantID) })
}

func (g *Guard) EnsureGroups(ctx context.Context, tenantID string, names []string, now time.Time) ([]*actas.Group, error) {
	return call(g, ctx, func(ctx context.Context) ([]*actas.Group, error) {
		return g.Store.EnsureGroups(ctx, tenantID, names, now)
	})
}

func (g *Guard) DeleteGroup(ctx context.Context, tenantID, id string, ev *actas.AuditEvent) error {
	return do(g, ctx, func(ctx context.Context) error { return g.Store.DeleteGroup(ctx, tenantID, id, ev) })
}

// UserAdminStore.

func (g *Guard) CreateUserAudited(ctx context.Context, u *actas.User, ev *actas.AuditEvent) error {
	return do(g, ctx, func(ctx context.Context) error { return g.Store.CreateUserAudited(ctx, u, ev) })
}

func (g *Guard) ChangeUser(ctx context.Context, tenantID, id string, fn func(*actas.User) (*actas.UserChange, error)) (*actas.User, []*actas.Session, error) {
	type pair struct {
		u  *actas.User
		ss []*actas.Session
	}
	p, err := call(g, ctx, func(ctx context.Context) (pair, error) {
		u, ss, err := g.Store.ChangeUser(ctx, tenantID, id, fn)
		return pair{u, ss}, err
	})
	return p.u, p.ss, err
}

func (g *Guard) SearchUsers(ctx context.Context, tenantID, prefix, after string, limit int) ([]*actas.User, error) {
	return call(g, ctx, func(ctx context.Context) ([]*actas.User, error) {
		return g.Store.SearchUsers(ctx, tenantID, prefix, after, limit)
	})
}
