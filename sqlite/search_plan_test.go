package sqlite

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/actas-dev/actas/internal/sqlrow"
)

// TestSearchUsesIndexes: every branch of the user search reads an index
// range (SEARCH … USING INDEX), none scans the users table.
func TestSearchUsesIndexes(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "actas.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, after := range []string{"", "bob"} {
		q, args := searchQuery("t", "ann", after, 100)
		rows, err := db.r.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		all := strings.Join(plan, "\n")
		if strings.Contains(all, "SCAN users") {
			t.Errorf("after %q: the plan scans users:\n%s", after, all)
		}
		// Each branch reads its own key's range, not the whole tenant.
		for _, f := range sqlrow.SearchFields {
			if !strings.Contains(all, "(tenant_id=? AND "+f+">? AND "+f+"<?)") {
				t.Errorf("after %q: no range search on %s:\n%s", after, f, all)
			}
		}
	}
}
