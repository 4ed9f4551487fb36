package issuer

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/actas-dev/actas"
)

type probeStore struct {
	err   error
	calls int
}

func (s *probeStore) ProbeWrite(context.Context, time.Time) error { s.calls++; return s.err }

// TestWriteProbeRateLimited: readiness asked a hundred times writes once
// per interval, reports a failing write at its next probe, and reports
// recovery by itself at the probe after writes work again.
func TestWriteProbeRateLimited(t *testing.T) {
	s := &probeStore{}
	p := &WriteProbe{Store: s, Every: 40 * time.Millisecond, FailingEvery: 20 * time.Millisecond}
	ctx := context.Background()
	for range 100 {
		if err := p.Check(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if s.calls != 1 {
		t.Fatalf("100 checks made %d probe writes, want 1", s.calls)
	}
	s.err = actas.ErrUnavailable
	if err := p.Check(ctx); err != nil {
		t.Fatalf("check before the next probe is due = %v, want the last outcome (nil)", err)
	}
	time.Sleep(45 * time.Millisecond)
	if err := p.Check(ctx); !errors.Is(err, actas.ErrUnavailable) {
		t.Fatalf("check after writes began failing = %v", err)
	}
	s.err = nil
	time.Sleep(25 * time.Millisecond)
	if err := p.Check(ctx); err != nil {
		t.Fatalf("check after writes work again = %v", err)
	}
	if s.calls != 3 {
		t.Errorf("probe writes = %d, want 3", s.calls)
	}
}
