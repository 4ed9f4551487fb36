package actas

import (
	"context"
	"time"
)

// Store is the persistence interface every backend (sqlite, postgres)
// implements and the conformance suite in package storetest checks.
//
// Contract for every method:
//   - ctx comes first and bounds the call.
//   - A missing record is an error wrapping ErrNotFound; a unique-key clash
//     wraps ErrConflict; an unreachable database wraps ErrUnavailable.
//   - Every method that writes commits before it returns nil: a caller may
//     acknowledge the change to a client as soon as the call returns.
//   - Methods documented as atomic apply all of their writes or none.
//   - Returned values are copies; mutating them changes nothing stored.
//   - Times are stored with at least millisecond precision, in UTC.
type Store interface {
	WriteProber         // probe.go
	ClientStore         // OAuth clients (oauthclient.go)
	AuthCodeStore       // authorization codes and their grants
	BrowserSessionStore // browser-session cookies
	TenantChangeStore   // tenantchange.go
	GroupStore          // group.go
	UserAdminStore      // group.go
	TenantStore
	APIKeyStore
	UserStore
	SessionStore
	RevocationStore
	SigningKeyStore
	AuditStore

	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	Close() error
}

// The storage roles Store is made of, one per kind of record, in the way
// of fosite's storage interfaces: a consumer that needs one asks for that
// one, and a fake of it is a few lines. The contract on Store holds for
// every method of every role. A new kind of record (groups, OAuth clients,
// authorization codes, browser sessions) is a new role in its own file,
// embedded in Store with one line.

// TenantStore holds tenants, and the version of the configuration
// servers cache (tenants, API keys, signing keys).
type TenantStore interface {
	// CreateTenant stores a tenant together with its first API key and
	// its first signing keys, atomically.
	CreateTenant(ctx context.Context, t *Tenant, key *APIKey, keys []*SigningKey) error
	Tenant(ctx context.Context, id string) (*Tenant, error)
	TenantByName(ctx context.Context, name string) (*Tenant, error)
	// TenantByPoolID returns the tenant with this userPoolId together with
	// its signing keys in every state, oldest first, without their private
	// halves (PrivateEnc nil), as one read: what a tenant's public
	// endpoints need before anything else.
	TenantByPoolID(ctx context.Context, poolID string) (*Tenant, []*SigningKey, error)
	Tenants(ctx context.Context) ([]*Tenant, error)
	// UpdateTenant reads, modifies and writes a tenant atomically. If fn
	// returns an error nothing is written and that error is returned.
	UpdateTenant(ctx context.Context, id string, fn func(*Tenant) error) (*Tenant, error)

	// ConfigVersion returns a number that changes, in the same transaction,
	// with every change to tenants, API keys (except TouchAPIKey) and
	// signing keys, and with nothing else. Servers cache those and check
	// this one number per request.
	ConfigVersion(ctx context.Context) (int64, error)
}

// APIKeyStore holds tenants' API keys.
type APIKeyStore interface {
	CreateAPIKey(ctx context.Context, k *APIKey) error
	APIKey(ctx context.Context, id string) (*APIKey, error)
	APIKeys(ctx context.Context, tenantID string) ([]*APIKey, error)
	// RevokeAPIKey marks a key revoked at the given time. Revoking a
	// revoked key changes nothing and is not an error.
	RevokeAPIKey(ctx context.Context, id string, at time.Time) error
	// TouchAPIKey records that the key was used at the given time.
	TouchAPIKey(ctx context.Context, id string, at time.Time) error
}

// UserStore holds a tenant's users.
type UserStore interface {
	// CreateUser fails with ErrConflict if the tenant already has a user
	// with the same username compared case-insensitively.
	CreateUser(ctx context.Context, u *User) error
	User(ctx context.Context, tenantID, id string) (*User, error)
	// UserByUsername looks a user up case-insensitively.
	UserByUsername(ctx context.Context, tenantID, username string) (*User, error)
	Users(ctx context.Context, tenantID string) ([]*User, error)
	// UpdateUser reads, modifies and writes a user atomically; see
	// UpdateTenant. The username cannot be changed.
	UpdateUser(ctx context.Context, tenantID, id string, fn func(*User) error) (*User, error)
	// DeleteUser removes a user. Its sessions must have been revoked first
	// by the caller; the store deletes them with the user.
	DeleteUser(ctx context.Context, tenantID, id string) error
}

// SessionStore holds sessions and their refresh tokens.
type SessionStore interface {
	// CreateSession stores a session, its first refresh token (nil for a
	// session that cannot be refreshed) and an audit event describing it
	// (nil for none), atomically: there is never a session without its
	// audit record. If s.ParentID is set, the parent must exist and be
	// unrevoked when the transaction commits, else nothing is written and
	// the error wraps ErrParentRevoked: a child can never outlive a
	// revocation of its parent that raced with its creation.
	CreateSession(ctx context.Context, s *Session, rt *RefreshToken, ev *AuditEvent) error
	Session(ctx context.Context, id string) (*Session, error)
	// SessionByRefreshToken finds the refresh token with this hash, in any
	// generation, and its session.
	SessionByRefreshToken(ctx context.Context, hash []byte) (*Session, *RefreshToken, error)
	// RefreshLookup is SessionByRefreshToken that also returns the
	// session's user, read with them in one query: the read of a
	// refresh. ErrNotFound if any of the three is missing.
	RefreshLookup(ctx context.Context, hash []byte) (*Session, *RefreshToken, *User, error)
	Sessions(ctx context.Context, f SessionFilter) ([]*Session, error)
	// UpdateSession reads, modifies and writes a session atomically, and
	// stores the refresh token fn returns, if any, in the same
	// transaction. Concurrent updaters of one session are serialised: each
	// fn sees the session as the previous one left it. If fn returns an
	// error nothing is written and that error is returned.
	UpdateSession(ctx context.Context, id string, fn func(*Session) (*RefreshToken, error)) (*Session, error)
	// AdvanceSession is the write of a refresh's common case, a
	// compare-and-set in one statement where UpdateSession reads, calls
	// back and writes. If, when the write runs, session id is unrevoked,
	// refreshable, expires after at and is at refresh generation gen, it
	// sets LastRefreshAt to at and, with next (which must be of generation
	// gen+1), rotates: RefreshGeneration becomes next.Generation,
	// RotatedAt at, and next is stored, atomically and durably. It
	// reports whether it wrote; false (nothing written, no error) for a
	// session that is not so or does not exist.
	AdvanceSession(ctx context.Context, id string, gen int, at time.Time, next *RefreshToken) (bool, error)
	// RevokeSessions revokes, atomically, every unrevoked session matching
	// q and every unrevoked session descending from one of them (through
	// ParentID), and appends a Revocation for each. It returns the
	// sessions it revoked (none if all were already revoked).
	RevokeSessions(ctx context.Context, q RevokeQuery, at time.Time, reason string) ([]*Session, error)

	// PurgeExpired deletes sessions (with their refresh tokens) and
	// revocations whose ExpiresAt is before now. Audit events are kept.
	// It returns how many sessions and revocations it deleted.
	PurgeExpired(ctx context.Context, now time.Time) (sessions, revocations int, err error)
}

// RevocationStore holds the revocations of single tokens and the feed of
// every revocation (RevokeSessions appends to it too).
type RevocationStore interface {
	// RevokeToken appends a Revocation for a single token id (jti).
	RevokeToken(ctx context.Context, r *Revocation) error
	// Revocations returns, in Seq order, up to limit revocations with Seq
	// greater than after that have not expired at now.
	Revocations(ctx context.Context, after int64, now time.Time, limit int) ([]*Revocation, error)
}

// SigningKeyStore holds tenants' signing keys, sealed.
type SigningKeyStore interface {
	CreateSigningKey(ctx context.Context, k *SigningKey) error
	// SigningKeys returns a tenant's keys in every state, oldest first.
	SigningKeys(ctx context.Context, tenantID string) ([]*SigningKey, error)
	// UpdateSigningKeys reads, modifies and writes all of a tenant's keys
	// atomically (rotation changes several at once). Keys fn appends are
	// created.
	UpdateSigningKeys(ctx context.Context, tenantID string, fn func([]*SigningKey) ([]*SigningKey, error)) ([]*SigningKey, error)
}

// AuditStore holds the audit log.
type AuditStore interface {
	AppendAudit(ctx context.Context, ev *AuditEvent) error
	// AuditEvents returns matching events in ID order.
	AuditEvents(ctx context.Context, f AuditFilter) ([]*AuditEvent, error)
}

// SessionFilter selects sessions. Empty fields match everything;
// TenantID is required.
type SessionFilter struct {
	TenantID string
	UserID   string
	ActiveAt time.Time // if set, only sessions unrevoked and unexpired at this time
	Limit    int       // 0: no limit
}

// RevokeQuery selects the sessions to revoke. TenantID is required and at
// least one other field must be set; set fields must all match.
type RevokeQuery struct {
	TenantID       string
	SessionID      string
	UserID         string // sessions of this user
	ImpersonatorID string // impersonation sessions started by this user
	// All matches every session of the tenant (a mass logout, or a
	// signing key compromise). It must be set explicitly so that a query
	// with its other fields left empty by mistake never revokes a whole
	// tenant. Every descendant of a tenant's session is in the tenant,
	// so no cascade is needed beyond the tenant's own sessions.
	All bool
}
