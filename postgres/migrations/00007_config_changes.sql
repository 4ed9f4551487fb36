-- config_changes logs which tenant each config_version bump was for, so
-- that a server drops from its caches only what belongs to the tenants
-- that changed (actas.TenantChangeStore). The statement-level triggers
-- of 00002 become row-level ones that bump the version and log the
-- change. The version row's lock is held to commit, so changes commit in
-- version order and the numbers are consecutive: a reader can tell
-- whether it saw them all. Only the last 10000 changes are kept
-- (ConfigChangeWindow): each insert deletes the one that falls out.

-- +goose Up
CREATE TABLE config_changes (
    v         BIGINT NOT NULL PRIMARY KEY,
    tenant_id TEXT   NOT NULL
);

DROP TRIGGER signing_keys_config ON signing_keys;
DROP TRIGGER api_keys_config ON api_keys;
DROP TRIGGER tenants_config ON tenants;

-- +goose StatementBegin
CREATE FUNCTION actas_log_config_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    tid TEXT;
    nv  BIGINT;
BEGIN
    IF TG_TABLE_NAME = 'tenants' THEN
        IF TG_OP = 'DELETE' THEN tid := OLD.id; ELSE tid := NEW.id; END IF;
    ELSE
        IF TG_OP = 'DELETE' THEN tid := OLD.tenant_id; ELSE tid := NEW.tenant_id; END IF;
    END IF;
    UPDATE config_version SET v = v + 1 WHERE id = 1 RETURNING v INTO nv;
    INSERT INTO config_changes (v, tenant_id) VALUES (nv, tid);
    DELETE FROM config_changes WHERE v <= nv - 10000;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER tenants_config AFTER INSERT OR UPDATE OR DELETE ON tenants
    FOR EACH ROW EXECUTE FUNCTION actas_log_config_change();
CREATE TRIGGER api_keys_config AFTER INSERT OR DELETE OR UPDATE OF tenant_id, name, hash, revoked_at ON api_keys
    FOR EACH ROW EXECUTE FUNCTION actas_log_config_change();
CREATE TRIGGER signing_keys_config AFTER INSERT OR UPDATE OR DELETE ON signing_keys
    FOR EACH ROW EXECUTE FUNCTION actas_log_config_change();

-- +goose Down
DROP TRIGGER signing_keys_config ON signing_keys;
DROP TRIGGER api_keys_config ON api_keys;
DROP TRIGGER tenants_config ON tenants;
DROP FUNCTION actas_log_config_change();
DROP TABLE config_changes;
CREATE TRIGGER tenants_config AFTER INSERT OR UPDATE OR DELETE ON tenants
    FOR EACH STATEMENT EXECUTE FUNCTION actas_bump_config_version();
CREATE TRIGGER api_keys_config AFTER INSERT OR DELETE OR UPDATE OF tenant_id, name, hash, revoked_at ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION actas_bump_config_version();
CREATE TRIGGER signing_keys_config AFTER INSERT OR UPDATE OR DELETE ON signing_keys
    FOR EACH STATEMENT EXECUTE FUNCTION actas_bump_config_version();
