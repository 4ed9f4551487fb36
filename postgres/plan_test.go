package postgres_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/actas-dev/actas/postgres"
)

// TestRevokeTreeIsIndexed: finding a session's children must use the
// sessions_parent index however large the table. parent_id is ” in all
// but impersonation sessions, and a recursive query over it was planned
// as a scan of the whole table (5 s at 2M sessions, so every expire timed
// out). The plan is checked, not the time, on a table of 50,000 sessions
// with a few children, analyzed as autovacuum would.
func TestRevokeTreeIsIndexed(t *testing.T) {
	dsn := freshSchema(t)
	mustOpen(t, dsn).Close() // migrate
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range []string{
		// Foreign keys are not the point here; the test database's user
		// is a superuser, as in CI.
		`SET session_replication_role = replica`,
		`INSERT INTO sessions SELECT 's' || i, 'ten', 'u' || (i % 100), 0, 1e15, 0, 0, '', '', '', true, 0, 0,
			CASE WHEN i % 5000 = 1 THEN 'u0' ELSE '' END,
			CASE WHEN i % 5000 = 1 THEN 's' || (i - 1) ELSE '' END, '', 0
			FROM generate_series(1, 50000) AS i`,
		`ANALYZE sessions`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var children []string
	rows, _ := conn.Query(ctx, strings.Replace(postgres.ChildrenQuery, "FOR NO KEY UPDATE", "", 1), []string{"s5000"}, "ten")
	children, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(children) != 1 || children[0] != "s5001" {
		t.Fatalf("children of s5000: %v, %v; want [s5001]", children, err)
	}
	var plan []map[string]any
	if err := conn.QueryRow(ctx, `EXPLAIN (FORMAT JSON) `+postgres.ChildrenQuery, []string{"s5000"}, "ten").Scan(&plan); err != nil {
		t.Fatal(err)
	}
	text, _ := json.Marshal(plan)
	if strings.Contains(string(text), `"Seq Scan"`) || !strings.Contains(string(text), "sessions_parent") {
		t.Fatalf("the children of a session are not found through sessions_parent:\n%s", text)
	}
}
