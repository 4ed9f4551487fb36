// Package postgres implements actas.Store on PostgreSQL, the storage of
// actas when it runs as any number of stateless replicas sharing one
// database (SPEC §5).
//
// It owns the PostgreSQL schema (embedded goose migrations in
// migrations/, applied by Open and DB.Migrate under a session-level
// advisory lock, so replicas starting together migrate one at a time),
// the mapping of rows to the domain types of package actas, and the
// translation of driver errors, by SQLSTATE code and error type, into
// the storage sentinels: 23505 is actas.ErrConflict; connection failures
// (dial errors, broken connections, timeouts, class 08, 57P01 admin
// shutdown, …) are actas.ErrUnavailable, which the HTTP edge answers
// with 503 and Retry-After. Business rules stay in package issuer.
//
// Bounded waits: every call runs under a context with at most a 5 s
// deadline (opTimeout) covering pool acquisition, statements and commit;
// new connections time out after 5 s and statements after 15 s on the
// server, unless the DSN says otherwise. A database that stops answering
// therefore fails requests quickly instead of hanging them, and the pool
// reconnects by itself when it comes back.
//
// Concurrency: the UpdateX methods read with SELECT … FOR NO KEY UPDATE
// (the row lock of an UPDATE that changes no key, which unlike FOR UPDATE
// does not block inserting rows that refer to the locked one) and hold it
// to the commit, so updaters of one record on any replica are serialised.
// UpdateSession, on every refresh, is optimistic first: it writes in one
// statement that applies only if the row still holds what fn was given
// (a compare-and-swap of the whole row), reruns fn on the current row
// when it does not, and takes the row lock after a few lost rounds.
// RevokeSessions locks the sessions it will revoke in id order before
// changing them. Transactions failing with a serialization failure or a
// deadlock are retried. Revocation sequence numbers come from a one-row
// counter so that they commit in order: see insertRevocations for why a
// SEQUENCE would let a cursor follower miss rows.
//
// Revocations also NOTIFY the channel actas_revocations in their
// transaction; DB implements actas.RevocationNotifier so that issuer
// syncs as soon as another replica revokes (see notify.go).
//
// Times are BIGINT Unix milliseconds in UTC with 0 for the zero time,
// exactly as in package sqlite. Both run the conformance suite in package
// storetest.
package postgres
