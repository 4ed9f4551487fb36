package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/internal/sqlrow"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

var (
	_ actas.Store              = (*DB)(nil)
	_ actas.RevocationNotifier = (*DB)(nil)
)

const (
	// opTimeout bounds every store call whose context has no shorter
	// deadline: acquiring a connection, the queries and the commit. A
	// database that stops answering costs a request at most this long,
	// after which it fails with actas.ErrUnavailable (503 at the edge).
	opTimeout = 5 * time.Second
	// connectTimeout bounds dialling and authenticating one connection,
	// unless the DSN sets connect_timeout.
	connectTimeout = 2 * time.Second
	// statementTimeout is the server-side bound on one statement, unless
	// the DSN sets statement_timeout: it stops the database working on a
	// query whose client has given up.
	statementTimeout = "15s"
	// maxRetries is how many times a transaction is retried after a
	// serialization failure or a deadlock (SQLSTATE 40001, 40P01).
	maxRetries = 3
	// revocationChannel is the LISTEN/NOTIFY channel a revocation commit
	// notifies, so that replicas sync at once instead of at their next poll.
	revocationChannel = "actas_revocations"
)

// DB is an actas.Store on a PostgreSQL database shared by any number of
// actas replicas. It is safe for concurrent use.
type DB struct {
	pool       *pgxpool.Pool
	sqlDB      *sql.DB // the pool seen through database/sql, for goose
	migrations *goose.Provider
	notify     bool // the database supports NOTIFY (CockroachDB does not)

	listenOnce sync.Once
	changed    chan struct{}
	stopListen context.CancelFunc
	listenDone chan struct{}
}

// Open connects to the database at dsn (a postgres:// or postgresql://
// URL or a key=value string) and applies every pending migration, under
// an advisory lock so that replicas starting at once migrate one after
// the other.
//
// The pool holds at most 4×GOMAXPROCS connections unless the DSN sets
// pool_max_conns; connect_timeout defaults to 2 s and statement_timeout
// to 15 s. Any other libpq/pgx parameter of the DSN applies as usual.
func Open(ctx context.Context, dsn string) (*DB, error) { return open(ctx, dsn, nil) }

// open is Open with a hook that may adjust the pool's configuration (the
// benchmarks count statements with a tracer).
func open(ctx context.Context, dsn string, adjust func(*pgxpool.Config)) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message can quote the DSN; it redacts the password.
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if !hasParam(dsn, "pool_max_conns") {
		cfg.MaxConns = int32(4 * runtime.GOMAXPROCS(0))
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	rp := cfg.ConnConfig.RuntimeParams
	if _, ok := rp["statement_timeout"]; !ok {
		rp["statement_timeout"] = statementTimeout
	}
	if _, ok := rp["application_name"]; !ok {
		rp["application_name"] = "actas"
	}
	if adjust != nil {
		adjust(cfg)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", mapErr(err))
	}
	db := &DB{pool: pool, changed: make(chan struct{}, 1), listenDone: make(chan struct{})}
	if err := db.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	db.sqlDB = stdlib.OpenDBFromPool(pool)
	sub, err := fs.Sub(migrationFS, "migrations")
	if err != nil {
		db.closePools()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	// A session-level advisory lock held for the whole migration run:
	// the other replicas retry every second, for up to ten minutes.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 600))
	if err != nil {
		db.closePools()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	db.migrations, err = goose.NewProvider(goose.DialectPostgres, db.sqlDB, sub,
		goose.WithDisableGlobalRegistry(true), goose.WithSessionLocker(locker), goose.WithGoMigrations(migration00003()))
	if err != nil {
		db.closePools()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if err := db.Migrate(ctx); err != nil {
		db.closePools()
		return nil, err
	}
	db.notify = db.notifySupported(ctx)
	return db, nil
}

// hasParam reports whether a URL or key=value DSN sets the parameter.
func hasParam(dsn, name string) bool {
	return strings.Contains(dsn, name+"=") || strings.Contains(dsn, name+" =")
}

// notifySupported reports whether NOTIFY works here: PostgreSQL has it,
// CockroachDB answers feature_not_supported. Without it replicas still
// follow revocations by polling. The probe is a real, empty notification:
// listening replicas merely sync once more.
func (db *DB) notifySupported(ctx context.Context) bool {
	ctx, cancel := bound(ctx)
	defer cancel()
	_, err := db.pool.Exec(ctx, `SELECT pg_notify($1, '')`, revocationChannel)
	return err == nil
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

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping: %w", mapErr(err))
	}
	return nil
}

// Close stops the revocation listener and closes every connection. The
// DB must not be used afterwards.
func (db *DB) Close() error {
	db.listenOnce.Do(func() { close(db.listenDone) }) // never started: nothing to wait for
	if db.stopListen != nil {
		db.stopListen()
	}
	<-db.listenDone
	return db.closePools()
}

func (db *DB) closePools() error {
	var err error
	if db.sqlDB != nil {
		err = db.sqlDB.Close()
	}
	db.pool.Close()
	return err
}

// bound gives ctx a deadline opTimeout away unless it already has one: a
// request path gets opTimeout so that a dead database never hangs it,
// and a caller that knows its operation is long (an administrator's mass
// revocation) says so with a deadline of its own.
func bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, opTimeout)
}

// querier is a pool or a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// write runs fn in one transaction (READ COMMITTED, PostgreSQL's default)
// and commits it, all within one bounded context, returning fn's error as
// is (callers pass it through wrap). A serialization failure or deadlock
// reruns the whole transaction, fn included, a few times: nothing was
// written by the failed attempt.
func (db *DB) write(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx) error) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	for attempt := 0; ; attempt++ {
		err := pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{}, func(tx pgx.Tx) error { return fn(ctx, tx) })
		if attempt < maxRetries && retryable(err) && ctx.Err() == nil {
			continue
		}
		return err
	}
}

// read runs fn with a bounded context on the pool.
func (db *DB) read(ctx context.Context, fn func(ctx context.Context, q querier) error) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	return fn(ctx, db.pool)
}

func retryable(err error) bool {
	var fe sqlrow.FnError
	if errors.As(err, &fe) {
		return false
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// wrap returns err mapped to the storage sentinels and prefixed with op
// (sqlrow.Wrap); a caller's error (sqlrow.FnError) comes back unchanged.
func wrap(op string, err error) error { return sqlrow.Wrap(op, err, mapErr) }

// mapErr translates driver errors into the storage sentinels by SQLSTATE
// code and error type, keeping the driver error in the chain for logs. It
// never looks at message text.
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgx.ErrNoRows):
		return actas.ErrNotFound
	case errors.Is(err, actas.ErrNotFound), errors.Is(err, actas.ErrConflict), errors.Is(err, actas.ErrUnavailable):
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch code := pe.Code; {
		case code == "23505": // unique_violation
			return fmt.Errorf("%w: %w", actas.ErrConflict, err)
		case code == "23503": // foreign_key_violation
			return fmt.Errorf("referenced record %w: %w", actas.ErrNotFound, err)
		case unavailableCode(code):
			return fmt.Errorf("%w: %w", actas.ErrUnavailable, err)
		}
		return err
	}
	if unreachable(err) {
		return fmt.Errorf("%w: %w", actas.ErrUnavailable, err)
	}
	return err
}

// unavailableCode reports whether a SQLSTATE means the database cannot
// take the operation now, though it may later: answered 503 with
// Retry-After, never 500.
func unavailableCode(code string) bool {
	switch {
	case strings.HasPrefix(code, "08"): // connection exception
		return true
	case strings.HasPrefix(code, "53"): // insufficient resources: disk_full 53100, out_of_memory 53200, too_many_connections 53300
		return true
	}
	switch code {
	case "57P01", "57P02", "57P03", // admin or crash shutdown; cannot connect now (starting up, in recovery)
		"57014",          // query_canceled (statement_timeout)
		"55P03",          // lock_not_available
		"40001", "40P01", // still failing after the retries
		"25006",          // read_only_sql_transaction: a standby, or a primary during failover
		"58000", "58030": // system_error, io_error
		return true
	}
	return false
}

// unreachable reports whether err means the database could not be
// reached or the connection broke: a dial or I/O error, a timeout, a
// closed connection.
func unreachable(err error) bool {
	var (
		ce *pgconn.ConnectError
		ne net.Error
	)
	return errors.As(err, &ce) || errors.As(err, &ne) || pgconn.Timeout(err) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// ms encodes a time as Unix milliseconds, the zero time as 0.
func ms(t time.Time) int64 { return sqlrow.MS(t) }

// fromMS decodes what ms encoded, in UTC.
func fromMS(v int64) time.Time { return sqlrow.FromMS(v) }

// blob stores nil as an empty bytea so that NOT NULL columns accept it.
func blob(b []byte) []byte { return sqlrow.Blob(b) }

// placeholders returns "$from, $from+1, …" with n parameters.
func placeholders(from, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d", from+i)
	}
	return b.String()
}

// limitClause returns " LIMIT n" for a positive n, else "".
func limitClause(n int) string { return sqlrow.LimitClause(n) }

// args collects query arguments and numbers their placeholders.
type args []any

// add appends v and returns its placeholder.
func (a *args) add(v any) string {
	*a = append(*a, v)
	return fmt.Sprintf("$%d", len(*a))
}

// scanner is a pgx.Row or pgx.Rows.
type scanner = sqlrow.Scanner

// collect scans every row and closes rows.
func collect[T any](rows pgx.Rows, scan func(scanner) (*T, error)) ([]*T, error) {
	defer rows.Close()
	return sqlrow.Collect(rows, scan)
}

// execOne runs a statement that must affect a row; none is ErrNotFound.
func execOne(ctx context.Context, q querier, query string, a ...any) error {
	tag, err := q.Exec(ctx, query, a...)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return actas.ErrNotFound
	}
	return nil
}
