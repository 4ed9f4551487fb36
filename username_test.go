package actas

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCanonicalUsername(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"alice", "alice"},
		{"Alice", "alice"},
		{"ａｌｉｃｅ", "alice"},               // fullwidth: width-mapped
		{"caf\u00e9", "caf\u00e9"},       // NFC
		{"cafe\u0301", "caf\u00e9"},      // NFD composes
		{"\u212Aelvin", "kelvin"},        // Kelvin sign
		{"ÆSIR.Øresund", "æsir.øresund"}, // beyond ASCII
		{"alice李", "alice李"},             // Latin + Han
		{"山田たろう", "山田たろう"},               // Han + Hiragana
		{"김철수", "김철수"},                   // Hangul
		{"иван", "иван"},                 // Cyrillic alone
		{"user_1-x@example.com", "user_1-x@example.com"},
		{strings.Repeat("é", 128), strings.Repeat("é", 128)},
	} {
		got, err := CanonicalUsername(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("CanonicalUsername(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
		if n := NormalizeUsername(tc.in); n != tc.want {
			t.Errorf("NormalizeUsername(%q) = %q, want %q", tc.in, n, tc.want)
		}
		if !ValidUsername(tc.in) {
			t.Errorf("ValidUsername(%q) = false", tc.in)
		}
	}
}

func TestCanonicalUsernameRefuses(t *testing.T) {
	for _, tc := range []struct{ in, why string }{
		{"", "empty"},
		{"\u0430lice", "Cyrillic and Latin"},
		{"pаypal", "Latin and Cyrillic"},
		{"alice\u200b", "may not contain"},
		{"bob smith", "may not contain"},
		{"tab\there", "may not contain"},
		{"x\xffy", "UTF-8"},
		{strings.Repeat("a", 129), "longer than 128"},
		{strings.Repeat("é", 129), "longer than 128"},
		{"αlpha", "Greek and Latin"},
	} {
		_, err := CanonicalUsername(tc.in)
		var ue *UsernameError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("CanonicalUsername(%q) = %v, want an error saying %q", tc.in, err, tc.why)
		}
		if ValidUsername(tc.in) {
			t.Errorf("ValidUsername(%q) = true", tc.in)
		}
	}
}

// TestNormalizeUsernameLegacy: a name the profile refuses keeps the key
// it had before, so a user created before migration 00003 signs in.
func TestNormalizeUsernameLegacy(t *testing.T) {
	for in, want := range map[string]string{"Bob Smith": "bob smith", "alice\u200b": "alice\u200b"} {
		if got := NormalizeUsername(in); got != want {
			t.Errorf("NormalizeUsername(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzCanonicalUsername: the canonical form is a fixed point, within
// bounds, and NormalizeUsername agrees with it.
func FuzzCanonicalUsername(f *testing.F) {
	for _, s := range []string{"alice", "Ａlice", "cafe\u0301", "\u212A", "\u0430lice", "a\u200bb", "李alice", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := CanonicalUsername(s)
		if err != nil {
			return
		}
		if c == "" || utf8.RuneCountInString(c) > MaxUsernameLen || !utf8.ValidString(c) {
			t.Fatalf("CanonicalUsername(%q) = %q out of bounds", s, c)
		}
		if c2, err := CanonicalUsername(c); err != nil || c2 != c {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, c, c2, err)
		}
		if n := NormalizeUsername(s); n != c {
			t.Fatalf("NormalizeUsername(%q) = %q, CanonicalUsername %q", s, n, c)
		}
	})
}

func TestMayNameUser(t *testing.T) {
	for s, want := range map[string]bool{
		"alice": true, "Bob Smith": true, "ａｌｉｃｅ": true, "": false, "a\x00b": false,
		"a\nb": false, "x\xffy": false, strings.Repeat("a", MaxUsernameBytes+1): false,
	} {
		if got := MayNameUser(s); got != want {
			t.Errorf("MayNameUser(%q) = %v, want %v", s, got, want)
		}
	}
}
