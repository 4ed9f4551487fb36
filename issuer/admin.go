package issuer

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/token"
)

// This file holds the administrative operations behind the command line.

// CreateTenantRequest describes a new tenant.
type CreateTenantRequest struct {
	Name        string
	EndpointURL string
	Region      string // of the userPoolId; "local" if empty
	Settings    actas.TenantSettings
}

// CreateTenant creates a tenant with fresh ids, signing keys for ID and
// access tokens, and a first API key, whose secret it returns (shown
// once, never stored).
func (i *Issuer) CreateTenant(ctx context.Context, r CreateTenantRequest) (*actas.Tenant, string, error) {
	if !actas.ValidTenantName(r.Name) {
		return nil, "", actas.Errorf(actas.EINVALID, "invalid tenant name %q: use 1-63 letters, digits, '.', '_' or '-'", r.Name)
	}
	if r.EndpointURL != "" {
		if u, err := url.Parse(r.EndpointURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, "", actas.Errorf(actas.EINVALID, "invalid endpoint URL %q: want an absolute http(s) URL", r.EndpointURL)
		}
	}
	settings := r.Settings.WithDefaults()
	if err := settings.Validate(); err != nil {
		return nil, "", err
	}
	region := r.Region
	if region == "" {
		region = "local"
	}
	now := i.now()
	t := &actas.Tenant{
		ID:          actas.NewID(),
		Name:        r.Name,
		UserPoolID:  actas.NewUserPoolID(region),
		ClientID:    actas.NewClientID(),
		EndpointURL: r.EndpointURL,
		Settings:    settings,
		CreatedAt:   now,
	}
	if !actas.ValidUserPoolID(t.UserPoolID) {
		return nil, "", actas.Errorf(actas.EINVALID, "invalid region %q: use lowercase letters, digits and '-'", region)
	}
	var keys []*actas.SigningKey
	for _, use := range []string{actas.KeyUseID, actas.KeyUseAccess} {
		k, err := token.GenerateKey(i.sealer, t.ID, use, settings.SigningAlg, now)
		if err != nil {
			return nil, "", wrap("generate signing key", err)
		}
		keys = append(keys, k)
	}
	key, secret := newAPIKey(t.ID, "default", now)
	if err := i.store.CreateTenant(ctx, t, key, keys); err != nil {
		if errors.Is(err, actas.ErrConflict) {
			return nil, "", actas.Errorf(actas.ECONFLICT, "tenant %q already exists", r.Name)
		}
		return nil, "", wrap("create tenant", err)
	}
	return t, secret, nil
}

func newAPIKey(tenantID, name string, now time.Time) (*actas.APIKey, string) {
	id, secret := newAPIKeyString()
	return &actas.APIKey{ID: id, TenantID: tenantID, Name: name, Hash: hashSecret(secret), CreatedAt: now}, secret
}

// TenantByName returns a tenant, or a not-found error naming it.
func (i *Issuer) TenantByName(ctx context.Context, name string) (*actas.Tenant, error) {
	t, err := i.store.TenantByName(ctx, name)
	if errors.Is(err, actas.ErrNotFound) {
		return nil, actas.Errorf(actas.ENOTFOUND, "no tenant named %q", name)
	}
	if err != nil {
		return nil, wrap("find tenant", err)
	}
	t.Settings = t.Settings.WithDefaults()
	return t, nil
}

// SetTenant changes settings of a tenant: endpoint_url, or any key of
// actas.TenantSettings, given as KEY=VALUE.
func (i *Issuer) SetTenant(ctx context.Context, name string, set func(*actas.Tenant) error) (*actas.Tenant, error) {
	t, err := i.TenantByName(ctx, name)
	if err != nil {
		return nil, err
	}
	t, err = i.store.UpdateTenant(ctx, t.ID, func(t *actas.Tenant) error {
		t.Settings = t.Settings.WithDefaults()
		if err := set(t); err != nil {
			return err
		}
		return t.Settings.Validate()
	})
	if err != nil {
		return nil, wrap("update tenant", err)
	}
	i.cache.forget(t.ID)
	if err := i.ensureKeys(ctx, t); err != nil {
		return nil, err
	}
	return t, nil
}

// ensureKeys creates signing keys for the tenant's algorithm if it has
// none (after the algorithm was changed), and retires the keys of any
// other algorithm: they stay in JWKS until the tokens they signed have
// expired.
func (i *Issuer) ensureKeys(ctx context.Context, t *actas.Tenant) error {
	now := i.now()
	_, err := i.store.UpdateSigningKeys(ctx, t.ID, func(keys []*actas.SigningKey) ([]*actas.SigningKey, error) {
		for _, k := range keys {
			if k.Alg != t.Settings.SigningAlg && inService(k) {
				k.State = actas.KeyRetired
				k.RetireUntil = now.Add(actas.MaxAccessTTL)
			}
		}
		for _, use := range []string{actas.KeyUseID, actas.KeyUseAccess} {
			has := slices.ContainsFunc(keys, func(k *actas.SigningKey) bool {
				return k.Use == use && k.Alg == t.Settings.SigningAlg && inService(k)
			})
			if has {
				continue
			}
			k, err := token.GenerateKey(i.sealer, t.ID, use, t.Settings.SigningAlg, now)
			if err != nil {
				return nil, err
			}
			keys = append(keys, k)
		}
		return keys, nil
	})
	i.keys.forget(t.ID)
	return wrap("ensure signing keys", err)
}

// CreateAPIKey adds an API key to a tenant and returns its secret.
func (i *Issuer) CreateAPIKey(ctx context.Context, tenantName, label string) (*actas.APIKey, string, error) {
	t, err := i.TenantByName(ctx, tenantName)
	if err != nil {
		return nil, "", err
	}
	if len(label) > 128 {
		return nil, "", actas.Errorf(actas.EINVALID, "API key name is longer than 128 bytes")
	}
	k, secret := newAPIKey(t.ID, label, i.now())
	if err := i.store.CreateAPIKey(ctx, k); err != nil {
		return nil, "", wrap("create API key", err)
	}
	return k, secret, nil
}

// RevokeAPIKey revokes an API key by id; it stops working on this node at
// once and on others within the API key cache lifetime (2 s).
func (i *Issuer) RevokeAPIKey(ctx context.Context, id string) error {
	k, err := i.store.APIKey(ctx, id)
	if errors.Is(err, actas.ErrNotFound) {
		return actas.Errorf(actas.ENOTFOUND, "no API key with id %q", id)
	} else if err != nil {
		return wrap("revoke API key", err)
	}
	if err := i.store.RevokeAPIKey(ctx, id, i.now()); err != nil {
		return wrap("revoke API key", err)
	}
	i.cache.forget(k.TenantID)
	return nil
}

// CreateUserRequest describes a new user.
type CreateUserRequest struct {
	Tenant             string
	Username           string
	Password           string
	Email              string
	EmailVerified      bool
	Groups             []string
	MustChangePassword bool
	FirstName          string
	LastName           string
}

// CreateUser adds a user to a tenant.
func (i *Issuer) CreateUser(ctx context.Context, r CreateUserRequest) (*actas.User, error) {
	t, err := i.TenantByName(ctx, r.Tenant)
	if err != nil {
		return nil, err
	}
	username, err := actas.CanonicalUsername(r.Username)
	if err != nil {
		return nil, actas.Errorf(actas.EINVALID, "%s", err.Error())
	}
	if err := checkNewPassword(t, r.Username, r.Password); err != nil {
		return nil, err
	}
	if len(r.Email) > actas.MaxEmailLen {
		return nil, actas.Errorf(actas.EINVALID, "email is longer than %d bytes", actas.MaxEmailLen)
	}
	groups, err := checkGroups(r.Groups)
	if err != nil {
		return nil, err
	}
	if len(r.FirstName) > MaxFieldLen || len(r.LastName) > MaxFieldLen {
		return nil, actas.Errorf(actas.EINVALID, "first and last name must be at most %d bytes", MaxFieldLen)
	}
	if groups, err = i.EnsureGroupNames(ctx, t, groups); err != nil {
		return nil, err
	}
	hash, err := i.hashPassword(ctx, r.Password)
	if err != nil {
		return nil, err
	}
	now := i.now()
	u := &actas.User{
		ID: actas.NewID(), TenantID: t.ID, Username: username, Email: r.Email,
		EmailVerified: r.EmailVerified, PasswordHash: hash, Status: actas.UserActive,
		MustChangePassword: r.MustChangePassword, Groups: actas.NormalizeGroups(groups), CreatedAt: now, UpdatedAt: now,
		FirstName: r.FirstName, LastName: r.LastName,
	}
	if err := i.store.CreateUser(ctx, u); errors.Is(err, actas.ErrConflict) {
		return nil, actas.Errorf(actas.ECONFLICT, "tenant %q already has a user %q", r.Tenant, username)
	} else if err != nil {
		return nil, wrap("create user", err)
	}
	return u, nil
}

func checkGroups(groups []string) ([]string, error) {
	for _, g := range groups {
		if !actas.ValidGroupName(g) {
			return nil, actas.Errorf(actas.EINVALID, "invalid group name %q: use 1-%d printable characters", g, actas.MaxGroupLen)
		}
	}
	groups = actas.NormalizeGroups(groups)
	if len(groups) > actas.MaxGroups {
		return nil, actas.Errorf(actas.EINVALID, "a user may be in at most %d groups", actas.MaxGroups)
	}
	return groups, nil
}

// UserByName returns a user of a tenant by username.
func (i *Issuer) UserByName(ctx context.Context, tenant, username string) (*actas.Tenant, *actas.User, error) {
	t, err := i.TenantByName(ctx, tenant)
	if err != nil {
		return nil, nil, err
	}
	u, err := i.store.UserByUsername(ctx, t.ID, username)
	if errors.Is(err, actas.ErrNotFound) {
		return nil, nil, actas.Errorf(actas.ENOTFOUND, "tenant %q has no user %q", tenant, username)
	} else if err != nil {
		return nil, nil, wrap("find user", err)
	}
	return t, u, nil
}

// UpdateUser changes a user and applies what the change implies for its
// sessions: disabling a user, or changing its password, revokes all of its
// sessions and every impersonation it started; removing its impersonator
// group revokes the impersonations it started.
func (i *Issuer) UpdateUser(ctx context.Context, tenant, username string, change func(*actas.User) error) (*actas.User, error) {
	t, u, err := i.UserByName(ctx, tenant, username)
	if err != nil {
		return nil, err
	}
	before := *u
	u, err = i.store.UpdateUser(ctx, t.ID, u.ID, func(u *actas.User) error {
		if err := change(u); err != nil {
			return err
		}
		groups, err := checkGroups(u.Groups)
		if err != nil {
			return err
		}
		u.Groups = groups
		u.UpdatedAt = i.now()
		return nil
	})
	if err != nil {
		return nil, wrap("update user", err)
	}
	now := i.now()
	switch {
	case before.Active() && !u.Active():
		err = i.revokeUser(ctx, t.ID, u.ID, now, actas.ReasonUserDisabled)
	case before.PasswordHash != u.PasswordHash:
		err = i.revokeUser(ctx, t.ID, u.ID, now, actas.ReasonAdmin)
	case before.InGroup(actas.GroupImpersonator) && !u.InGroup(actas.GroupImpersonator):
		err = i.revokeSessions(ctx, actas.RevokeQuery{TenantID: t.ID, ImpersonatorID: u.ID}, now, actas.ReasonGroupRemoved)
	}
	return u, err
}

// SetPassword hashes and stores a new password; see UpdateUser.
func (i *Issuer) SetPassword(ctx context.Context, tenant, username, pw string) (*actas.User, error) {
	t, err := i.TenantByName(ctx, tenant)
	if err != nil {
		return nil, err
	}
	if err := checkNewPassword(t, username, pw); err != nil {
		return nil, err
	}
	hash, err := i.hashPassword(ctx, pw)
	if err != nil {
		return nil, err
	}
	return i.UpdateUser(ctx, tenant, username, func(u *actas.User) error {
		u.PasswordHash = hash
		u.MustChangePassword = false
		return nil
	})
}

func (i *Issuer) revokeUser(ctx context.Context, tenantID, userID string, now time.Time, reason string) error {
	if err := i.revokeSessions(ctx, actas.RevokeQuery{TenantID: tenantID, UserID: userID}, now, reason); err != nil {
		return err
	}
	return i.revokeSessions(ctx, actas.RevokeQuery{TenantID: tenantID, ImpersonatorID: userID}, now, reason)
}

// DeleteUser revokes a user's sessions and impersonations, then deletes it.
func (i *Issuer) DeleteUser(ctx context.Context, tenant, username string) error {
	t, u, err := i.UserByName(ctx, tenant, username)
	if err != nil {
		return err
	}
	if err := i.revokeUser(ctx, t.ID, u.ID, i.now(), actas.ReasonUserDeleted); err != nil {
		return err
	}
	return wrap("delete user", i.store.DeleteUser(ctx, t.ID, u.ID))
}

// RevokeSession revokes one session (and its impersonation sessions) by id.
func (i *Issuer) RevokeSession(ctx context.Context, id string) (*actas.Session, error) {
	s, err := i.store.Session(ctx, id)
	if errors.Is(err, actas.ErrNotFound) {
		return nil, actas.Errorf(actas.ENOTFOUND, "no session with id %q", id)
	} else if err != nil {
		return nil, wrap("revoke session", err)
	}
	if err := i.revokeSessions(ctx, actas.RevokeQuery{TenantID: s.TenantID, SessionID: id}, i.now(), actas.ReasonAdmin); err != nil {
		return nil, err
	}
	return i.store.Session(ctx, id)
}
