package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// Past maxStmts distinct queries the cache prepares nothing more: the
// caller runs the query as text, and no statement is left open that
// nobody would close.
func TestStmtCacheBounded(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := range maxStmts + 50 {
		var got int
		if err := db.readRow(ctx, fmt.Sprintf("SELECT %d + ?", i), 1).Scan(&got); err != nil || got != i+1 {
			t.Fatalf("query %d: %d, %v", i, got, err)
		}
	}
	db.gc.stmts.mu.Lock()
	n := len(db.gc.stmts.m)
	db.gc.stmts.mu.Unlock()
	if n > maxStmts {
		t.Fatalf("%d statements cached, bound %d", n, maxStmts)
	}
	if s := db.prepared(ctx, db.r, "SELECT 'one more'"); s != nil {
		t.Fatal("a statement was handed out past the bound; nobody would close it")
	}
	if open := db.r.Stats().OpenConnections; open == 0 {
		t.Fatal("no reader connection: the test did not run queries")
	}
}
