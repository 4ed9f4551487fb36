package token

import "testing"

// A kid is an argument of `actas keys retire`: it must never look like a
// flag. Of 2,000 base64url ids about 31 would start with '-' or '_'.
func TestKIDStartsWithLetterOrDigit(t *testing.T) {
	for range 2000 {
		kid := newKID()
		if len(kid) != 22 {
			t.Fatalf("kid %q: want 22 characters (16 bytes)", kid)
		}
		if c := kid[0]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			t.Fatalf("kid %q starts with %q", kid, c)
		}
	}
}
