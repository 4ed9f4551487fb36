package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/actas-dev/actas"
)

var probeTests = []test{
	{"ProbeWriteRepeats", testProbeWriteRepeats},
	{"ProbeWriteCancelled", testProbeWriteCancelled},
}

// testProbeWriteRepeats: the readiness probe write succeeds on a working
// store however often it runs, and changes nothing another method sees
// (not even the config version that servers' caches follow).
func testProbeWriteRepeats(t *testing.T, s actas.Store) {
	ctx := t.Context()
	v0, err := s.ConfigVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for n := range 5 {
		if err := s.ProbeWrite(ctx, at(time.Duration(n)*time.Second)); err != nil {
			t.Fatalf("probe write %d: %v", n, err)
		}
	}
	if v, err := s.ConfigVersion(ctx); err != nil || v != v0 {
		t.Errorf("config version after probes = %d, %v; want %d", v, err, v0)
	}
	if ts, err := s.Tenants(ctx); err != nil || len(ts) != 0 {
		t.Errorf("tenants after probes = %d, %v", len(ts), err)
	}
}

// testProbeWriteCancelled: a probe with a cancelled context fails, and
// the store keeps working afterwards.
func testProbeWriteCancelled(t *testing.T, s actas.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.ProbeWrite(ctx, base); err == nil {
		t.Error("probe write with a cancelled context succeeded")
	} else if errors.Is(err, actas.ErrNotFound) || errors.Is(err, actas.ErrConflict) {
		t.Errorf("cancelled probe write = %v", err)
	}
	if err := s.ProbeWrite(t.Context(), base); err != nil {
		t.Errorf("probe write after a cancelled one: %v", err)
	}
}
