package token

import (
	"bytes"
	"testing"
)

// TestDerive: the same master key, label and data give the same bytes on
// every Sealer (every replica); another master key, label or split of the
// data gives others.
func TestDerive(t *testing.T) {
	k1, k2 := bytes.Repeat([]byte{1}, MasterKeySize), bytes.Repeat([]byte{2}, MasterKeySize)
	a, _ := NewSealer(k1)
	b, _ := NewSealer(k1)
	c, _ := NewSealer(k2)
	x := a.Derive("use", []byte("ab"), []byte("c"))
	if len(x) != 32 {
		t.Fatalf("len = %d", len(x))
	}
	if !bytes.Equal(x, b.Derive("use", []byte("ab"), []byte("c"))) {
		t.Error("two sealers of one master key derive differently")
	}
	for name, y := range map[string][]byte{
		"another master key": c.Derive("use", []byte("ab"), []byte("c")),
		"another label":      a.Derive("other", []byte("ab"), []byte("c")),
		"another split":      a.Derive("use", []byte("a"), []byte("bc")),
	} {
		if bytes.Equal(x, y) {
			t.Errorf("%s derives the same bytes", name)
		}
	}
}
