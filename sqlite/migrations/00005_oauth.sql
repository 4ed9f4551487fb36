-- Browser sign-in (SPEC §9): OAuth clients, authorization codes,
-- browser-session cookies and the grants of code exchanges. Times are
-- INTEGER Unix milliseconds as everywhere. Unlike the initial schema,
-- the rows that hang off a session are deleted with it (ON DELETE
-- CASCADE): PurgeExpired and DeleteUser delete sessions without knowing
-- these tables, and a code, cookie or grant of a gone session means
-- nothing.

-- +goose Up
CREATE TABLE oauth_clients (
    id                        TEXT    NOT NULL PRIMARY KEY,
    tenant_id                 TEXT    NOT NULL REFERENCES tenants (id),
    name                      TEXT    NOT NULL,
    secret_hash               BLOB    NOT NULL,
    redirect_uris             TEXT    NOT NULL,
    post_logout_redirect_uris TEXT    NOT NULL,
    is_public                 INTEGER NOT NULL,
    created_at                INTEGER NOT NULL
);
CREATE INDEX oauth_clients_tenant ON oauth_clients (tenant_id);

CREATE TABLE oauth_codes (
    hash           BLOB    NOT NULL PRIMARY KEY,
    tenant_id      TEXT    NOT NULL REFERENCES tenants (id),
    client_id      TEXT    NOT NULL,
    redirect_uri   TEXT    NOT NULL,
    code_challenge TEXT    NOT NULL,
    nonce          TEXT    NOT NULL,
    scope          TEXT    NOT NULL,
    parent_id      TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    user_id        TEXT    NOT NULL,
    auth_time      INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    used_at        INTEGER NOT NULL,
    session_id     TEXT    NOT NULL,
    created_at     INTEGER NOT NULL
);
CREATE INDEX oauth_codes_parent ON oauth_codes (parent_id);

CREATE TABLE browser_sessions (
    hash       BLOB    NOT NULL PRIMARY KEY,
    tenant_id  TEXT    NOT NULL REFERENCES tenants (id),
    session_id TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL
);
CREATE INDEX browser_sessions_session ON browser_sessions (session_id);

CREATE TABLE oauth_grants (
    session_id TEXT    NOT NULL PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    tenant_id  TEXT    NOT NULL REFERENCES tenants (id),
    client_id  TEXT    NOT NULL,
    scope      TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE oauth_grants;
DROP TABLE browser_sessions;
DROP TABLE oauth_codes;
DROP TABLE oauth_clients;
