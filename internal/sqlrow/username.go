package sqlrow

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/pressly/goose/v3"

	"github.com/actas-dev/actas"
)

// Migration 00003 of both stores: usernames are keyed by their PRECIS
// UsernameCaseMapped form (actas.NormalizeUsername) instead of
// strings.ToLower. Neither database can compute that form in SQL, so the
// data step is Go, run by goose as a Go migration inside the migration's
// transaction, once; this is that step, for both stores. It has no down
// step: the old keys could collide where the new ones do not.

// Migration00003 is the Go migration of a store: its own statements ddl
// first, then the rekey with its update statement (see RekeyUsernames).
func Migration00003(update string, ddl ...string) *goose.Migration {
	return goose.NewGoMigration(3, &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
		for _, q := range ddl {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return RekeyUsernames(ctx, tx, update)
	}}, nil)
}

// Querier is what a *sql.DB and a *sql.Tx both offer.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// rekey is a user whose key changes.
type rekey struct{ id, key string }

// scanUsernames reads every user, one tenant at a time (memory holds one
// tenant's names), and returns the collisions under the new key and the
// users whose key changes.
func scanUsernames(ctx context.Context, q Querier) ([]actas.UsernameCollision, []rekey, error) {
	rows, err := q.QueryContext(ctx, `SELECT t.name, u.tenant_id, u.id, u.username, u.username_key
		FROM users u JOIN tenants t ON t.id = u.tenant_id ORDER BY u.tenant_id, u.id`)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var (
		collisions []actas.UsernameCollision
		changes    []rekey
		tenant     string
		byKey      map[string]*actas.UsernameCollision
		order      []string
	)
	flush := func() {
		for _, k := range order {
			if c := byKey[k]; len(c.UserIDs) > 1 {
				collisions = append(collisions, *c)
			}
		}
		byKey, order = map[string]*actas.UsernameCollision{}, nil
	}
	flush()
	for rows.Next() {
		var name, tenantID, id, username, oldKey string
		if err := rows.Scan(&name, &tenantID, &id, &username, &oldKey); err != nil {
			return nil, nil, err
		}
		if tenantID != tenant {
			flush()
			tenant = tenantID
		}
		key := actas.NormalizeUsername(username)
		c := byKey[key]
		if c == nil {
			c = &actas.UsernameCollision{Tenant: name, Key: key}
			byKey[key] = c
			order = append(order, key)
		}
		c.UserIDs = append(c.UserIDs, id)
		c.Usernames = append(c.Usernames, username)
		if key != oldKey {
			changes = append(changes, rekey{id, key})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	flush()
	return collisions, changes, nil
}

// UsernameCollisions lists the users that migration 00003 would make one
// account. It reads only; it works on a database not yet migrated.
func UsernameCollisions(ctx context.Context, q Querier) ([]actas.UsernameCollision, error) {
	c, _, err := scanUsernames(ctx, q)
	return c, err
}

// RekeyUsernames is migration 00003's data step. update is the store's
// statement setting username_key (first argument) of the user with an id
// (second). It refuses, naming them, if two users would share a key: an
// operator decides which to keep, never the migration.
func RekeyUsernames(ctx context.Context, tx *sql.Tx, update string) error {
	collisions, changes, err := scanUsernames(ctx, tx)
	if err != nil {
		return err
	}
	if len(collisions) > 0 {
		return CollisionError(collisions)
	}
	// Two passes, so that no intermediate state breaks the unique index
	// (a key moving to where another is leaving): first to a key no
	// username can have (a leading space), then to the new one.
	for _, pass := range []func(rekey) string{
		func(r rekey) string { return " rekey " + r.id },
		func(r rekey) string { return r.key },
	} {
		for _, r := range changes {
			if _, err := tx.ExecContext(ctx, update, pass(r), r.id); err != nil {
				return err
			}
		}
	}
	return nil
}

// ErrUsernameCollision is wrapped by CollisionError: trying the migration
// again changes nothing until an operator acts.
var ErrUsernameCollision = errors.New("usernames collide")

// CollisionError describes collisions for an operator.
func CollisionError(cs []actas.UsernameCollision) error {
	var b strings.Builder
	for n, c := range cs {
		if n > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "tenant %q, %q:", c.Tenant, c.Key)
		for i := range c.UserIDs {
			fmt.Fprintf(&b, " %+q (%s)", c.Usernames[i], c.UserIDs[i]) // escaped: look-alikes differ visibly
		}
	}
	return fmt.Errorf("migration 00003: %w: %d sets of users would be one account under RFC 8265 (PRECIS UsernameCaseMapped); "+
		"delete all but one user of each (with the previous actas version, or in SQL; `actas doctor` lists them), then migrate again: %s",
		ErrUsernameCollision, len(cs), b.String())
}
