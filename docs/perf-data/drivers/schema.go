// Package drvbench compares SQLite drivers on the statements of actas's
// hot paths (sqlite/session.go, sqlite/user.go), on actas's schema.
//
// It is a module of its own (go.mod beside this file) so that neither
// driver enters actas's build. See README.md.
package drvbench

import (
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"fmt"
	"io"
	"os"

	_ "modernc.org/sqlite" // the seed is written through modernc
)

// Schema is the part of actas's schema the scenarios touch, copied from
// sqlite/migrations/00001_init.sql with 00004_users_groups.sql's users
// columns and indexes folded in.
const Schema = `
CREATE TABLE tenants (
    id           TEXT    NOT NULL PRIMARY KEY,
    name         TEXT    NOT NULL UNIQUE,
    user_pool_id TEXT    NOT NULL UNIQUE,
    client_id    TEXT    NOT NULL,
    endpoint_url TEXT    NOT NULL,
    settings     TEXT    NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE TABLE users (
    id                   TEXT    NOT NULL PRIMARY KEY,
    tenant_id            TEXT    NOT NULL REFERENCES tenants (id),
    username             TEXT    NOT NULL,
    username_key         TEXT    NOT NULL,
    email                TEXT    NOT NULL,
    email_verified       INTEGER NOT NULL,
    password_hash        TEXT    NOT NULL,
    status               TEXT    NOT NULL,
    must_change_password INTEGER NOT NULL,
    groups_json          TEXT    NOT NULL,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    first_name        TEXT NOT NULL DEFAULT '',
    last_name         TEXT NOT NULL DEFAULT '',
    friendly_name     TEXT NOT NULL DEFAULT '',
    company           TEXT NOT NULL DEFAULT '',
    country           TEXT NOT NULL DEFAULT '',
    contact           TEXT NOT NULL DEFAULT '',
    phone             TEXT NOT NULL DEFAULT '',
    email_key         TEXT NOT NULL DEFAULT '',
    first_name_key    TEXT NOT NULL DEFAULT '',
    last_name_key     TEXT NOT NULL DEFAULT '',
    friendly_name_key TEXT NOT NULL DEFAULT '',
    UNIQUE (tenant_id, username_key)
);
CREATE INDEX users_email_key ON users (tenant_id, email_key);
CREATE INDEX users_first_name_key ON users (tenant_id, first_name_key);
CREATE INDEX users_last_name_key ON users (tenant_id, last_name_key);
CREATE INDEX users_friendly_name_key ON users (tenant_id, friendly_name_key);
CREATE TABLE sessions (
    id                 TEXT    NOT NULL PRIMARY KEY,
    tenant_id          TEXT    NOT NULL REFERENCES tenants (id),
    user_id            TEXT    NOT NULL REFERENCES users (id),
    auth_time          INTEGER NOT NULL,
    expires_at         INTEGER NOT NULL,
    last_refresh_at    INTEGER NOT NULL,
    revoked_at         INTEGER NOT NULL,
    revoke_reason      TEXT    NOT NULL,
    client_ip          TEXT    NOT NULL,
    user_agent         TEXT    NOT NULL,
    refreshable        INTEGER NOT NULL,
    refresh_generation INTEGER NOT NULL,
    rotated_at         INTEGER NOT NULL,
    impersonator_id    TEXT    NOT NULL,
    parent_id          TEXT    NOT NULL,
    reason             TEXT    NOT NULL,
    created_at         INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (tenant_id, user_id);
CREATE INDEX sessions_impersonator ON sessions (tenant_id, impersonator_id);
CREATE INDEX sessions_parent ON sessions (parent_id);
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE TABLE refresh_tokens (
    hash       BLOB    NOT NULL PRIMARY KEY,
    session_id TEXT    NOT NULL REFERENCES sessions (id),
    generation INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);
`

// Sizes of the seed.
const (
	NumUsers    = 1000
	NumSessions = 10000
	TenantID    = "t-0000000000000000000001"
)

// SessionID, UserID and SeedHash name the seed's rows.
func SessionID(i int) string { return fmt.Sprintf("s-%022d", i%NumSessions) }
func UserID(i int) string    { return fmt.Sprintf("u-%022d", i%NumUsers) }
func SeedHash(i int) []byte  { return Hash("seed", int64(i%NumSessions)) }

// Hash returns a refresh-token hash (32 bytes, like actas's SHA-256).
func Hash(tag string, n int64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(n))
	h := sha256.Sum256(append([]byte(tag), b[:]...))
	return h[:]
}

const t0 = int64(1_790_000_000_000) // Unix ms

// Seed writes a database with the schema and NumUsers users, NumSessions
// sessions with one refresh token each, at path, and closes it (so the
// file is complete without its WAL).
func Seed(path string) error {
	db, err := sql.Open("sqlite", path+"?_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)")
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Exec(Schema); err != nil {
		return err
	}
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`INSERT INTO tenants VALUES (?, 'acme', 'eu-west-1_abcdef', 'client', 'https://auth.example.com', '{}', ?)`,
		TenantID, t0); err != nil {
		return err
	}
	for i := range NumUsers {
		if _, err := tx.Exec(`INSERT INTO users (id, tenant_id, username, username_key, email, email_verified, password_hash,
			status, must_change_password, groups_json, created_at, updated_at, first_name, last_name, friendly_name,
			company, country, contact, phone, email_key) VALUES (?, ?, ?, ?, ?, 1, ?, 'CONFIRMED', 0, '["admins","staff"]', ?, ?,
			'Ada', 'Lovelace', 'ada', 'Analytical Engines Ltd', 'GB', 'ada@example.com', '+44 20 7946 0000', ?)`,
			UserID(i), TenantID, fmt.Sprintf("user%d", i), fmt.Sprintf("user%d", i), fmt.Sprintf("user%d@example.com", i),
			"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
			t0, t0, fmt.Sprintf("user%d@example.com", i)); err != nil {
			return err
		}
	}
	for i := range NumSessions {
		if _, err := tx.Exec(`INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, 0, '', '203.0.113.7',
			'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
			1, 1, ?, '', '', '', ?)`,
			SessionID(i), TenantID, UserID(i), t0, t0+30*86400_000, t0, t0, t0); err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO refresh_tokens VALUES (?, ?, 1, ?)`, SeedHash(i), SessionID(i), t0); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// CopyFile copies the seed to a driver's own file.
func CopyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
