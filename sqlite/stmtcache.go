package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// Prepared statements of the hot paths. modernc.org/sqlite parses every
// query it is given as text (sqlite3_prepare_v2): on a refresh that was an
// eighth of the server's CPU, much of it inside the single writer, where
// it delays every other write. Statements are prepared once per pool and
// reused.
//
// A writer statement must be prepared outside any write transaction: the
// writer pool has one connection, so preparing on it from inside a
// transaction would wait for itself. Callers therefore fetch writer
// statements before db.write and use them inside with tx.StmtContext.

type stmtKey struct {
	pool  *sql.DB
	query string
}

type stmtCache struct {
	mu sync.Mutex
	m  map[stmtKey]*sql.Stmt
}

// maxStmts bounds the cache; queries come from a fixed set in this
// package, so it is never reached in practice.
const maxStmts = 256

// prepared returns query prepared on pool, or nil if it cannot be or the
// cache is full (the caller then runs the query as text).
func (db *DB) prepared(ctx context.Context, pool *sql.DB, query string) *sql.Stmt {
	c := &db.gc.stmts
	k := stmtKey{pool, query}
	c.mu.Lock()
	s := c.m[k]
	c.mu.Unlock()
	if s != nil {
		return s
	}
	s, err := pool.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.m[k]; old != nil {
		_ = s.Close()
		return old
	}
	if c.m == nil {
		c.m = make(map[stmtKey]*sql.Stmt)
	}
	if len(c.m) >= maxStmts {
		// Not cached, so nobody would close it: a statement handed
		// out here would hold its connection's resources until the pool
		// closes.
		_ = s.Close()
		return nil
	}
	c.m[k] = s
	return s
}

// readRow runs a single-row query on the readers, prepared, without
// watching ctx while it runs (brief).
func (db *DB) readRow(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = brief(ctx)
	if s := db.prepared(ctx, db.r, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return db.r.QueryRowContext(ctx, query, args...)
}

// brief returns the context for a statement that touches a few rows by
// key and so takes microseconds: a read of a row, or a statement of a
// hot write transaction. For a context that can be canceled,
// database/sql and the driver each start a goroutine per statement to
// watch it (and the driver installs a progress handler to interrupt the
// statement): a third to a half of the cost of such a read, and on the
// single writer, time every other write waits for. A context already
// done is returned as is, so the statement fails with its error;
// otherwise the statement runs to its end, which comes as soon as it
// would have noticed a cancellation. (A reader of a WAL database waits
// for no lock but in rare recovery, bounded by busyTimeout; a write
// transaction holds the write lock before its first statement.)
func brief(ctx context.Context) context.Context {
	if ctx.Err() != nil {
		return ctx
	}
	return context.WithoutCancel(ctx)
}

// txExec runs s (a writer statement from prepared) in tx, or query as
// text if s is nil.
func txExec(ctx context.Context, tx *sql.Tx, s *sql.Stmt, query string, args ...any) (sql.Result, error) {
	if s != nil {
		return tx.StmtContext(ctx, s).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, query, args...)
}

// txQueryRow is txExec for a single-row query.
func txQueryRow(ctx context.Context, tx *sql.Tx, s *sql.Stmt, query string, args ...any) *sql.Row {
	if s != nil {
		return tx.StmtContext(ctx, s).QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, query, args...)
}
