// Package sqlite implements actas.Store on one SQLite file, the default
// storage of a single actas instance (SPEC §5).
//
// It owns the schema (embedded goose migrations in migrations/, applied by
// Open and by DB.Migrate), the mapping of rows to the domain types of
// package actas, and the translation of SQLite result codes into the
// storage sentinels actas.ErrNotFound, actas.ErrConflict and
// actas.ErrUnavailable. It holds no business rules: what a refresh or a
// revocation means is decided in package issuer; this package only keeps
// the Store contract (atomicity, serialised updaters, durability).
//
// Concurrency: all writes go through one connection whose transactions
// begin with BEGIN IMMEDIATE, so read-modify-write transactions (the
// UpdateX methods, RevokeSessions) are serialised inside the process and
// take the database's write lock up front against other processes, which
// busy_timeout then waits for instead of failing with SQLITE_BUSY. Reads
// use a separate pool of read-only connections and run in parallel with
// the writer (WAL).
//
// Durability: journal_mode=WAL with synchronous=FULL, so every committed
// transaction is on disk before its method returns, including across a
// power loss; a caller may acknowledge a change as soon as the call
// returns.
//
// Times are INTEGER Unix milliseconds in UTC with 0 for the zero time (an
// instant exactly at the Unix epoch therefore reads back as the zero time).
// The PostgreSQL backend lives in package postgres; both run the
// conformance suite in package storetest.
package sqlite
