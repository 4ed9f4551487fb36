package issuer

import (
	"strings"
	"unicode/utf8"
)

// truncate bounds a client-given string that is stored or logged (a user
// agent, a username in an audit event) to at most n bytes of valid UTF-8:
// invalid bytes become U+FFFD (a text column of PostgreSQL refuses them),
// and the cut falls on a character boundary.
func truncate(s string, n int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
