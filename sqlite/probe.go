package sqlite

import (
	"context"
	"database/sql"
	"time"
)

// ProbeWrite overwrites the one write_probe row through the ordinary
// write path (group commit, a durable commit), so it fails exactly when
// other writes would.
func (db *DB) ProbeWrite(ctx context.Context, at time.Time) error {
	return wrap("probe write", db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO write_probe (id, at, n) VALUES (1, ?, 1)
			ON CONFLICT (id) DO UPDATE SET at = excluded.at, n = write_probe.n + 1`, ms(at))
		return err
	}))
}
