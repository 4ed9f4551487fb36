package password

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// Policy bounds on a new password (SPEC §8).
const (
	DefaultMinLength = 8
	MinMinLength     = 8
	MaxMinLength     = 128
	MaxBytes         = 256
)

// commonList is the 10,000 most common passwords, one a line; see
// commonpasswords/README.md for its source and licence.
//
//go:embed commonpasswords/top10000.txt
var commonList string

var common = sync.OnceValue(func() map[string]struct{} {
	m := make(map[string]struct{}, 10000)
	for _, l := range strings.Split(commonList, "\n") {
		if l = strings.TrimRight(l, "\r"); l != "" {
			m[strings.ToLower(l)] = struct{}{}
		}
	}
	return m
})

// IsCommon reports whether pw is one of the shipped common passwords,
// compared case-insensitively.
func IsCommon(pw string) bool {
	_, ok := common()[strings.ToLower(pw)]
	return ok
}

// PolicyError is a password refused by the policy; its text names the
// rule it breaks and is safe to show to the user.
type PolicyError struct{ Rule string }

func (e *PolicyError) Error() string { return e.Rule }

// Policy is a tenant's password policy.
type Policy struct {
	MinLength int // in characters; below MinMinLength counts as the default
}

// Min is the policy's minimum length in characters: MinLength, or the
// default where it is below the bound (unset).
func (p Policy) Min() int {
	if p.MinLength < MinMinLength {
		return DefaultMinLength
	}
	return p.MinLength
}

// ErrIsUsername is the rule broken by a password equal to the username.
var ErrIsUsername = &PolicyError{"Password must not be the username"}

// Check returns a *PolicyError if pw may not be set for the user named
// username (compared case-insensitively), else nil. The rules run from the
// cheapest; the message names the first one broken.
func (p Policy) Check(pw, username string) error {
	min := p.Min()
	switch {
	case len(pw) > MaxBytes:
		return &PolicyError{fmt.Sprintf("Password must be at most %d bytes", MaxBytes)}
	case !utf8.ValidString(pw):
		return &PolicyError{"Password must be valid UTF-8"}
	case utf8.RuneCountInString(pw) < min:
		return &PolicyError{fmt.Sprintf("Password must be at least %d characters", min)}
	case username != "" && strings.EqualFold(pw, username):
		return ErrIsUsername
	case IsCommon(pw):
		return &PolicyError{"Password is too common: it is one of the 10,000 most common passwords"}
	}
	return nil
}
