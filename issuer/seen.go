package issuer

import (
	"crypto/sha256"
	"sync"

	"github.com/actas-dev/actas/token"
)

// seenCapacity bounds the verified-token cache: two generations of at most
// this many entries each. An entry (digest, kid, claims) takes about
// 0.7 KiB, so the cache holds at most about 11 MiB: at 2×32k entries it
// had added 40 MiB to the peak RSS of a mixed load.
//
// Only a token presented again while it is still cached is a hit: the
// refresh and expire of a recent response, an impersonator's tokens used
// repeatedly, introspection. A client that refreshes after an hour hits
// only if the server minted fewer than about 16k tokens in that hour.
const seenCapacity = 8 << 10

// seenTokens remembers the claims of tokens whose signature this issuer
// has made or checked, by the SHA-256 of the token's exact bytes, so that
// the token a client posts back (the access token of a refresh, the tokens
// of an expire) costs a hash instead of a signature verification: for
// ES256 a verification costs as much as the two signatures of a refresh.
//
// Only the signature check is skipped. The key named by kid is looked up
// and its trust re-checked on every hit (so a withdrawn key's tokens are
// refused at once), and the claims are validated, and revocation checked,
// as for any token. A hit needs the exact bytes of a token that carried a
// valid signature (SHA-256 is collision resistant), so it cannot be forged.
//
// Eviction is by generation: when the current map is full it becomes the
// previous one, and the one before is dropped. A hit in the previous
// generation is promoted, so live tokens survive while floods of new ones
// cost at most two maps.
type seenTokens struct {
	mu        sync.Mutex
	cur, prev map[[sha256.Size]byte]seenEntry
	capacity  int
}

type seenEntry struct {
	tenantID string
	kid      string
	claims   *token.Claims // never modified after insertion
}

func newSeenTokens(capacity int) *seenTokens {
	return &seenTokens{cur: make(map[[sha256.Size]byte]seenEntry), capacity: capacity}
}

func tokenDigest(raw string) [sha256.Size]byte {
	return sha256.Sum256([]byte(raw))
}

// get returns the entry of digest d, if it was recorded for tenantID.
func (s *seenTokens) get(d [sha256.Size]byte, tenantID string) (seenEntry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.cur[d]
	if !ok {
		if e, ok = s.prev[d]; ok {
			s.putLocked(d, e)
		}
	}
	if !ok || e.tenantID != tenantID {
		return seenEntry{}, false
	}
	return e, true
}

// put records that the token of digest d is signed by key kid of tenantID
// and carries claims c. c must not be modified afterwards.
func (s *seenTokens) put(d [sha256.Size]byte, tenantID, kid string, c *token.Claims) {
	s.mu.Lock()
	s.putLocked(d, seenEntry{tenantID: tenantID, kid: kid, claims: c})
	s.mu.Unlock()
}

func (s *seenTokens) putLocked(d [sha256.Size]byte, e seenEntry) {
	if len(s.cur) >= s.capacity {
		s.prev, s.cur = s.cur, make(map[[sha256.Size]byte]seenEntry, s.capacity/4)
	}
	s.cur[d] = e
}

// copyClaims returns a copy of c that a caller may modify without changing
// a cached entry (the slices and pointers it shares are never written).
func copyClaims(c *token.Claims) *token.Claims {
	cc := *c
	return &cc
}
