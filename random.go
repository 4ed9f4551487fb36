package actas

import "crypto/rand"

// The one random-string helper: ids, secrets and passwords made of
// letters and digits.

const (
	alnum      = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"
)

// RandomLower returns n random lowercase letters and digits, each
// equally likely, from crypto/rand.
func RandomLower(n int) string { return randomString(lowerAlnum, n) }

func randomString(alphabet string, n int) string {
	b := make([]byte, n)
	// Rejection sampling keeps every character equally likely.
	limit := byte(256 - 256%len(alphabet))
	var buf [64]byte
	for i := 0; i < n; {
		_, _ = rand.Read(buf[:])
		for _, c := range buf {
			if c < limit && i < n {
				b[i] = alphabet[int(c)%len(alphabet)]
				i++
			}
		}
	}
	return string(b)
}
