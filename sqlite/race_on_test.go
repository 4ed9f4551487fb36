//go:build race

package sqlite

// raceEnabled: the race detector slows the C-to-Go SQLite down tenfold.
const raceEnabled = true
