-- Users and groups over HTTP (SPEC §7): group records, profile fields,
-- and the folded columns that search reads by index.
--
-- groups.name_key is actas.GroupKey(name) and the users' *_key columns are
-- strings.ToLower of their field, computed in Go (SQLite's lower() folds
-- ASCII only). Users keep their group names in groups_json (tokens carry
-- names); this migration creates a record for every name a user holds and
-- for admin and impersonator in every tenant. A name held in two spellings
-- within one tenant ("Ops" and "ops") gets one record, the first seen.

-- +goose Up
CREATE TABLE groups (
    id         TEXT    NOT NULL PRIMARY KEY,
    tenant_id  TEXT    NOT NULL REFERENCES tenants (id),
    name       TEXT    NOT NULL,
    name_key   TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (tenant_id, name_key)
);

INSERT OR IGNORE INTO groups (id, tenant_id, name, name_key, created_at)
SELECT lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' ||
             substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))),
       tenant_id, name, lower(name), CAST(strftime('%s', 'now') AS INTEGER) * 1000
FROM (SELECT t.id AS tenant_id, d.name AS name FROM tenants t, (SELECT 'admin' AS name UNION ALL SELECT 'impersonator') d
      UNION
      SELECT DISTINCT u.tenant_id, j.value FROM users u, json_each(u.groups_json) j);

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
-- Emails written before this migration: ASCII folding is what lower()
-- can do here; every later write stores the Go fold.
UPDATE users SET email_key = lower(email);

CREATE INDEX users_email_key ON users (tenant_id, email_key);
CREATE INDEX users_first_name_key ON users (tenant_id, first_name_key);
CREATE INDEX users_last_name_key ON users (tenant_id, last_name_key);
CREATE INDEX users_friendly_name_key ON users (tenant_id, friendly_name_key);

-- +goose Down
DROP INDEX users_friendly_name_key;
DROP INDEX users_last_name_key;
DROP INDEX users_first_name_key;
DROP INDEX users_email_key;
ALTER TABLE users DROP COLUMN friendly_name_key;
ALTER TABLE users DROP COLUMN last_name_key;
ALTER TABLE users DROP COLUMN first_name_key;
ALTER TABLE users DROP COLUMN email_key;
ALTER TABLE users DROP COLUMN phone;
ALTER TABLE users DROP COLUMN contact;
ALTER TABLE users DROP COLUMN country;
ALTER TABLE users DROP COLUMN company;
ALTER TABLE users DROP COLUMN friendly_name;
ALTER TABLE users DROP COLUMN last_name;
ALTER TABLE users DROP COLUMN first_name;
DROP TABLE groups;
