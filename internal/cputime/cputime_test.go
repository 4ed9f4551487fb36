package cputime

import (
	"crypto/sha256"
	"testing"
)

func TestProcessGrowsWithWork(t *testing.T) {
	if !Supported {
		t.Skip("no CPU time on this platform")
	}
	start := Process()
	b := make([]byte, 1<<20)
	for range 200 {
		s := sha256.Sum256(b)
		b[0] = s[0]
	}
	if d := Process() - start; d <= 0 {
		t.Errorf("CPU time grew by %v over 200 MiB of hashing", d)
	}
}
