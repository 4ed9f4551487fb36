package sqlrow

import (
	"strings"

	"github.com/actas-dev/actas"
)

// SigningKeyWriteCols are the signing_keys table's columns an update
// writes (all but kid and tenant), in SigningKeyArgs's order after those two.
var SigningKeyWriteCols = []string{"key_use", "alg", "state", "private_enc", "public_der", "created_at",
	"activate_at", "retire_until"}

// SigningKeyCols is the signing_keys table's column list: kid, tenant_id,
// then SigningKeyWriteCols.
var SigningKeyCols = "kid, tenant_id, " + strings.Join(SigningKeyWriteCols, ", ")

// ScanSigningKey scans a row of SigningKeyCols.
func ScanSigningKey(row Scanner) (*actas.SigningKey, error) {
	var (
		k                         actas.SigningKey
		created, activate, retire int64
	)
	if err := row.Scan(&k.KID, &k.TenantID, &k.Use, &k.Alg, &k.State, &k.PrivateEnc, &k.PublicDER,
		&created, &activate, &retire); err != nil {
		return nil, err
	}
	k.CreatedAt, k.ActivateAt, k.RetireUntil = FromMS(created), FromMS(activate), FromMS(retire)
	return &k, nil
}

// SigningKeyArgs returns the values of SigningKeyCols for k; without the
// first two (kid, tenant), those of SigningKeyWriteCols.
func SigningKeyArgs(k *actas.SigningKey) []any {
	return []any{k.KID, k.TenantID, k.Use, k.Alg, k.State, Blob(k.PrivateEnc), Blob(k.PublicDER),
		MS(k.CreatedAt), MS(k.ActivateAt), MS(k.RetireUntil)}
}
