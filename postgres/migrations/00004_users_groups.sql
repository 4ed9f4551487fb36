-- Users and groups over HTTP (SPEC §7): group records, profile fields,
-- and the folded columns that search reads by index. See the SQLite
-- migration of the same number for the rules; portable DDL only.
-- Prefix search compares bytes: the key indexes use COLLATE "C".

-- +goose Up
CREATE TABLE groups (
    id         TEXT   NOT NULL PRIMARY KEY,
    tenant_id  TEXT   NOT NULL REFERENCES tenants (id),
    name       TEXT   NOT NULL,
    name_key   TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (tenant_id, name_key)
);

INSERT INTO groups (id, tenant_id, name, name_key, created_at)
SELECT gen_random_uuid()::text, tenant_id, name, lower(name), (extract(epoch FROM now()) * 1000)::bigint
FROM (SELECT t.id AS tenant_id, d.name AS name FROM tenants t, (VALUES ('admin'), ('impersonator')) AS d (name)
      UNION
      SELECT DISTINCT u.tenant_id, j.value FROM users u, json_array_elements_text(u.groups_json::json) AS j (value)) AS all_names
ON CONFLICT DO NOTHING;

ALTER TABLE users ADD COLUMN first_name        TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN last_name         TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN friendly_name     TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN company           TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN country           TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN contact           TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN phone             TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN email_key         TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN first_name_key    TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN last_name_key     TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN friendly_name_key TEXT NOT NULL DEFAULT '';
UPDATE users SET email_key = lower(email);

CREATE INDEX users_username_key_c ON users (tenant_id, username_key COLLATE "C");
CREATE INDEX users_email_key ON users (tenant_id, email_key COLLATE "C");
CREATE INDEX users_first_name_key ON users (tenant_id, first_name_key COLLATE "C");
CREATE INDEX users_last_name_key ON users (tenant_id, last_name_key COLLATE "C");
CREATE INDEX users_friendly_name_key ON users (tenant_id, friendly_name_key COLLATE "C");

-- +goose Down
DROP INDEX users_friendly_name_key;
DROP INDEX users_last_name_key;
DROP INDEX users_first_name_key;
DROP INDEX users_email_key;
DROP INDEX users_username_key_c;
ALTER TABLE users DROP COLUMN friendly_name_key, DROP COLUMN last_name_key, DROP COLUMN first_name_key,
    DROP COLUMN email_key, DROP COLUMN phone, DROP COLUMN contact, DROP COLUMN country, DROP COLUMN company,
    DROP COLUMN friendly_name, DROP COLUMN last_name, DROP COLUMN first_name;
DROP TABLE groups;
