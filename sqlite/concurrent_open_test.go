package sqlite

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
)

// Processes starting together on a new database file all open it: the
// migration race is retried, not reported.
func TestConcurrentOpenOfANewFile(t *testing.T) {
	for round := range 5 {
		path := filepath.Join(t.TempDir(), "new.db")
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() {
				db, err := Open(context.Background(), path)
				if err == nil {
					db.Close()
				}
				errs[i] = err
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, opener %d: %v", round, i, err)
			}
		}
	}
}
