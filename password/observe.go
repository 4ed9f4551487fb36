package password

import (
	"context"
	"time"
)

// Observer receives how long callers wait for a hashing slot, for
// metrics. Its fields are optional.
type Observer struct {
	// Wait is called once per Hash or Verify with the time spent waiting
	// for a slot (zero when one was free) and the outcome: nil, ErrBusy
	// (queue full or waited too long) or the context's error.
	Wait func(d time.Duration, err error)
}

// SetObserver installs o. It may be called while the Hasher is in use.
func (h *Hasher) SetObserver(o Observer) { h.obs.Store(&o) }

// Running returns how many hashes are running now.
func (h *Hasher) Running() int { return len(h.slots) }

// Limits returns how many hashes may run at once and how many callers
// may wait beyond those.
func (h *Hasher) Limits() (concurrency, queue int) {
	return cap(h.slots), cap(h.queue) - cap(h.slots)
}

func (h *Hasher) acquire(ctx context.Context) error {
	o := h.obs.Load()
	if o == nil || o.Wait == nil {
		return h.queueSlot(ctx)
	}
	start := time.Now()
	err := h.queueSlot(ctx)
	o.Wait(time.Since(start), err)
	return err
}
