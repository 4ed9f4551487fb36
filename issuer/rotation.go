package issuer

import (
	"encoding/base64"
	"strconv"
	"time"

	"github.com/actas-dev/actas"
)

// Refresh token rotation that never forks a session (RFC 9700 §4.14.2:
// one live refresh token per session). The successor of a refresh token
// is not drawn at random but derived from it under a key of the master
// key: HMAC(k, session id, generation, presented token). So every
// refresh of one token, on any replica, at once or as a retry within the
// grace period, arrives at the same successor, and only its hash is
// stored (once, by the refresh that advanced the generation). A thief
// replaying the previous token within the grace gets the very token the
// client holds, not a branch of its own; whichever of them rotates next
// makes the other's token a reuse, which revokes the session.

// successorLabel names this use of the master key (token.Sealer.Derive).
const successorLabel = "actas refresh successor v1"

// successorToken returns the refresh token that succeeds presented as
// generation gen of session sessionID, and its stored form.
func (i *Issuer) successorToken(sessionID string, gen int, presented string, now time.Time) (string, *actas.RefreshToken) {
	b := i.sealer.Derive(successorLabel, []byte(sessionID), []byte(strconv.Itoa(gen)), []byte(presented))
	s := base64.RawURLEncoding.EncodeToString(b)
	return s, &actas.RefreshToken{Hash: hashSecret(s), SessionID: sessionID, Generation: gen, CreatedAt: now}
}
