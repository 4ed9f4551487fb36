package actas

import (
	"context"
	"time"
)

// WriteProber is the storage role behind readiness: a server that cannot
// commit a write (a full disk, a read-only file system or database, a
// database in recovery) must say so on /readyz, however well it still
// reads.
type WriteProber interface {
	// ProbeWrite commits one small write to a row kept for the purpose
	// (overwritten each time, so it never grows) and returns nil once it
	// is durable, or the error any other write would get now (wrapping
	// ErrUnavailable for a fault that may pass).
	ProbeWrite(ctx context.Context, at time.Time) error
}
