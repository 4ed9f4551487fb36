package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/internal/sqlrow"
)

// signingKeyUpdateQ writes the SigningKeyWriteCols of one key, by kid and tenant.
var signingKeyUpdateQ = `UPDATE signing_keys SET ` + sqlrow.SetList(sqlrow.SigningKeyWriteCols, pgPlaceholder) +
	fmt.Sprintf(` WHERE kid = $%d AND tenant_id = $%d`, len(sqlrow.SigningKeyWriteCols)+1, len(sqlrow.SigningKeyWriteCols)+2)

func insertSigningKey(ctx context.Context, q querier, k *actas.SigningKey) error {
	_, err := q.Exec(ctx, `INSERT INTO signing_keys (`+sqlrow.SigningKeyCols+`) VALUES (`+placeholders(1, 10)+`)`,
		sqlrow.SigningKeyArgs(k)...)
	return err
}

// CreateSigningKey stores a new signing key.
func (db *DB) CreateSigningKey(ctx context.Context, k *actas.SigningKey) error {
	return wrap("create signing key", db.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return insertSigningKey(ctx, tx, k)
	}))
}

// signingKeysQuery lists a tenant's keys, oldest first; keys created in
// the same millisecond come by kid.
var signingKeysQuery = `SELECT ` + sqlrow.SigningKeyCols + ` FROM signing_keys WHERE tenant_id = $1
	ORDER BY created_at, kid COLLATE "C"`

func signingKeys(ctx context.Context, q querier, tenantID string) ([]*actas.SigningKey, error) {
	rows, err := q.Query(ctx, signingKeysQuery, tenantID)
	if err != nil {
		return nil, err
	}
	return collect(rows, sqlrow.ScanSigningKey)
}

// SigningKeys returns a tenant's keys in every state, oldest first.
func (db *DB) SigningKeys(ctx context.Context, tenantID string) ([]*actas.SigningKey, error) {
	var out []*actas.SigningKey
	err := db.read(ctx, func(ctx context.Context, q querier) error {
		var err error
		out, err = signingKeys(ctx, q, tenantID)
		return err
	})
	return out, wrap("signing keys", err)
}

// UpdateSigningKeys reads, modifies and writes a tenant's keys in one
// transaction. The tenant's row is locked (SELECT … FOR NO KEY UPDATE) first, so
// that two replicas rotating the same tenant's keys run one after the
// other. Keys in fn's result whose kid is new are created; the others are
// updated (all fields but kid and tenant). A key missing from the result
// is left as it was, not deleted. It returns every key of the tenant
// afterwards, oldest first. An unknown tenant is ErrNotFound.
func (db *DB) UpdateSigningKeys(ctx context.Context, tenantID string, fn func([]*actas.SigningKey) ([]*actas.SigningKey, error)) ([]*actas.SigningKey, error) {
	var out []*actas.SigningKey
	err := db.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var one int32
		if err := tx.QueryRow(ctx, `SELECT 1 FROM tenants WHERE id = $1 FOR NO KEY UPDATE`, tenantID).Scan(&one); err != nil {
			return err
		}
		keys, err := signingKeys(ctx, tx, tenantID)
		if err != nil {
			return err
		}
		if err := sqlrow.ApplySigningKeys(tenantID, keys, fn,
			func(k *actas.SigningKey) error { return insertSigningKey(ctx, tx, k) },
			func(k *actas.SigningKey) error {
				_, err := tx.Exec(ctx, signingKeyUpdateQ, append(sqlrow.SigningKeyArgs(k)[2:], k.KID, tenantID)...)
				return err
			}); err != nil {
			return err
		}
		out, err = signingKeys(ctx, tx, tenantID)
		return err
	})
	if err != nil {
		return nil, wrap("update signing keys", err)
	}
	return out, nil
}
