package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// ProbeWrite overwrites the one write_probe row in a transaction of its
// own, so it fails exactly when other writes would (a standby or a
// database in recovery refuses it, SQLSTATE 25006 or 57P03).
func (db *DB) ProbeWrite(ctx context.Context, at time.Time) error {
	return wrap("probe write", db.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO write_probe (id, at, n) VALUES (1, $1, 1)
			ON CONFLICT (id) DO UPDATE SET at = excluded.at, n = write_probe.n + 1`, ms(at))
		return err
	}))
}
