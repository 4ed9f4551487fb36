package actas

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/secure/precis"
)

// Usernames have one canonical form, the identity of an account: the
// PRECIS UsernameCaseMapped profile of RFC 8265 (width mapping, case
// mapping, NFC, and the IdentifierClass repertoire), so that "Alice",
// "ａｌｉｃｅ" and "alice" are one account, "café" is one account
// whether it arrives composed (NFC) or decomposed (NFD), and invisible
// characters such as U+200B never make a second one. Every place a
// username is stored, looked up, throttled or compared uses it.
//
// At creation a name must also stay within Unicode TS #39's "highly
// restrictive" level: one script, or Latin with Han and Hiragana/Katakana,
// Bopomofo or Hangul (the ways Japanese, Chinese and Korean names are
// written). "аlice" with a Cyrillic а is refused; "alice李" is fine.
//
// This is the one root file that imports outside the standard library:
// golang.org/x/text is the Go project's own extension of it, and the
// stores need the canonical form to key their unique index.

// MaxUsernameBytes bounds a username's bytes before mapping: 128
// characters of at most four bytes each.
const MaxUsernameBytes = 4 * MaxUsernameLen

// UsernameError says why a name cannot be a username. Its message is for
// the person choosing the name.
type UsernameError struct{ Reason string }

func (e *UsernameError) Error() string { return "invalid username: " + e.Reason }

// CanonicalUsername returns the canonical form of a new username, or a
// *UsernameError saying why it is refused.
func CanonicalUsername(s string) (string, error) {
	if s == "" {
		return "", &UsernameError{"it is empty"}
	}
	if len(s) > MaxUsernameBytes || !utf8.ValidString(s) {
		return "", &UsernameError{"it is longer than 128 characters or not UTF-8"}
	}
	c, err := precis.UsernameCaseMapped.String(s)
	if err != nil || c == "" {
		return "", &UsernameError{"it has a character usernames may not contain (spaces, control, invisible or symbol characters; RFC 8265)"}
	}
	if n := utf8.RuneCountInString(c); n > MaxUsernameLen {
		return "", &UsernameError{"it is longer than 128 characters"}
	}
	if scripts := mixedScripts(c); scripts != "" {
		return "", &UsernameError{"it mixes the scripts " + scripts + " (only one script, or Latin with Han and Japanese kana, Bopomofo or Hangul)"}
	}
	return c, nil
}

// ValidUsername reports whether u may be the name of a new user.
func ValidUsername(u string) bool {
	_, err := CanonicalUsername(u)
	return err == nil
}

// MayNameUser reports whether s could be the name of a user, created now
// or before usernames were canonical: at most MaxUsernameBytes of UTF-8
// with no control characters (which no version of actas accepted, and
// which PostgreSQL text cannot hold in the case of NUL). Lookups skip
// other strings, which name nobody.
func MayNameUser(s string) bool {
	if s == "" || len(s) > MaxUsernameBytes || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// NormalizeUsername returns the key a username is looked up, throttled
// and kept unique by: its PRECIS UsernameCaseMapped form. A name the
// profile refuses cannot be created, but may belong to a user created
// before the profile was adopted (migration 00003); such a name keeps its
// old key, strings.ToLower, so that user can still sign in. The stores'
// unique index covers both kinds of key, so no two users share one, and
// `actas doctor` lists the users with such names.
func NormalizeUsername(u string) string {
	if len(u) <= MaxUsernameBytes {
		if c, err := precis.UsernameCaseMapped.String(u); err == nil && c != "" {
			return c
		}
	}
	return strings.ToLower(u)
}

// Script sets TS #39 "highly restrictive" allows beyond a single script.
var allowedScriptSets = [][]string{
	{"Latin", "Han", "Hiragana", "Katakana"},
	{"Latin", "Han", "Bopomofo"},
	{"Latin", "Han", "Hangul"},
}

// scriptNames lists the Unicode scripts other than Common and Inherited,
// with Latin first (it is the script of most usernames).
var scriptNames = func() []string {
	var out []string
	for name := range unicode.Scripts {
		if name != "Common" && name != "Inherited" && name != "Latin" {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return append([]string{"Latin"}, out...)
}()

// mixedScripts returns "" if s is within the highly restrictive level,
// else the scripts it mixes, joined with " and ".
func mixedScripts(s string) string {
	var set []string
	for _, r := range s {
		name := scriptOf(r)
		if name != "" && !slices.Contains(set, name) {
			set = append(set, name)
		}
	}
	if len(set) <= 1 {
		return ""
	}
	for _, allowed := range allowedScriptSets {
		within := true
		for _, name := range set {
			within = within && slices.Contains(allowed, name)
		}
		if within {
			return ""
		}
	}
	return strings.Join(set, " and ")
}

// scriptOf returns the Script property of r, or "" for Common and
// Inherited characters (digits, punctuation, combining marks), which
// belong with any script.
func scriptOf(r rune) string {
	switch {
	case r < utf8.RuneSelf:
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' {
			return "Latin"
		}
		return ""
	case unicode.Is(unicode.Common, r), unicode.Is(unicode.Inherited, r):
		return ""
	}
	for _, name := range scriptNames {
		if unicode.Is(unicode.Scripts[name], r) {
			return name
		}
	}
	return "Unknown"
}

// UsernameCollision is a set of users of one tenant whose names have one
// canonical form: created before usernames were canonical, they would now
// be one account. Migration 00003 refuses to run while any exists, and
// `actas doctor` lists them.
type UsernameCollision struct {
	Tenant    string   // the tenant's name
	Key       string   // the canonical form they share
	UserIDs   []string // the users, in the order of Usernames
	Usernames []string
}
