package actas

import "time"

// Audit actions.
const (
	ActionSignIn        = "signin"
	ActionImpersonate   = "impersonate"
	ActionTokenExchange = "token_exchange"
	ActionExpire        = "expire"
	ActionRefreshReuse  = "refresh_reuse"
	// Operator actions from the command line (no actor user).
	ActionKeyWithdrawn    = "key_withdrawn"    // actas keys retire
	ActionSessionsRevoked = "sessions_revoked" // actas session revoke --all / --username
)

// Audit outcomes.
const (
	OutcomeAllowed = "allowed"
	OutcomeDenied  = "denied"
)

// AuditEvent is an append-only record. The service never updates or
// deletes one.
type AuditEvent struct {
	ID        int64 // assigned by the store
	Time      time.Time
	TenantID  string
	Action    string
	ActorID   string // sub of the user who acted
	Actor     string // username of the user who acted
	SubjectID string // sub of the user acted upon
	Subject   string // username acted upon (as requested, even if unknown)
	SessionID string // session created or affected
	ParentID  string // the actor's session, for impersonation
	APIKeyID  string
	IP        string
	UserAgent string
	Outcome   string
	Reason    string // the caller's stated reason
	Details   string // why it was denied, in words safe to show an operator
}

// AuditFilter selects audit events. Zero fields match everything.
type AuditFilter struct {
	TenantID string
	Action   string
	Since    time.Time
	AfterID  int64
	Limit    int // 0: no limit
	// GET /audit (SPEC §7): events with ID below BeforeID (0: any), of
	// this subject username (""): any), newest first when NewestFirst.
	BeforeID    int64
	Subject     string
	NewestFirst bool
}
