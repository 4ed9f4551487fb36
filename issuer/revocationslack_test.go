package issuer

import (
	"testing"
	"time"
)

// A revocation outlives its tokens' expiry by the verifiers' skew: a
// token is accepted up to 60 s after exp, so forgetting the revocation at
// exp would bring it back for that long.
func TestRevocationKeptThroughTheSkew(t *testing.T) {
	r := NewRevocations()
	exp := time.Unix(1_700_000_000, 0)
	r.Add("session-1", exp)
	r.Prune(exp.Add(59 * time.Second))
	if !r.Revoked("session-1") {
		t.Fatal("revocation forgotten within the skew after its tokens' exp")
	}
	r.Prune(exp.Add(RevocationSlack + time.Second))
	if r.Revoked("session-1") {
		t.Fatal("revocation kept past exp + slack: the set would grow without bound")
	}
}
