package main

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// revokeUsage checks the two forms of session revoke: one session by id,
// or every session of a tenant (--all) or of one user (--username).
func revokeUsage(args []string, tenant, username string, all bool) error {
	bad := func(msg string) error { return usageError{errors.New(msg)} }
	switch {
	case len(args) > 1:
		return bad("session revoke takes one session id")
	case len(args) == 1 && (tenant != "" || username != "" || all):
		return bad("session revoke: give a session id, or --tenant with --all or --username, not both")
	case len(args) == 1:
		return nil
	case tenant == "":
		return bad("session revoke: give a session id, or --tenant NAME with --all or --username U")
	case all && username != "":
		return bad("session revoke: --all and --username exclude each other")
	case !all && username == "":
		return bad("session revoke --tenant: say --all (every session of the tenant) or --username U")
	}
	return nil
}

// bulkTimeout bounds administrative operations that touch every session
// of a tenant.
const bulkTimeout = 10 * time.Minute

// revokeMany revokes every session of a tenant, or of one of its users.
func (m *Main) revokeMany(ctx context.Context, g *globals, e *env, tenant, username string) error {
	// A tenant can hold millions of sessions: give the one transaction
	// that revokes them all longer than a request's bound.
	ctx, cancel := context.WithTimeout(ctx, bulkTimeout)
	defer cancel()
	var n int
	var err error
	if username != "" {
		n, err = e.issuer.RevokeUserSessions(ctx, tenant, username)
	} else {
		n, err = e.issuer.RevokeTenantSessions(ctx, tenant)
	}
	if err != nil {
		return err
	}
	out := map[string]any{"tenant": tenant, "revoked": n}
	if username != "" {
		out["username"] = username
	}
	return m.emit(g, out, func() {
		if username != "" {
			fmt.Fprintf(m.Stdout, "tenant %s: %d sessions of user %s revoked\n", tenant, n, username)
		} else {
			fmt.Fprintf(m.Stdout, "tenant %s: %d sessions revoked\n", tenant, n)
		}
	})
}
