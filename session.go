package actas

import "time"

// Session is what one sign-in (or one impersonation) creates. Its ID is the
// origin_jti of every token it issues.
type Session struct {
	ID       string // UUID, the origin_jti
	TenantID string
	UserID   string // the subject of its tokens

	AuthTime      time.Time // when the credentials were checked
	ExpiresAt     time.Time // absolute: no token of this session outlives it
	LastRefreshAt time.Time // zero until the first refresh
	RevokedAt     time.Time // zero while not revoked
	RevokeReason  string

	ClientIP  string
	UserAgent string

	// Refresh state. Refreshable is false for impersonation sessions.
	Refreshable       bool
	RefreshGeneration int       // generation of the current refresh token
	RotatedAt         time.Time // when the current generation was issued

	// Impersonation: both set, or neither.
	ImpersonatorID string // the caller's sub
	ParentID       string // the caller's session
	Reason         string // the caller's stated reason

	CreatedAt time.Time
}

// Revoked reports whether the session has been revoked.
func (s *Session) Revoked() bool { return !s.RevokedAt.IsZero() }

// Impersonated reports whether this session was created by impersonation.
func (s *Session) Impersonated() bool { return s.ImpersonatorID != "" }

// RefreshToken is one issued refresh token, stored only as its hash. A
// session without rotation has one, generation 0; with rotation every
// refresh adds one.
type RefreshToken struct {
	Hash       []byte // SHA-256 of the opaque token
	SessionID  string
	Generation int
	CreatedAt  time.Time
}

// Revocation says that tokens whose jti or origin_jti equals ID must be
// refused until ExpiresAt, after which no such token can be valid anyway.
// Seq orders revocations so replicas and verifiers can follow them with a
// cursor.
type Revocation struct {
	Seq       int64
	TenantID  string
	ID        string // a session id (origin_jti) or a token id (jti)
	RevokedAt time.Time
	ExpiresAt time.Time
}

// Revocation reasons recorded on sessions.
const (
	ReasonLogout          = "logout"
	ReasonParentRevoked   = "parent_revoked"
	ReasonUserDisabled    = "user_disabled"
	ReasonUserDeleted     = "user_deleted"
	ReasonRefreshReuse    = "refresh_token_reuse"
	ReasonAdmin           = "admin"
	ReasonGroupRemoved    = "impersonator_group_removed"
	ReasonOAuthRevocation = "oauth_revoke"
	ReasonKeyWithdrawn    = "signing_key_withdrawn" // actas keys retire --revoke-sessions
)
