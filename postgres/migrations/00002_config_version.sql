-- config_version counts changes to what servers cache: tenants, API keys
-- and signing keys. A server reads this one row per request and keeps its
-- caches while the number is unchanged, so a change made by any replica
-- takes effect on the next request. Statement-level triggers bump it in
-- the same transaction as the change; "last used" touches of API keys do
-- not (they set only last_used_at).

-- +goose Up
CREATE TABLE config_version (
    id INT    NOT NULL PRIMARY KEY CHECK (id = 1),
    v  BIGINT NOT NULL
);
INSERT INTO config_version (id, v) VALUES (1, 1);

-- +goose StatementBegin
CREATE FUNCTION actas_bump_config_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE config_version SET v = v + 1 WHERE id = 1;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER tenants_config AFTER INSERT OR UPDATE OR DELETE ON tenants
    FOR EACH STATEMENT EXECUTE FUNCTION actas_bump_config_version();
CREATE TRIGGER api_keys_config AFTER INSERT OR DELETE OR UPDATE OF tenant_id, name, hash, revoked_at ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION actas_bump_config_version();
CREATE TRIGGER signing_keys_config AFTER INSERT OR UPDATE OR DELETE ON signing_keys
    FOR EACH STATEMENT EXECUTE FUNCTION actas_bump_config_version();

-- +goose Down
DROP TRIGGER signing_keys_config ON signing_keys;
DROP TRIGGER api_keys_config ON api_keys;
DROP TRIGGER tenants_config ON tenants;
DROP FUNCTION actas_bump_config_version();
DROP TABLE config_version;
