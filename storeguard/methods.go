package storeguard

import (
	"context"
	"time"

	"github.com/actas-dev/actas"
)

// The guarded methods of actas.Store, each the store's own under call or
// do (those of the roles it embeds are in rolemethods.go). Every method
// of actas.Store is declared on *Guard, none left to promotion from the
// embedded store: a method the Store gains fails
// TestGuardDeclaresEveryStoreMethod, and one whose signature changes
// fails to compile, instead of passing through unguarded.
// The deliberate exceptions, declared as plain pass-throughs or with
// their own handling, are listed with their reasons in unguarded
// (guard_methods_test.go): PurgeExpired and Close.

var _ actas.Store = (*Guard)(nil)

func (g *Guard) ProbeWrite(ctx context.Context, at time.Time) error {
	return do(g, ctx, func(ctx context.Context) error { return g.Store.ProbeWrite(ctx, at) })
}

func (g *Guard) CreateTenant(ctx context.Context, t *actas.Tenant, key *actas.APIKey, keys []*actas.SigningKey) error {
	return do(g, ctx, func(ctx context.Context) error { return g.Store.CreateTenant(ctx, t, key, keys) })
}

func (g *Guard) Tenant(ctx context.Context, id string) (*actas.Tenant, error) {
	return call(g, ctx, func(ctx context.Context) (*actas.Tenant, error) { return g.Store.Tenant(ctx, id) })
}

func (g *Guard) TenantByName(ctx context.Context, name string) (*actas.Tenant, error) {
	return call(g, ctx, func(ctx context.Context) (*actas.Tenant, error) { return g.Store.TenantByName(ctx, name) })
}

func (g *Guard) TenantByPoolID(ctx context.Context, poolID string) (*actas.Tenant, []*actas.SigningKey, error) {
	type tenantKeys struct {
		t    *actas.Tenant
		keys []*actas.SigningKey
	}
	r, err := call(g, ctx, func(ctx context.Context) (tenantKeys, error) {
		t, keys, err := g.Store.TenantByPoolID(ctx, poolID)
		return tenantKeys{t, keys}, err
	})
	return r.t, r.keys, err
}

func (g *Guard) Tenants(ctx context.Context) ([]*actas.Tenant, error) {
	return call(g, ctx, func(ctx context.Context) ([]*actas.Tenant, error) { return g.Store.Tenants(ctx) })
}

func (g *Guard) UpdateTenant(ctx context.Context, id string, fn func(*actas.Tenant) error) (*actas.Tenant, error) {
	return call(g, ctx, func(ctx context.Context) (*actas.Tenant, error) { return g.Store.UpdateTenant(ctx, id, fn) })
}

func (g *Guard) CreateAPIKey(ctx context.Context, k *actas.APIKey) error {
	return do(g, ctx, func(ctx context.Context) error { return g.Store.CreateAPIKey(ctx, k) })
}

func (g *Guard) APIKey(ctx context.Context, id string) (*actas.APIKey, error) {
	return call(g, ctx, func(ctx context.Context) (*actas.APIKey, error) { return g.Store.APIKey(ctx, id) })
}

func (g *Guard) APIKeys(ctx context.Context, tenantID string) ([]*actas.APIKey, error) {
	return call(g, ctx, func(ctx context.Context) ([]*actas.APIKey, error) { return g.Store.APIKeys(ctx, tenantID) })
}

func (g *Guard) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	return do(g, ctx, func(ctx context.Context) error { return g.Store.RevokeAPIKey(ctx, id, at) })
}

func (g *Guard) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	return do(g, ctx, func(ctx context.Context) error { return g.Store.TouchAPIKey(ctx, id, at) })
}

func (g *Guard) CreateUser(ctx context.Context, u *actas.User) error {
	return do(g, ctx, func(ctx context.Context) error { return g.Store.CreateUser(ctx, u) })
}

func (g *Guard) User(ctx context.Context, tenantID, id string) (*actas.User, error) {
	return call(g, ctx, func(ctx context.Context) (*actas.User, error) { return g.Store.User(ctx, tenantID, id) })
}

func (g *Guard) UserByUsername(ctx context.Context, tenantID, username string) (*actas.User, error) {
	return call(g, ctx, func(ctx context.Context) (*actas.User, error) { return g.Store.UserByUsername(ctx, tenantID, username) })
}

func (g *Guard) Users(ctx context.Context, tenantID string) ([]*actas.User, error) {
	return call(g, ctx, func(ctx context.Context) ([]*actas.User, error) { return g.Store.Users(ctx, tenantID) })
}

func (g *Guard) UpdateUser(ctx context.Context, tenantID, id string, fn func(*actas.User) error) (*actas.User, error) {
	return call(g, ctx, func(ctx context.Context) (*actas.User, error) { return g.Store.UpdateUser(ctx, tenantID, id, fn) })
}

func (g *Guard) DeleteUser(ctx context.Context, tenantID, id string) error {
	return do(g, ctx, func(ctx context.Context) error { return g.Store.DeleteUser(ctx, tenantID, id) })
}

func (g *Guard) CreateSession(ctx context.Context, s *actas.Session, rt *actas.RefreshToken, ev *actas.AuditEvent) error {
	return do(g, ctx, func(ctx context.Context) error { return g.Store.CreateSession(ctx, s, rt, ev) })
}

func (g *Guard) Session(ctx context.Context, id string) (*actas.Session, error) {
	return call(g, ctx, func(ctx context.Context) (*actas.Session, error) { return g.Store.Session(ctx, id) })
}

func (g *Guard) SessionByRefreshToken(ctx context.Context, hash []byte) (*actas.Session, *actas.RefreshToken, error) {
	type pair struct {
		s  *actas.Session
		rt *actas.RefreshToken
	}
	p, err := call(g, ctx, func(ctx context.Context) (pair, error) {
		s, rt, err := g.Store.SessionByRefreshToken(ctx, hash)
		return pair{s, rt}, err
	})
	return p.s, p.rt, err
}

func (g *Guard) RefreshLookup(ctx context.Context, hash []byte) (*actas.Session, *actas.RefreshToken, *actas.User, error) {
	type triple struct {
		s  *actas.Session
		rt *actas.RefreshToken
		u  *actas.User
	}
	t, err := call(g, ctx, func(ctx context.Context) (triple, error) {
		s, rt, u, err := g.Store.RefreshLookup(ctx, hash)
		return triple{s, rt, u}, err
	})
	return t.s, t.rt, t.u, err
}

func (g *Guard) Sessions(ctx context.Context, f actas.SessionFilter) ([]*actas.Session, error) {
	return call(g, ctx, func(ctx context.Context) ([]*actas.Session, error) { return g.Store.Sessions(ctx, f) })
}

func (g *Guard) UpdateSession(ctx context.Context, id string, fn func(*actas.Session) (*actas.RefreshToken, error)) (*actas.Session, error) {
	return call(g, ctx, func(ctx context.Context) (*actas.Session, error) { return g.Store.UpdateSession(ctx, id, fn) })
}

func (g *Guard) AdvanceSession(ctx context.Context, id string, gen int, at time.Time, next *actas.RefreshToken) (bool, error) {
	return call(g, ctx, func(ctx context.Context) (bool, error) { return g.Store.AdvanceSession(ctx, id, gen, at, next) })
}

func (g *Guard) RevokeSessions(ctx context.Context, q actas.RevokeQuery, at time.Time, reason string) ([]*actas.Session, error) {
	return call(g, ctx, func(ctx context.Context) ([]*actas.Session, error) { return g.Store.RevokeSessions(ctx, q, at, reason) })
}

func (g *Guard) RevokeToken(ctx context.Context, r *actas.Revocation) error {
	return do(g, ctx, func(ctx context.Context) error { return g.Store.RevokeToken(ctx, r) })
}

func (g *Guard) Revocations(ctx context.Context, after int64, now time.Time, limit int) ([]*actas.Revocation, error) {
	return call(g, ctx, func(ctx context.Context) ([]*actas.Revocation, error) {
		return g.Store.Revocations(ctx, after, now, limit)
	})
}

func (g *Guard) CreateSigningKey(ctx context.Context, k *actas.SigningKey) error {
	return do(g, ctx, func(ctx context.Context) error { return g.Store.CreateSigningKey(ctx, k) })
}

func (g *Guard) SigningKeys(ctx context.Context, tenantID string) ([]*actas.SigningKey, error) {
	return call(g, ctx, func(ctx context.Context) ([]*actas.SigningKey, error) { return g.Store.SigningKeys(ctx, tenantID) })
}

func (g *Guard) UpdateSigningKeys(ctx context.Context, tenantID string, fn func([]*actas.SigningKey) ([]*actas.SigningKey, error)) ([]*actas.SigningKey, error) {
	return call(g, ctx, func(ctx context.Context) ([]*actas.SigningKey, error) {
		return g.Store.UpdateSigningKeys(ctx, tenantID, fn)
	})
}

func (g *Guard) AppendAudit(ctx context.Context, ev *actas.AuditEvent) error {
	return do(g, ctx, func(ctx context.Context) error { return g.Store.AppendAudit(ctx, ev) })
}

func (g *Guard) AuditEvents(ctx context.Context, f actas.AuditFilter) ([]*actas.AuditEvent, error) {
	return call(g, ctx, func(ctx context.Context) ([]*actas.AuditEvent, error) { return g.Store.AuditEvents(ctx, f) })
}

// PurgeExpired is left to the store's own bound, not under call: it is
// background work that may take long on a big table, and never on a
// request path.
func (g *Guard) PurgeExpired(ctx context.Context, now time.Time) (sessions, revocations int, err error) {
	return g.Store.PurgeExpired(ctx, now)
}

func (g *Guard) ConfigVersion(ctx context.Context) (int64, error) {
	return call(g, ctx, func(ctx context.Context) (int64, error) { return g.Store.ConfigVersion(ctx) })
}

func (g *Guard) Ping(ctx context.Context) error {
	return do(g, ctx, func(ctx context.Context) error { return g.Store.Ping(ctx) })
}
