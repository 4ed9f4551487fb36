package password

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCommonListShipped(t *testing.T) {
	if n := len(common()); n < 9900 || n > 10000 {
		t.Fatalf("common list has %d entries, want the 10,000 most common (case-folded)", n)
	}
	for _, pw := range []string{"123456", "password", "qwerty", "iloveyou", "PASSWORD", "Dragon"} {
		if !IsCommon(pw) {
			t.Errorf("IsCommon(%q) = false", pw)
		}
	}
	if IsCommon("correct horse battery staple 9") {
		t.Error("an uncommon password is common")
	}
}

// TestPolicyRules checks each rule alone, in the words a user sees.
func TestPolicyRules(t *testing.T) {
	p := Policy{MinLength: 10}
	for _, c := range []struct {
		pw, user, want string
	}{
		{"short-9ch", "alice", "Password must be at least 10 characters"},
		{"ééééééééé", "alice", "Password must be at least 10 characters"}, // 9 characters, 18 bytes
		{strings.Repeat("x", 257), "alice", "Password must be at most 256 bytes"},
		{"Alice.Example", "alice.example", "Password must not be the username"},
		{"ALICE.EXAMPLE", "Alice.Example", "Password must not be the username"},
		{"1234567890", "alice", "Password is too common: it is one of the 10,000 most common passwords"},
		{"PASSWORD123", "alice", "Password is too common: it is one of the 10,000 most common passwords"},
		{"a\xffbcdefghijk", "alice", "Password must be valid UTF-8"},
		{"correct-horse-9", "alice", ""},
		{strings.Repeat("é", 128), "alice", ""}, // 256 bytes
		{"éééééééééé", "alice", ""},             // 10 characters
	} {
		err := p.Check(c.pw, c.user)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("Check(%.20q, %q) = %q, want %q", c.pw, c.user, got, c.want)
		}
	}
}

func TestPolicyDefaultMinLength(t *testing.T) {
	for _, min := range []int{0, 3, 7} {
		if err := (Policy{MinLength: min}).Check("seven-7", "u"); err == nil || err.Error() != "Password must be at least 8 characters" {
			t.Errorf("MinLength %d: %v, want the default of 8", min, err)
		}
	}
	if err := (Policy{}).Check("eight-88", "u"); err != nil {
		t.Errorf("8 characters: %v", err)
	}
}

// FuzzPolicy: Check never panics, refuses only with a *PolicyError, and
// what it accepts is within the bounds it states.
func FuzzPolicy(f *testing.F) {
	f.Add("correct-horse-9", "alice", 8)
	f.Add("password", "p", 8)
	f.Add("\xff\xfe", "", 128)
	f.Add(strings.Repeat("a", 300), "a", 12)
	f.Fuzz(func(t *testing.T, pw, user string, min int) {
		p := Policy{MinLength: min}
		err := p.Check(pw, user)
		if err != nil {
			if _, ok := err.(*PolicyError); !ok {
				t.Fatalf("error %T, want *PolicyError", err)
			}
			return
		}
		want := min
		if want < MinMinLength {
			want = DefaultMinLength
		}
		if len(pw) > MaxBytes || !utf8.ValidString(pw) || utf8.RuneCountInString(pw) < want ||
			(user != "" && strings.EqualFold(pw, user)) || IsCommon(pw) {
			t.Fatalf("accepted %q for %q (min %d)", pw, user, min)
		}
	})
}
