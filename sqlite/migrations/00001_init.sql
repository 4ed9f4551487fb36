-- Initial schema. Times are INTEGER Unix milliseconds UTC, 0 for the zero
-- time; booleans are 0/1; Groups and Settings are JSON text. Rows refer to
-- each other by foreign keys without cascades: the store deletes children
-- explicitly, so nothing disappears that the code does not name.

-- +goose Up
CREATE TABLE tenants (
    id           TEXT    NOT NULL PRIMARY KEY,
    name         TEXT    NOT NULL UNIQUE,
    user_pool_id TEXT    NOT NULL UNIQUE,
    client_id    TEXT    NOT NULL,
    endpoint_url TEXT    NOT NULL,
    settings     TEXT    NOT NULL,
    created_at   INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id           TEXT    NOT NULL PRIMARY KEY,
    tenant_id    TEXT    NOT NULL REFERENCES tenants (id),
    name         TEXT    NOT NULL,
    hash         BLOB    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    revoked_at   INTEGER NOT NULL
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id);

-- username_key is actas.NormalizeUsername(username), computed in Go so that
-- case folding is the same on every database (SQLite's NOCASE and lower()
-- fold ASCII only).
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
    UNIQUE (tenant_id, username_key)
);

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

-- AUTOINCREMENT: a seq is never reused, even after PurgeExpired deleted
-- the newest rows, so a follower's cursor never skips a revocation.
CREATE TABLE revocations (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id  TEXT    NOT NULL,
    id         TEXT    NOT NULL,
    revoked_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX revocations_expires ON revocations (expires_at);

CREATE TABLE signing_keys (
    kid          TEXT    NOT NULL PRIMARY KEY,
    tenant_id    TEXT    NOT NULL REFERENCES tenants (id),
    key_use      TEXT    NOT NULL,
    alg          TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    private_enc  BLOB    NOT NULL,
    public_der   BLOB    NOT NULL,
    created_at   INTEGER NOT NULL,
    activate_at  INTEGER NOT NULL,
    retire_until INTEGER NOT NULL
);
CREATE INDEX signing_keys_tenant ON signing_keys (tenant_id, created_at);

-- Audit events outlive users and sessions: no foreign keys.
CREATE TABLE audit_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    occurred_at INTEGER NOT NULL,
    tenant_id   TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    actor_id    TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    subject_id  TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    session_id  TEXT    NOT NULL,
    parent_id   TEXT    NOT NULL,
    api_key_id  TEXT    NOT NULL,
    ip          TEXT    NOT NULL,
    user_agent  TEXT    NOT NULL,
    outcome     TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    details     TEXT    NOT NULL
);
CREATE INDEX audit_events_tenant ON audit_events (tenant_id, id);

-- +goose Down
DROP TABLE audit_events;
DROP TABLE signing_keys;
DROP TABLE revocations;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
DROP TABLE users;
DROP TABLE api_keys;
DROP TABLE tenants;
