package sqlrow

import "github.com/actas-dev/actas"

// APIKeyCols is the api_keys table's column list.
const APIKeyCols = `id, tenant_id, name, hash, created_at, last_used_at, revoked_at`

// ScanAPIKey scans a row of APIKeyCols.
func ScanAPIKey(row Scanner) (*actas.APIKey, error) {
	var (
		k                      actas.APIKey
		created, used, revoked int64
	)
	if err := row.Scan(&k.ID, &k.TenantID, &k.Name, &k.Hash, &created, &used, &revoked); err != nil {
		return nil, err
	}
	k.CreatedAt, k.LastUsedAt, k.RevokedAt = FromMS(created), FromMS(used), FromMS(revoked)
	return &k, nil
}

// APIKeyArgs returns the values of APIKeyCols for k.
func APIKeyArgs(k *actas.APIKey) []any {
	return []any{k.ID, k.TenantID, k.Name, Blob(k.Hash), MS(k.CreatedAt), MS(k.LastUsedAt), MS(k.RevokedAt)}
}
