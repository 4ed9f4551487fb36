package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
)

// What operators need beyond the Store: pool statistics and a check that
// the database file is still the one this process writes to.

// Pools returns the connection pools of the database by role, for
// metrics (database/sql pool statistics): "writer", the single write
// connection, and "reader", the read-only connections.
func (db *DB) Pools() map[string]*sql.DB {
	return map[string]*sql.DB{"writer": db.w, "reader": db.r}
}

// ErrFileReplaced means the database path no longer names the file this
// process has open: it was deleted, moved or replaced. Open connections
// keep working on the old file, so Ping succeeds, but every write goes to
// a file nobody will find again; the process must be restarted.
var ErrFileReplaced = errors.New("the database file was deleted or replaced while open")

// CheckFile reports whether the database path still names the file that
// was opened.
func (db *DB) CheckFile() error {
	if db.file == nil {
		return nil
	}
	fi, err := os.Stat(db.path)
	if errors.Is(err, os.ErrNotExist) {
		return ErrFileReplaced
	} else if err != nil {
		return fmt.Errorf("check database file: %w", err)
	}
	if !os.SameFile(fi, db.file) {
		return ErrFileReplaced
	}
	return nil
}
