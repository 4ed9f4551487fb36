// Package sqlrow holds the row layer that the sqlite and postgres stores
// share: for each table, its column list, the function that scans a row
// into a domain value, the function that turns a value into statement
// arguments, and the codecs for times, blobs and lists.
//
// One file per table: tenant.go, apikey.go, signingkey.go, session.go
// (sessions and refresh tokens), revocation.go, audit.go, user.go,
// group.go, oauth.go; codec.go has the codecs, Scanner, Rows and Collect;
// wrap.go the error wrapping around a store's own mapping and the LIMIT
// clause. Statements are built from these lists with the store's
// placeholders (SetList takes the driver's placeholder function).
//
// The refresh generation is INTEGER in both schemas, which is 64 bits in
// SQLite and 32 in PostgreSQL. Both stores scan and write it as int64 and
// refuse, through Generation, a value outside PostgreSQL's range, so the
// two keep the same generations and neither wraps one silently.
//
// What differs between the databases stays in their own packages:
// opening, transactions, error mapping, placeholders, locking SQL, group
// commit, the statement cache and notifications.
package sqlrow
