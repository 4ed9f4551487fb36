package postgres

import "time"

// PoolStats is a snapshot of the connection pool, for metrics.
type PoolStats struct {
	Acquired, Idle, Total, Max int64
	Acquires, EmptyAcquires    int64
	AcquireWait                time.Duration
}

// PoolStats returns the pool's current statistics.
func (db *DB) PoolStats() PoolStats {
	s := db.pool.Stat()
	return PoolStats{
		Acquired: int64(s.AcquiredConns()), Idle: int64(s.IdleConns()), Total: int64(s.TotalConns()),
		Max: int64(s.MaxConns()), Acquires: s.AcquireCount(), EmptyAcquires: s.EmptyAcquireCount(),
		AcquireWait: s.AcquireDuration(),
	}
}
