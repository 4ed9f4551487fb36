// Package sqlrow holds the row layer that the sqlite and postgres stores
// share: for each table, its column list, the function that scans a row
// into a domain value, the function that turns a value into statement
// arguments, and the codecs for times, blobs and lists.
//
// What differs between the databases stays in their own packages:
// opening, transactions, error mapping, placeholders, locking SQL, group
// commit, the statement cache and notifications.
package sqlrow
