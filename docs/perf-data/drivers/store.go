package drvbench

import "fmt"

// Session, RefreshToken and User hold the columns actas scans
// (internal/sqlrow), times as the stored Unix milliseconds (turning them
// into time.Time costs the same with every driver).
type Session struct {
	ID, TenantID, UserID                          string
	AuthTime, ExpiresAt, LastRefreshAt, RevokedAt int64
	RevokeReason, ClientIP, UserAgent             string
	Refreshable                                   bool
	RefreshGeneration, RotatedAt                  int64
	ImpersonatorID, ParentID, Reason              string
	CreatedAt                                     int64
}

type RefreshToken struct {
	Hash                  []byte
	SessionID             string
	Generation, CreatedAt int64
}

type User struct {
	ID, TenantID, Username, Email                                       string
	EmailVerified                                                       bool
	PasswordHash, Status                                                string
	MustChangePassword                                                  bool
	GroupsJSON                                                          string
	CreatedAt, UpdatedAt                                                int64
	FirstName, LastName, FriendlyName, Company, Country, Contact, Phone string
}

// The statements, as actas runs them (sqlite/sqlite.go, session.go,
// user.go, groupcommit.go).
const (
	sessionCols = `id, tenant_id, user_id, auth_time, expires_at, last_refresh_at, revoked_at, revoke_reason,
	client_ip, user_agent, refreshable, refresh_generation, rotated_at, impersonator_id, parent_id, reason,
	created_at`
	sessionColsS = `s.id, s.tenant_id, s.user_id, s.auth_time, s.expires_at, s.last_refresh_at, s.revoked_at,
	s.revoke_reason, s.client_ip, s.user_agent, s.refreshable, s.refresh_generation, s.rotated_at, s.impersonator_id,
	s.parent_id, s.reason, s.created_at`
	userCols = `id, tenant_id, username, email, email_verified, password_hash, status,
	must_change_password, groups_json, created_at, updated_at,
	first_name, last_name, friendly_name, company, country, contact, phone`

	qByRefresh = `SELECT t.hash, t.session_id, t.generation, t.created_at, ` + sessionColsS + `
	FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE t.hash = ?`
	qUser       = `SELECT ` + userCols + ` FROM users WHERE id = ? AND tenant_id = ?`
	qSelSession = `SELECT ` + sessionCols + ` FROM sessions WHERE id = ?`
	qUpdSession = `UPDATE sessions SET auth_time = ?, last_refresh_at = ?, revoked_at = ?, revoke_reason = ?,
			client_ip = ?, user_agent = ?, refreshable = ?, refresh_generation = ?, rotated_at = ?, reason = ?,
			created_at = ?
			WHERE id = ?`
	qInsToken  = `INSERT INTO refresh_tokens (hash, session_id, generation, created_at) VALUES (?, ?, ?, ?)`
	qRevoke    = `UPDATE sessions SET revoked_at = ?, revoke_reason = ? WHERE id = ?`
	qSavepoint = `SAVEPOINT group_member`
	qRelease   = `RELEASE group_member`
	qBegin     = `BEGIN IMMEDIATE`
	qCommit    = `COMMIT`
	qCkpt      = `PRAGMA wal_checkpoint(TRUNCATE)`
)

// Pragmas of actas's writer and readers (sqlite/sqlite.go).
var (
	writerPragmas = []string{"busy_timeout(5000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)",
		"wal_autocheckpoint(0)", "journal_size_limit(67108864)"}
	readerPragmas = []string{"busy_timeout(5000)", "query_only(1)"}
)

// Store is one driver's way of running the scenarios: one writer
// connection and one reader connection, statements prepared once.
type Store interface {
	// SessionByRefresh is scenario (a): the refresh token and its
	// session by the token's hash.
	SessionByRefresh(hash []byte, rt *RefreshToken, s *Session) error
	// User is scenario (b): a user by id and tenant.
	User(tenantID, id string, u *User) error
	// Rotate is scenario (c), UpdateSession on the refresh path: BEGIN
	// IMMEDIATE, read the session, update its unindexed columns, insert
	// the new refresh token, COMMIT (fsync, synchronous=FULL).
	Rotate(id string, rt *RefreshToken, now int64) error
	// RotateGroup is scenario (c) as group commit runs it under load:
	// one transaction, each member in a SAVEPOINT, one COMMIT.
	RotateGroup(ids []string, rts []RefreshToken, now int64) error
	// Revoke is scenario (d): one UPDATE of a session by id, its own
	// durable transaction.
	Revoke(id string, at int64, reason string) error
	// Checkpoint empties the WAL (between benchmarks).
	Checkpoint() error
	Close() error
}

// rotated is the change a refresh makes to a session.
func rotated(s *Session, now int64) {
	s.LastRefreshAt, s.RotatedAt = now, now
	s.RefreshGeneration++
}

var errNotFound = fmt.Errorf("not found")

// Driver names, in the order they are reported.
var Drivers = []string{"modernc-sql", "modernc-driverconn", "modernc-lib", "ncruces-sql", "ncruces-direct"}

// Open opens the store of driver name on the file at path.
func Open(name, path string) (Store, error) {
	switch name {
	case "modernc-sql":
		return openSQL("sqlite", path+"?_txlock=immediate&", path+"?", "&")
	case "ncruces-sql":
		return openSQL("sqlite3", "file:"+path+"?_txlock=immediate&", "file:"+path+"?", "&")
	case "modernc-driverconn":
		return openModerncDriver(path)
	case "modernc-lib":
		return openModerncLib(path)
	case "ncruces-direct":
		return openNcruces(path)
	}
	return nil, fmt.Errorf("unknown driver %q", name)
}
