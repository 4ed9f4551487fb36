package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/internal/sqlrow"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

var _ actas.Store = (*DB)(nil)

// busyTimeout is how long a statement waits for another process's write
// lock before failing with SQLITE_BUSY (reported as actas.ErrUnavailable).
const busyTimeout = 5 * time.Second

// DB is an actas.Store on one SQLite file. It is safe for concurrent use.
type DB struct {
	w *sql.DB // the one write connection; every transaction is BEGIN IMMEDIATE
	r *sql.DB // read-only connections, used in parallel with w

	migrations *goose.Provider

	byRefresh *sql.Stmt // SessionByRefreshToken, on r

	gc groupCommit // batches concurrent write transactions into one commit

	path string      // the database file (CheckFile, ops.go)
	file os.FileInfo // its identity when opened
}

// Open opens (creating it if needed) the database file at path and applies
// every pending migration. path must name a file: ":memory:" and URIs are
// refused, as the writer and the readers must share one database.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" || path == ":memory:" || strings.ContainsAny(path, "?") || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("open sqlite: %q is not a database file path", path)
	}
	// Processes starting together on a new file race to create it: the
	// switch to WAL and the first migration can fail with SQLITE_BUSY
	// without waiting. The winner's work is then done; trying again
	// joins it.
	for attempt := 1; ; attempt++ {
		db, err := openOnce(ctx, path)
		if err == nil || attempt == 5 || ctx.Err() != nil || !errors.Is(err, actas.ErrUnavailable) {
			return db, err
		}
		time.Sleep(time.Duration(attempt) * 100 * time.Millisecond)
	}
}

func openOnce(ctx context.Context, path string) (_ *DB, err error) {
	busy := fmt.Sprintf("_pragma=busy_timeout(%d)", busyTimeout.Milliseconds())
	db := &DB{}
	defer func() {
		if err != nil {
			_ = db.Close()
			err = fmt.Errorf("open sqlite: %w", mapErr(err))
		}
	}()

	db.w, err = sql.Open("sqlite", path+"?_txlock=immediate&"+busy+
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)"+
		// Checkpoints run beside the writer, not in its commits (checkpoint.go).
		fmt.Sprintf("&_pragma=wal_autocheckpoint(0)&_pragma=journal_size_limit(%d)", journalSizeLimit))
	if err != nil {
		return nil, err
	}
	db.w.SetMaxOpenConns(1)
	db.w.SetMaxIdleConns(1)
	db.w.SetConnMaxIdleTime(0)
	db.w.SetConnMaxLifetime(0)
	// The writer connects first: it creates the file and switches it to WAL
	// before any reader opens it.
	if err := db.w.PingContext(ctx); err != nil {
		return nil, err
	}
	db.path = path
	db.file, _ = os.Stat(path)
	sub, err := fs.Sub(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	if db.migrations, err = goose.NewProvider(goose.DialectSQLite3, db.w, sub,
		goose.WithDisableGlobalRegistry(true), goose.WithGoMigrations(migration00003())); err != nil {
		return nil, err
	}
	// Processes started together on a new file (serve and a provisioning
	// script) race to apply the same migration; goose takes no lock on
	// SQLite, so the loser fails ("table already exists" or busy). The
	// winner's commit is then visible: trying again applies what is left.
	for attempt := 1; ; attempt++ {
		_, err := db.migrations.Up(ctx)
		if err == nil {
			break
		}
		if attempt == 5 || ctx.Err() != nil || errors.Is(err, sqlrow.ErrUsernameCollision) {
			return nil, fmt.Errorf("migrate: %w", err)
		}
		time.Sleep(time.Duration(attempt) * 100 * time.Millisecond)
	}

	if db.r, err = sql.Open("sqlite", path+"?"+busy+"&_pragma=query_only(1)"); err != nil {
		return nil, err
	}
	n := max(4, runtime.GOMAXPROCS(0))
	db.r.SetMaxOpenConns(n)
	db.r.SetMaxIdleConns(n)
	db.r.SetConnMaxIdleTime(0)
	db.r.SetConnMaxLifetime(0)
	// The lookup of every refresh, prepared once.
	if db.byRefresh, err = db.r.PrepareContext(ctx, `SELECT `+sqlrow.Prefixed("t.", sqlrow.RefreshTokenCols)+`, `+
		sqlrow.Prefixed("s.", sqlrow.SessionCols)+` FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id
		WHERE t.hash = ?`); err != nil {
		return nil, err
	}
	if err := db.startCheckpointer(ctx, path); err != nil {
		return nil, err
	}
	return db, nil
}

// Migrate applies every pending migration. Applying none is not an error.
func (db *DB) Migrate(ctx context.Context) error {
	if _, err := db.migrations.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", mapErr(err))
	}
	return nil
}

// MigrationsCurrent reports whether every migration this binary knows has
// been applied. It creates goose's version table if it is missing.
func (db *DB) MigrationsCurrent(ctx context.Context) (bool, error) {
	pending, err := db.migrations.HasPending(ctx)
	if err != nil {
		return false, fmt.Errorf("migrations current: %w", mapErr(err))
	}
	return !pending, nil
}

// Ping checks that both the writer and the readers answer.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.w.PingContext(ctx); err != nil {
		return fmt.Errorf("ping: %w", mapErr(err))
	}
	if err := db.r.PingContext(ctx); err != nil {
		return fmt.Errorf("ping: %w", mapErr(err))
	}
	return nil
}

// Close stops the checkpoints and closes every connection; the last
// connection to the file checkpoints the whole WAL and removes it. The DB
// must not be used afterwards.
func (db *DB) Close() error {
	errs := []error{db.gc.ckpt.close()}
	for _, c := range []*sql.DB{db.r, db.w} {
		if c != nil {
			errs = append(errs, c.Close())
		}
	}
	return errors.Join(errs...)
}

// write runs fn in one write transaction and commits it, returning fn's
// error as is (callers pass it through wrap). Transactions are
// serialised: the writer pool has a single connection, and BEGIN IMMEDIATE
// takes the file's write lock before fn reads anything. Concurrent writes
// share one commit (group commit, groupcommit.go); each returns only once
// its changes are durable.
func (db *DB) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return db.gc.do(ctx, db, fn)
}

// wrap returns err mapped to the storage sentinels and prefixed with op
// (sqlrow.Wrap); a caller's error (sqlrow.FnError) comes back unchanged.
func wrap(op string, err error) error { return sqlrow.Wrap(op, err, mapErr) }

// mapErr translates SQLite result codes into the storage sentinels,
// keeping the driver error in the chain for logs. It never looks at the
// message text.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return actas.ErrNotFound
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	switch code := se.Code(); {
	case code == sqlite3.SQLITE_CONSTRAINT_UNIQUE, code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return fmt.Errorf("%w: %w", actas.ErrConflict, err)
	case code == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		// A row refers to a tenant, user or session that does not exist.
		return fmt.Errorf("referenced record %w: %w", actas.ErrNotFound, err)
	case unavailableCode(code):
		return fmt.Errorf("%w: %w", actas.ErrUnavailable, err)
	}
	return err
}

// unavailableCode reports whether a SQLite result code (extended or
// primary) means the storage cannot take the operation now, though it may
// later: the write lock held past the busy timeout, a full disk, a
// database or file system made read-only, an I/O error or memory
// exhausted. These are answered 503 with
// Retry-After, never 500; a transaction that failed with one of them
// wrote nothing.
func unavailableCode(code int) bool {
	switch code & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED,
		sqlite3.SQLITE_FULL,     // disk (or quota) full: ENOSPC, EDQUOT
		sqlite3.SQLITE_READONLY, // read-only file, mount or connection
		sqlite3.SQLITE_IOERR,    // read, write, fsync, truncate, lock… failed
		sqlite3.SQLITE_NOMEM:
		return true
	}
	return false
}

// scanner is a *sql.Row or *sql.Rows.
type scanner = sqlrow.Scanner

// ms encodes a time as Unix milliseconds, the zero time as 0.
func ms(t time.Time) int64 { return sqlrow.MS(t) }

// blob stores nil as an empty blob so that NOT NULL columns accept it.
func blob(b []byte) []byte { return sqlrow.Blob(b) }

// placeholders returns "?, ?, …" with n marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// limitClause returns " LIMIT n" for a positive n, else "".
func limitClause(n int) string { return sqlrow.LimitClause(n) }
