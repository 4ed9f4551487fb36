package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ChildrenQuery is the statement RevokeSessions walks the session tree
// with, for TestRevokeTreeIsIndexed.
const ChildrenQuery = childrenQuery

// UnavailableCode is the SQLSTATE classification, for TestUnavailableCodes.
var UnavailableCode = unavailableCode

// OpenTraced is Open with tr tracing every connection's statements.
func OpenTraced(ctx context.Context, dsn string, tr pgx.QueryTracer) (*DB, error) {
	return open(ctx, dsn, func(c *pgxpool.Config) { c.ConnConfig.Tracer = tr })
}
