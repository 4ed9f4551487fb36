package postgres

import (
	"context"
	"time"

	"github.com/actas-dev/actas"
)

var _ actas.ThrottleStore = (*DB)(nil)

// ThrottleFailures reads the counts of keys in one statement.
func (db *DB) ThrottleFailures(ctx context.Context, tenantID string, keys []string) (map[string]actas.ThrottleCount, error) {
	out := make(map[string]actas.ThrottleCount, len(keys))
	err := db.read(ctx, func(ctx context.Context, q querier) error {
		rows, err := q.Query(ctx, `SELECT key, failures, last_at FROM throttle_failures
			WHERE tenant_id = $1 AND key = ANY($2)`, tenantID, keys)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			var n int
			var last int64
			if err := rows.Scan(&k, &n, &last); err != nil {
				return err
			}
			out[k] = actas.ThrottleCount{Failures: n, Last: fromMS(last)}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, wrap("throttle failures", err)
	}
	return out, nil
}

// AddThrottleFailure counts one failure against each key in one
// statement (an upsert of every key; a count whose last failure is
// before reset starts again at one).
func (db *DB) AddThrottleFailure(ctx context.Context, tenantID string, keys []string, now, reset time.Time) error {
	return wrap("add throttle failure", db.read(ctx, func(ctx context.Context, q querier) error {
		_, err := q.Exec(ctx, `INSERT INTO throttle_failures AS f (tenant_id, key, failures, last_at)
			SELECT $1, k, 1, $3 FROM unnest($2::text[]) AS k
			ON CONFLICT (tenant_id, key) DO UPDATE SET
				failures = CASE WHEN f.last_at < $4 THEN 1 ELSE f.failures + 1 END,
				last_at = GREATEST(f.last_at, EXCLUDED.last_at)`,
			tenantID, keys, ms(now), ms(reset))
		return err
	}))
}

// ClearThrottle forgets a key's count.
func (db *DB) ClearThrottle(ctx context.Context, tenantID, key string) error {
	return wrap("clear throttle", db.read(ctx, func(ctx context.Context, q querier) error {
		_, err := q.Exec(ctx, `DELETE FROM throttle_failures WHERE tenant_id = $1 AND key = $2`, tenantID, key)
		return err
	}))
}

// PurgeThrottle forgets counts whose last failure was before t.
func (db *DB) PurgeThrottle(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := db.read(ctx, func(ctx context.Context, q querier) error {
		tag, err := q.Exec(ctx, `DELETE FROM throttle_failures WHERE last_at < $1`, ms(before))
		n = tag.RowsAffected()
		return err
	})
	return int(n), wrap("purge throttle", err)
}
