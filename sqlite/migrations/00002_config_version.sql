-- config_version counts changes to what servers cache: tenants, API keys
-- and signing keys. A server reads this one row per request and keeps its
-- caches while the number is unchanged, so a change made by any process
-- takes effect on the next request. Triggers bump it in the same
-- transaction as the change; "last used" touches of API keys do not.

-- +goose Up
CREATE TABLE config_version (
    id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    v  INTEGER NOT NULL
);
INSERT INTO config_version (id, v) VALUES (1, 1);

-- +goose StatementBegin
CREATE TRIGGER tenants_ins_config AFTER INSERT ON tenants
BEGIN UPDATE config_version SET v = v + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER tenants_upd_config AFTER UPDATE ON tenants
BEGIN UPDATE config_version SET v = v + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER tenants_del_config AFTER DELETE ON tenants
BEGIN UPDATE config_version SET v = v + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER api_keys_ins_config AFTER INSERT ON api_keys
BEGIN UPDATE config_version SET v = v + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER api_keys_upd_config AFTER UPDATE OF tenant_id, name, hash, revoked_at ON api_keys
BEGIN UPDATE config_version SET v = v + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER api_keys_del_config AFTER DELETE ON api_keys
BEGIN UPDATE config_version SET v = v + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER signing_keys_ins_config AFTER INSERT ON signing_keys
BEGIN UPDATE config_version SET v = v + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER signing_keys_upd_config AFTER UPDATE ON signing_keys
BEGIN UPDATE config_version SET v = v + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER signing_keys_del_config AFTER DELETE ON signing_keys
BEGIN UPDATE config_version SET v = v + 1 WHERE id = 1; END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER signing_keys_del_config;
DROP TRIGGER signing_keys_upd_config;
DROP TRIGGER signing_keys_ins_config;
DROP TRIGGER api_keys_del_config;
DROP TRIGGER api_keys_upd_config;
DROP TRIGGER api_keys_ins_config;
DROP TRIGGER tenants_del_config;
DROP TRIGGER tenants_upd_config;
DROP TRIGGER tenants_ins_config;
DROP TABLE config_version;
