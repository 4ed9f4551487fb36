// Command size-none is size-modernc without a driver: the baseline that
// the two size programs' sizes are compared to.
package main

import (
	"database/sql"
	"fmt"
	"os"
)

func main() {
	db, err := sql.Open("none", ":memory:")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(db.Ping())
}
