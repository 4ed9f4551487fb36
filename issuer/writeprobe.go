package issuer

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/actas-dev/actas"
)

// WriteProbe is the readiness check of writes: a server whose store reads
// but cannot commit (a full disk, a read-only file system or database, a
// PostgreSQL standby or one in recovery) cannot sign anyone in, so it
// must tell its load balancer it is not ready, and tell it again that it
// is, by itself, once writes commit again.
//
// Check writes (actas.WriteProber) at most once per Every while writes
// work and once per FailingEvery while they fail, however often readiness
// is asked; between probes it answers the last outcome. It is safe for
// concurrent use.
type WriteProbe struct {
	Store        actas.WriteProber
	Every        time.Duration // default 2 s
	FailingEvery time.Duration // default 1 s

	mu  sync.Mutex // held while probing: one probe at a time
	at  time.Time  // when the last probe ended (monotonic)
	err error
}

// Check reports whether the last probe write committed, probing first if
// the last one is due.
func (p *WriteProbe) Check(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	every := p.Every
	if every <= 0 {
		every = 2 * time.Second
	}
	if p.err != nil {
		every = p.FailingEvery
		if every <= 0 {
			every = time.Second
		}
	}
	if !p.at.IsZero() && time.Since(p.at) < every {
		return p.err
	}
	err := p.Store.ProbeWrite(ctx, time.Now())
	if err != nil {
		err = fmt.Errorf("writes fail: %w", err)
	}
	p.at, p.err = time.Now(), err
	return err
}
