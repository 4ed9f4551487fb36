-- Initial PostgreSQL schema: the same tables and columns as the SQLite
-- schema, so that both backends keep identical semantics.
--
-- Times are BIGINT Unix milliseconds UTC, 0 for the zero time (as on
-- SQLite: the conformance suite compares to the millisecond, and
-- "revoked_at = 0" means the same thing on both backends). Booleans are
-- BOOLEAN; Groups and Settings are JSON text. Rows refer to each other by
-- foreign keys without cascades: the store deletes children explicitly.
--
-- Only portable DDL is used (no extensions, no triggers, no partial
-- indexes), so that the schema also applies to CockroachDB and
-- YugabyteDB; see docs/deployment.md for what was checked.

-- +goose Up
CREATE TABLE tenants (
    id           TEXT   NOT NULL PRIMARY KEY,
    name         TEXT   NOT NULL UNIQUE,
    user_pool_id TEXT   NOT NULL UNIQUE,
    client_id    TEXT   NOT NULL,
    endpoint_url TEXT   NOT NULL,
    settings     TEXT   NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id           TEXT   NOT NULL PRIMARY KEY,
    tenant_id    TEXT   NOT NULL REFERENCES tenants (id),
    name         TEXT   NOT NULL,
    hash         BYTEA  NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    revoked_at   BIGINT NOT NULL
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id);

-- username_key is actas.NormalizeUsername(username), computed in Go so that
-- case folding is the same on every database and every collation.
CREATE TABLE users (
    id                   TEXT    NOT NULL PRIMARY KEY,
    tenant_id            TEXT    NOT NULL REFERENCES tenants (id),
    username             TEXT    NOT NULL,
    username_key         TEXT    NOT NULL,
    email                TEXT    NOT NULL,
    email_verified       BOOLEAN NOT NULL,
    password_hash        TEXT    NOT NULL,
    status               TEXT    NOT NULL,
    must_change_password BOOLEAN NOT NULL,
    groups_json          TEXT    NOT NULL,
    created_at           BIGINT  NOT NULL,
    updated_at           BIGINT  NOT NULL,
    UNIQUE (tenant_id, username_key)
);

CREATE TABLE sessions (
    id                 TEXT    NOT NULL PRIMARY KEY,
    tenant_id          TEXT    NOT NULL REFERENCES tenants (id),
    user_id            TEXT    NOT NULL REFERENCES users (id),
    auth_time          BIGINT  NOT NULL,
    expires_at         BIGINT  NOT NULL,
    last_refresh_at    BIGINT  NOT NULL,
    revoked_at         BIGINT  NOT NULL,
    revoke_reason      TEXT    NOT NULL,
    client_ip          TEXT    NOT NULL,
    user_agent         TEXT    NOT NULL,
    refreshable        BOOLEAN NOT NULL,
    refresh_generation INTEGER NOT NULL,
    rotated_at         BIGINT  NOT NULL,
    impersonator_id    TEXT    NOT NULL,
    parent_id          TEXT    NOT NULL,
    reason             TEXT    NOT NULL,
    created_at         BIGINT  NOT NULL
);
CREATE INDEX sessions_user ON sessions (tenant_id, user_id);
CREATE INDEX sessions_impersonator ON sessions (tenant_id, impersonator_id);
CREATE INDEX sessions_parent ON sessions (parent_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE refresh_tokens (
    hash       BYTEA   NOT NULL PRIMARY KEY,
    session_id TEXT    NOT NULL REFERENCES sessions (id),
    generation INTEGER NOT NULL,
    created_at BIGINT  NOT NULL
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- Revocation sequence numbers come from this one-row counter, not from a
-- SEQUENCE: a sequence hands out numbers when rows are inserted, not when
-- they commit, so a follower reading "seq > cursor" could move past a row
-- that commits late and miss it for ever. Taking the next numbers with
-- UPDATE ... RETURNING locks the row until the transaction ends, so
-- revocations commit in seq order (and without gaps). The counter never
-- goes down, so a seq is never reused even after PurgeExpired.
CREATE TABLE revocation_seq (
    id   INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    last BIGINT  NOT NULL
);
INSERT INTO revocation_seq (id, last) VALUES (1, 0);

CREATE TABLE revocations (
    seq        BIGINT NOT NULL PRIMARY KEY,
    tenant_id  TEXT   NOT NULL,
    id         TEXT   NOT NULL,
    revoked_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX revocations_expires ON revocations (expires_at);

CREATE TABLE signing_keys (
    kid          TEXT   NOT NULL PRIMARY KEY,
    tenant_id    TEXT   NOT NULL REFERENCES tenants (id),
    key_use      TEXT   NOT NULL,
    alg          TEXT   NOT NULL,
    state        TEXT   NOT NULL,
    private_enc  BYTEA  NOT NULL,
    public_der   BYTEA  NOT NULL,
    created_at   BIGINT NOT NULL,
    activate_at  BIGINT NOT NULL,
    retire_until BIGINT NOT NULL
);
CREATE INDEX signing_keys_tenant ON signing_keys (tenant_id, created_at);

-- Audit events outlive users and sessions: no foreign keys. The id is an
-- identity column: unique and increasing in allocation order, but (unlike
-- revocation seqs) not committed in order; see docs/deployment.md.
CREATE TABLE audit_events (
    id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    occurred_at BIGINT NOT NULL,
    tenant_id   TEXT   NOT NULL,
    action      TEXT   NOT NULL,
    actor_id    TEXT   NOT NULL,
    actor       TEXT   NOT NULL,
    subject_id  TEXT   NOT NULL,
    subject     TEXT   NOT NULL,
    session_id  TEXT   NOT NULL,
    parent_id   TEXT   NOT NULL,
    api_key_id  TEXT   NOT NULL,
    ip          TEXT   NOT NULL,
    user_agent  TEXT   NOT NULL,
    outcome     TEXT   NOT NULL,
    reason      TEXT   NOT NULL,
    details     TEXT   NOT NULL
);
CREATE INDEX audit_events_tenant ON audit_events (tenant_id, id);

-- +goose Down
DROP TABLE audit_events;
DROP TABLE signing_keys;
DROP TABLE revocations;
DROP TABLE revocation_seq;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
DROP TABLE users;
DROP TABLE api_keys;
DROP TABLE tenants;
