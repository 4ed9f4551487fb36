package issuer

import (
	"testing"
	"unicode/utf8"
)

func TestTruncateKeepsValidUTF8(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"curl/8.0", 512, "curl/8.0"},
		{"abcdef", 3, "abc"},
		{"ab€", 4, "ab"},           // € is 3 bytes: no half of it
		{"ab€", 5, "ab€"},          // exactly fits
		{"a\xffb", 10, "a\uFFFDb"}, // invalid bytes replaced
		{"\xff\xfe", 3, "\uFFFD"},  // one replacement (3 bytes) fits
		{"é", 1, ""},
	} {
		got := truncate(c.in, c.n)
		if got != c.want || !utf8.ValidString(got) || len(got) > c.n {
			t.Errorf("truncate(%q, %d) = %q; want %q", c.in, c.n, got, c.want)
		}
	}
}
