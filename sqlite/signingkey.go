package sqlite

import (
	"context"
	"database/sql"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/internal/sqlrow"
)

// signingKeyUpdateQ writes the SigningKeyWriteCols of one key, by kid and tenant.
var signingKeyUpdateQ = `UPDATE signing_keys SET ` + sqlrow.SetList(sqlrow.SigningKeyWriteCols, func(int) string { return "?" }) +
	` WHERE kid = ? AND tenant_id = ?`

func insertSigningKey(ctx context.Context, tx *sql.Tx, k *actas.SigningKey) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO signing_keys (`+sqlrow.SigningKeyCols+`) VALUES (`+placeholders(10)+`)`,
		sqlrow.SigningKeyArgs(k)...)
	return err
}

// CreateSigningKey stores a new signing key.
func (db *DB) CreateSigningKey(ctx context.Context, k *actas.SigningKey) error {
	return wrap("create signing key", db.write(ctx, func(tx *sql.Tx) error {
		return insertSigningKey(ctx, tx, k)
	}))
}

// signingKeysQuery lists a tenant's keys, oldest first; keys created in
// the same millisecond come by kid.
var signingKeysQuery = `SELECT ` + sqlrow.SigningKeyCols + ` FROM signing_keys WHERE tenant_id = ?
	ORDER BY created_at, kid`

// SigningKeys returns a tenant's keys in every state, oldest first.
func (db *DB) SigningKeys(ctx context.Context, tenantID string) ([]*actas.SigningKey, error) {
	var rows *sql.Rows
	var err error
	if st := db.prepared(ctx, db.r, signingKeysQuery); st != nil {
		rows, err = st.QueryContext(ctx, tenantID)
	} else {
		rows, err = db.r.QueryContext(ctx, signingKeysQuery, tenantID)
	}
	if err != nil {
		return nil, wrap("signing keys", err)
	}
	out, err := collect(rows, sqlrow.ScanSigningKey)
	return out, wrap("signing keys", err)
}

// UpdateSigningKeys reads, modifies and writes a tenant's keys in one
// transaction. Keys in fn's result whose kid is new are created; the others
// are updated (all fields but kid and tenant). A key missing from the
// result is left as it was, not deleted. It returns every key of the
// tenant afterwards, oldest first. An unknown tenant is ErrNotFound.
func (db *DB) UpdateSigningKeys(ctx context.Context, tenantID string, fn func([]*actas.SigningKey) ([]*actas.SigningKey, error)) ([]*actas.SigningKey, error) {
	var out []*actas.SigningKey
	err := db.write(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM tenants WHERE id = ?`, tenantID).Scan(&one); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, signingKeysQuery, tenantID)
		if err != nil {
			return err
		}
		keys, err := collect(rows, sqlrow.ScanSigningKey)
		if err != nil {
			return err
		}
		if err := sqlrow.ApplySigningKeys(tenantID, keys, fn,
			func(k *actas.SigningKey) error { return insertSigningKey(ctx, tx, k) },
			func(k *actas.SigningKey) error {
				_, err := tx.ExecContext(ctx, signingKeyUpdateQ, append(sqlrow.SigningKeyArgs(k)[2:], k.KID, tenantID)...)
				return err
			}); err != nil {
			return err
		}
		if rows, err = tx.QueryContext(ctx, signingKeysQuery, tenantID); err != nil {
			return err
		}
		out, err = collect(rows, sqlrow.ScanSigningKey)
		return err
	})
	if err != nil {
		return nil, wrap("update signing keys", err)
	}
	return out, nil
}
