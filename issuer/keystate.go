package issuer

import (
	"time"

	"github.com/actas-dev/actas"
)

// Which key signs now: the one rule, over stored keys, that the issuer
// signs by (keySet.signer), that key withdrawal decides replacements by
// and that `actas keys list` reports states by (KeyStates).

// keySince is when a stored key starts (or started) signing.
func keySince(k *actas.SigningKey) time.Time {
	if k.ActivateAt.IsZero() {
		return k.CreatedAt
	}
	return k.ActivateAt
}

// storedSigner returns the key of use and alg that signs at now, or nil:
// among keys already activated and not withdrawn, the one activated last.
// A key published ahead of its activation (a "next" key) does not sign
// until its time comes, and a retired key never outlives its successor's
// activation; a replacement wins a tie with the key it replaced.
func storedSigner(keys []*actas.SigningKey, use, alg string, now time.Time) *actas.SigningKey {
	var best *actas.SigningKey
	for _, k := range keys {
		if k.Use != use || k.Alg != alg || keySince(k).After(now) || k.State == actas.KeyWithdrawn {
			continue
		}
		if best == nil || keySince(k).After(keySince(best)) ||
			(keySince(k).Equal(keySince(best)) && best.State == actas.KeyRetired && k.State != actas.KeyRetired) {
			best = k
		}
	}
	return best
}

// KeyStateExpired is the state KeyStates reports for a retired key that
// has left JWKS.
const KeyStateExpired = "expired"

// KeyStates returns the state of each of a tenant's keys at now (by kid),
// by the rule the issuer signs with: "next" until it activates; "active"
// for the key that signs tokens of its use and algorithm; "retired" for
// older ones still published; "expired" once out of JWKS; "withdrawn" for
// a key taken out of service by keys retire.
func KeyStates(keys []*actas.SigningKey, now time.Time) map[string]string {
	st := make(map[string]string, len(keys))
	for _, k := range keys {
		switch {
		case k.State == actas.KeyWithdrawn:
			st[k.KID] = actas.KeyWithdrawn
		case keySince(k).After(now):
			st[k.KID] = actas.KeyNext
		case storedSigner(keys, k.Use, k.Alg, now) == k:
			st[k.KID] = actas.KeyActive
		case !k.RetireUntil.IsZero() && !k.RetireUntil.After(now):
			st[k.KID] = KeyStateExpired
		default:
			st[k.KID] = actas.KeyRetired
		}
	}
	return st
}
