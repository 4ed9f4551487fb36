package main

import (
	"testing"
	"time"
)

func TestHistQuantiles(t *testing.T) {
	var h hist
	for i := 1; i <= 10000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 5 * time.Millisecond}, {0.99, 9900 * time.Microsecond}, {0.999, 9990 * time.Microsecond}} {
		got := h.Quantile(c.q)
		if d := float64(got-c.want) / float64(c.want); d < -0.02 || d > 0.02 {
			t.Errorf("q%.3f = %v, want %v within 2%%", c.q, got, c.want)
		}
	}
	if h.Max() != 10*time.Millisecond {
		t.Errorf("max = %v", h.Max())
	}
	for v := uint64(0); v < 1<<40; v = v*3/2 + 1 {
		i := histIndex(v)
		if hv := histValue(i); hv < v || (v > 128 && float64(hv-v)/float64(v) > 1.0/64) {
			t.Fatalf("value %d -> bucket %d -> %d", v, i, hv)
		}
	}
}
