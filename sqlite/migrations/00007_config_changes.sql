-- config_changes logs which tenant each config_version bump was for, so
-- that a server drops from its caches only what belongs to the tenants
-- that changed (actas.TenantChangeStore). The triggers of 00002 are
-- replaced by ones that bump the version and log the change in the same
-- statement; each change's row is numbered by the version it moved to,
-- so the numbers are consecutive and a reader can tell whether it saw
-- them all. Only the last 10000 changes are kept (ConfigChangeWindow):
-- each insert deletes the one that falls out of the window.

-- +goose Up
CREATE TABLE config_changes (
    v         INTEGER NOT NULL PRIMARY KEY,
    tenant_id TEXT    NOT NULL
);

DROP TRIGGER signing_keys_del_config;
DROP TRIGGER signing_keys_upd_config;
DROP TRIGGER signing_keys_ins_config;
DROP TRIGGER api_keys_del_config;
DROP TRIGGER api_keys_upd_config;
DROP TRIGGER api_keys_ins_config;
DROP TRIGGER tenants_del_config;
DROP TRIGGER tenants_upd_config;
DROP TRIGGER tenants_ins_config;

-- +goose StatementBegin
CREATE TRIGGER tenants_ins_config AFTER INSERT ON tenants
BEGIN
    UPDATE config_version SET v = v + 1 WHERE id = 1;
    INSERT INTO config_changes (v, tenant_id) SELECT v, NEW.id FROM config_version WHERE id = 1;
    DELETE FROM config_changes WHERE v <= (SELECT v FROM config_version WHERE id = 1) - 10000;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER tenants_upd_config AFTER UPDATE ON tenants
BEGIN
    UPDATE config_version SET v = v + 1 WHERE id = 1;
    INSERT INTO config_changes (v, tenant_id) SELECT v, NEW.id FROM config_version WHERE id = 1;
    DELETE FROM config_changes WHERE v <= (SELECT v FROM config_version WHERE id = 1) - 10000;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER tenants_del_config AFTER DELETE ON tenants
BEGIN
    UPDATE config_version SET v = v + 1 WHERE id = 1;
    INSERT INTO config_changes (v, tenant_id) SELECT v, OLD.id FROM config_version WHERE id = 1;
    DELETE FROM config_changes WHERE v <= (SELECT v FROM config_version WHERE id = 1) - 10000;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER api_keys_ins_config AFTER INSERT ON api_keys
BEGIN
    UPDATE config_version SET v = v + 1 WHERE id = 1;
    INSERT INTO config_changes (v, tenant_id) SELECT v, NEW.tenant_id FROM config_version WHERE id = 1;
    DELETE FROM config_changes WHERE v <= (SELECT v FROM config_version WHERE id = 1) - 10000;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER api_keys_upd_config AFTER UPDATE OF tenant_id, name, hash, revoked_at ON api_keys
BEGIN
    UPDATE config_version SET v = v + 1 WHERE id = 1;
    INSERT INTO config_changes (v, tenant_id) SELECT v, NEW.tenant_id FROM config_version WHERE id = 1;
    DELETE FROM config_changes WHERE v <= (SELECT v FROM config_version WHERE id = 1) - 10000;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER api_keys_del_config AFTER DELETE ON api_keys
BEGIN
    UPDATE config_version SET v = v + 1 WHERE id = 1;
    INSERT INTO config_changes (v, tenant_id) SELECT v, OLD.tenant_id FROM config_version WHERE id = 1;
    DELETE FROM config_changes WHERE v <= (SELECT v FROM config_version WHERE id = 1) - 10000;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER signing_keys_ins_config AFTER INSERT ON signing_keys
BEGIN
    UPDATE config_version SET v = v + 1 WHERE id = 1;
    INSERT INTO config_changes (v, tenant_id) SELECT v, NEW.tenant_id FROM config_version WHERE id = 1;
    DELETE FROM config_changes WHERE v <= (SELECT v FROM config_version WHERE id = 1) - 10000;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER signing_keys_upd_config AFTER UPDATE ON signing_keys
BEGIN
    UPDATE config_version SET v = v + 1 WHERE id = 1;
    INSERT INTO config_changes (v, tenant_id) SELECT v, NEW.tenant_id FROM config_version WHERE id = 1;
    DELETE FROM config_changes WHERE v <= (SELECT v FROM config_version WHERE id = 1) - 10000;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER signing_keys_del_config AFTER DELETE ON signing_keys
BEGIN
    UPDATE config_version SET v = v + 1 WHERE id = 1;
    INSERT INTO config_changes (v, tenant_id) SELECT v, OLD.tenant_id FROM config_version WHERE id = 1;
    DELETE FROM config_changes WHERE v <= (SELECT v FROM config_version WHERE id = 1) - 10000;
END;
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
DROP TABLE config_changes;
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
