package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // the driver the sqlite store uses

	"github.com/actas-dev/actas"
)

// seedRow is one session to insert with its one refresh token hash.
type seedRow struct {
	id, userID string
	hash       []byte
}

// sessionWriter inserts live sessions (refreshable, generation 0, valid
// for the tenant's refresh lifetime from now), each with one refresh
// token, straight into the server's tables: the logical schema both
// stores share (sqlite/migrations, postgres/migrations), every index
// kept. Each writeSessions call is one transaction.
//
// Within a call the sessions are inserted in id order and the refresh
// tokens in hash order. Ids and hashes are random, so in arrival order
// every row would land on a different page of the id and hash indexes;
// sorted, a batch walks each index once, front to back, which is what
// keeps seeding fast once those indexes outgrow the database's cache.
type sessionWriter interface {
	writeSessions(ctx context.Context, t *actas.Tenant, rows []seedRow, now time.Time) error
	Close() error
}

// openWriter opens a connection of its own to the server's database. fast
// gives up durability for seed data (SQLite synchronous=OFF, PostgreSQL
// synchronous_commit=off): a crash loses the seed, never other data.
// cacheMiB sets SQLite's page cache (0: SQLite's default of 2 MiB).
func openWriter(ctx context.Context, t target, fast bool, cacheMiB int) (sessionWriter, error) {
	if t.postgres() {
		c, err := pgx.Connect(ctx, t.dsn)
		if err != nil {
			return nil, fmt.Errorf("seed connection: %w", err)
		}
		w := &pgWriter{c: c, fast: fast}
		if fast {
			// Only a superuser may switch foreign key checks off.
			if err := c.QueryRow(ctx, `SELECT rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&w.noFK); err != nil {
				c.Close(ctx)
				return nil, fmt.Errorf("seed connection: %w", err)
			}
		}
		return w, nil
	}
	syncMode := "FULL"
	if fast {
		syncMode = "OFF"
	}
	dsn := t.path + "?_txlock=immediate&_pragma=busy_timeout(30000)&_pragma=foreign_keys(1)&_pragma=synchronous(" + syncMode + ")"
	if cacheMiB > 0 {
		dsn += fmt.Sprintf("&_pragma=cache_size(-%d)", cacheMiB*1024)
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return &sqliteWriter{db: db}, nil
}

// sortedRows returns the rows by session id and by refresh token hash,
// leaving rows as it was (callers pair rows[i] with other slices).
func sortedRows(rows []seedRow) (byID, byHash []seedRow) {
	byID = slices.Clone(rows)
	slices.SortFunc(byID, func(a, b seedRow) int { return strings.Compare(a.id, b.id) })
	byHash = slices.Clone(rows)
	slices.SortFunc(byHash, func(a, b seedRow) int { return bytes.Compare(a.hash, b.hash) })
	return byID, byHash
}

type sqliteWriter struct{ db *sql.DB }

func (w *sqliteWriter) Close() error { return w.db.Close() }

// sqliteChunk is the number of rows of one multi-row INSERT: database/sql
// and the driver cost about as much per statement as SQLite does per row.
const sqliteChunk = 200

// sqliteInserts returns INSERT statements for n rows each: ?1 is the
// tenant, ?2 the current time, ?3 the expiry (Unix ms); then every row
// has two parameters (sessions: id, user id; refresh tokens: hash,
// session id).
func sqliteInserts(n int) (sessions, tokens string) {
	var s, r strings.Builder
	s.WriteString(`INSERT INTO sessions (id, tenant_id, user_id, auth_time, expires_at, last_refresh_at,
		revoked_at, revoke_reason, client_ip, user_agent, refreshable, refresh_generation, rotated_at,
		impersonator_id, parent_id, reason, created_at) VALUES `)
	r.WriteString(`INSERT INTO refresh_tokens (hash, session_id, generation, created_at) VALUES `)
	for i := range n {
		if i > 0 {
			s.WriteByte(',')
			r.WriteByte(',')
		}
		a, b := 4+2*i, 5+2*i
		fmt.Fprintf(&s, "(?%d, ?1, ?%d, ?2, ?3, 0, 0, '', '127.0.0.1', 'actas-bench', 1, 0, ?2, '', '', '', ?2)", a, b)
		fmt.Fprintf(&r, "(?%d, ?%d, 0, ?2)", a, b)
	}
	return s.String(), r.String()
}

func (w *sqliteWriter) writeSessions(ctx context.Context, t *actas.Tenant, rows []seedRow, now time.Time) error {
	if len(rows) == 0 {
		return nil
	}
	byID, byHash := sortedRows(rows)
	nowMS := now.UnixMilli()
	expMS := now.Add(t.Settings.RefreshTTL.D()).UnixMilli()
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmts := map[int][2]*sql.Stmt{} // by rows per statement: the full chunk and the tail
	exec := func(chunk []seedRow, which int, args func(seedRow) (any, any)) error {
		st, ok := stmts[len(chunk)]
		if !ok {
			sq, rq := sqliteInserts(len(chunk))
			for i, q := range []string{sq, rq} {
				s, err := tx.PrepareContext(ctx, q)
				if err != nil {
					return err
				}
				st[i] = s
			}
			stmts[len(chunk)] = st
		}
		a := make([]any, 3, 3+2*len(chunk))
		a[0], a[1], a[2] = t.ID, nowMS, expMS
		for _, r := range chunk {
			x, y := args(r)
			a = append(a, x, y)
		}
		_, err := st[which].ExecContext(ctx, a...)
		return err
	}
	for c := range slices.Chunk(byID, sqliteChunk) {
		if err := exec(c, 0, func(r seedRow) (any, any) { return r.id, r.userID }); err != nil {
			return fmt.Errorf("insert sessions: %w", err)
		}
	}
	for c := range slices.Chunk(byHash, sqliteChunk) {
		if err := exec(c, 1, func(r seedRow) (any, any) { return r.hash, r.id }); err != nil {
			return fmt.Errorf("insert refresh tokens: %w", err)
		}
	}
	return tx.Commit()
}

// checkpoint folds the write-ahead log back into the database file, so
// that the seed does not leave the server a WAL of gigabytes to read
// through.
func (w *sqliteWriter) checkpoint(ctx context.Context) error {
	_, err := w.db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}

type pgWriter struct {
	c    *pgx.Conn
	fast bool
	// noFK skips the foreign key triggers for the seed's own rows
	// (session_replication_role = replica, superusers only). They check
	// each row one by one after the COPY, which took longer than the COPY
	// itself; the rows are consistent by construction: tenant and user ids
	// read from the store, each token's session inserted just before.
	noFK bool
}

func (w *pgWriter) Close() error { return w.c.Close(context.Background()) }

func (w *pgWriter) writeSessions(ctx context.Context, t *actas.Tenant, rows []seedRow, now time.Time) error {
	if len(rows) == 0 {
		return nil
	}
	byID, byHash := sortedRows(rows)
	nowMS := now.UnixMilli()
	expMS := now.Add(t.Settings.RefreshTTL.D()).UnixMilli()
	return pgx.BeginFunc(ctx, w.c, func(tx pgx.Tx) error {
		if w.fast {
			if _, err := tx.Exec(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
				return err
			}
		}
		if w.noFK {
			if _, err := tx.Exec(ctx, "SET LOCAL session_replication_role = replica"); err != nil {
				return err
			}
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"sessions"}, []string{"id", "tenant_id", "user_id", "auth_time",
			"expires_at", "last_refresh_at", "revoked_at", "revoke_reason", "client_ip", "user_agent", "refreshable",
			"refresh_generation", "rotated_at", "impersonator_id", "parent_id", "reason", "created_at"},
			pgx.CopyFromSlice(len(byID), func(i int) ([]any, error) {
				r := byID[i]
				return []any{r.id, t.ID, r.userID, nowMS, expMS, int64(0), int64(0), "", "127.0.0.1", "actas-bench",
					true, int32(0), nowMS, "", "", "", nowMS}, nil
			}))
		if err != nil {
			return fmt.Errorf("copy sessions: %w", err)
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"refresh_tokens"}, []string{"hash", "session_id", "generation", "created_at"},
			pgx.CopyFromSlice(len(byHash), func(i int) ([]any, error) {
				r := byHash[i]
				return []any{r.hash, r.id, int32(0), nowMS}, nil
			}))
		if err != nil {
			return fmt.Errorf("copy refresh tokens: %w", err)
		}
		return nil
	})
}
