package token

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// Errors of Validate.
var (
	ErrExpired       = errors.New("token: expired")
	ErrInvalidClaims = errors.New("token: invalid claims")
)

// MaxSkew is the largest clock skew Validate allows (SPEC §4).
const MaxSkew = 60 * time.Second

// Token uses, the values of the token_use claim; equal to actas.KeyUseID
// and actas.KeyUseAccess, the use of the key that signs each.
const (
	UseID     = "id"
	UseAccess = "access"
)

// Actor is the "act" claim of an impersonated token (RFC 8693 §4.1): the
// admin acting as the subject.
type Actor struct {
	Sub      string `json:"sub"`
	Username string `json:"username"`
}

// Claims are the claims of actas ID and access tokens (SPEC §4), in the
// member order of the Cognito tokens they mirror.
type Claims struct {
	Sub             string   `json:"sub"`
	Aud             string   `json:"aud,omitempty"`   // ID token: clientId
	Email           *string  `json:"email,omitempty"` // ID token (always set by minting, may be "")
	EmailVerified   *bool    `json:"email_verified,omitempty"`
	EventID         string   `json:"event_id"`
	TokenUse        string   `json:"token_use"`       // "id" or "access"
	Scope           string   `json:"scope,omitempty"` // access token
	AuthTime        int64    `json:"auth_time"`
	Iss             string   `json:"iss"`
	CognitoUsername string   `json:"cognito:username,omitempty"` // ID token
	Exp             int64    `json:"exp"`
	Iat             int64    `json:"iat"`
	Nbf             int64    `json:"nbf,omitempty"`
	Jti             string   `json:"jti"`
	OriginJti       string   `json:"origin_jti"`
	ClientID        string   `json:"client_id,omitempty"` // access token
	Username        string   `json:"username,omitempty"`  // access token
	Groups          []string `json:"cognito:groups,omitempty"`
	Act             *Actor   `json:"act,omitempty"`
}

// UnmarshalJSON decodes claims as Parse does: names match exactly (not
// case-insensitively as encoding/json would), a repeated name is an error,
// and "aud" may be a string or a one-element array (RFC 7519 §4.1.3).
func (c *Claims) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	d, err := decodeClaims(b)
	if err != nil {
		return err
	}
	*c = *d
	return nil
}

func decodeClaims(b []byte) (*Claims, error) {
	c := new(Claims)
	err := decodeObject(b, func(name, v []byte) error {
		var err error
		switch string(name) {
		case "sub":
			err = decodeString(v, &c.Sub)
		case "aud":
			err = decodeAud(v, &c.Aud)
		case "email":
			err = decodeStringPtr(v, &c.Email)
		case "email_verified":
			err = decodeBoolPtr(v, &c.EmailVerified)
		case "event_id":
			err = decodeString(v, &c.EventID)
		case "token_use":
			err = decodeString(v, &c.TokenUse)
		case "scope":
			err = decodeString(v, &c.Scope)
		case "auth_time":
			err = decodeInt(v, &c.AuthTime)
		case "iss":
			err = decodeString(v, &c.Iss)
		case "cognito:username":
			err = decodeString(v, &c.CognitoUsername)
		case "exp":
			err = decodeInt(v, &c.Exp)
		case "iat":
			err = decodeInt(v, &c.Iat)
		case "nbf":
			err = decodeInt(v, &c.Nbf)
		case "jti":
			err = decodeString(v, &c.Jti)
		case "origin_jti":
			err = decodeString(v, &c.OriginJti)
		case "client_id":
			err = decodeString(v, &c.ClientID)
		case "username":
			err = decodeString(v, &c.Username)
		case "cognito:groups":
			err = json.Unmarshal(v, &c.Groups)
		case "act":
			err = decodeActor(v, &c.Act)
		default:
			return nil // unknown claims are allowed and ignored (RFC 7519 §4)
		}
		if err != nil {
			return fmt.Errorf("claim %q: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// decodeAud accepts "aud" as a string or an array of exactly one string.
// An actas token has one audience; with several, which one was meant is
// a question this package will not guess at.
func decodeAud(v []byte, aud *string) error {
	if v[0] != '[' {
		return decodeString(v, aud)
	}
	var a []json.RawMessage
	if err := json.Unmarshal(v, &a); err != nil {
		return err
	}
	if len(a) != 1 || a[0][0] != '"' {
		return errors.New("want a string or an array of one string")
	}
	return decodeString(a[0], aud)
}

// decodeActor decodes "act" with the same strictness as the top level:
// who acted is as security-relevant as who is acted for.
func decodeActor(v []byte, act **Actor) error {
	if isNull(v) {
		return nil
	}
	a := new(Actor)
	err := decodeObject(v, func(name, v []byte) error {
		switch string(name) {
		case "sub":
			return decodeString(v, &a.Sub)
		case "username":
			return decodeString(v, &a.Username)
		}
		return nil
	})
	if err != nil {
		return err
	}
	*act = a
	return nil
}

// The value decoders below get one complete, valid JSON value (decodeObject
// checked the whole document first). Like encoding/json, they leave the
// target untouched for null and refuse a value of another type.

func isNull(v []byte) bool { return string(v) == "null" }

func decodeString(v []byte, s *string) error {
	switch {
	case isNull(v):
		return nil
	case v[0] != '"':
		return errors.New("want a string")
	case bytes.IndexByte(v, '\\') < 0:
		// No escapes: the bytes between the quotes are the string (valid
		// JSON has no raw control characters, and UTF-8 was checked).
		*s = string(v[1 : len(v)-1])
		return nil
	}
	return json.Unmarshal(v, s)
}

func decodeStringPtr(v []byte, p **string) error {
	if isNull(v) {
		*p = nil
		return nil
	}
	s := new(string)
	if err := decodeString(v, s); err != nil {
		return err
	}
	*p = s
	return nil
}

func decodeBoolPtr(v []byte, p **bool) error {
	switch string(v) {
	case "null":
		*p = nil
	case "true", "false":
		b := v[0] == 't'
		*p = &b
	default:
		return errors.New("want a boolean")
	}
	return nil
}

// decodeInt reads an integer. Like encoding/json into an int64, it refuses
// fractions and exponents ("1.5", "1e9") and values out of range.
func decodeInt(v []byte, n *int64) error {
	if isNull(v) {
		return nil
	}
	i, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return errors.New("want an integer")
	}
	*n = i
	return nil
}

// maxLinearNames is how many member names decodeObject compares pairwise
// before it switches to a map; actas tokens have about 15.
const maxLinearNames = 32

// decodeObject checks that b is exactly one JSON object in valid UTF-8 and
// calls member once per member, in order, with the unescaped name and the
// raw value. A repeated name (after unescaping, so "s\u0075b" repeats
// "sub") is an error: RFC 7515 §5.2 and RFC 7519 §4 let a parser refuse
// duplicates, and since parsers disagree on which duplicate wins, refusing
// is the only safe answer. Names match exactly; encoding/json would also
// read "SUB" into a field tagged "sub".
//
// json.Valid runs first, so the scanner below walks a document known to be
// well formed; it still checks every index, so a mistake in it is an error,
// not a panic.
func decodeObject(b []byte, member func(name, value []byte) error) error {
	if !utf8.Valid(b) {
		return errors.New("invalid UTF-8")
	}
	if !json.Valid(b) {
		return errors.New("invalid JSON")
	}
	bad := errors.New("malformed object")
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return errors.New("not a JSON object")
	}
	i = skipSpace(b, i+1)
	var (
		linear [maxLinearNames][]byte
		names  = linear[:0]
		set    map[string]struct{}
	)
	for i < len(b) && b[i] != '}' {
		if b[i] != '"' {
			return bad
		}
		end := endOfString(b, i)
		if end < 0 {
			return bad
		}
		name := b[i+1 : end-1]
		if bytes.IndexByte(name, '\\') >= 0 {
			var s string
			if err := json.Unmarshal(b[i:end], &s); err != nil {
				return bad
			}
			name = []byte(s)
		}
		if set == nil && len(names) == maxLinearNames {
			set = make(map[string]struct{}, 2*maxLinearNames)
			for _, n := range names {
				set[string(n)] = struct{}{}
			}
		}
		if set != nil {
			if _, dup := set[string(name)]; dup {
				return errors.New("repeated member name")
			}
			set[string(name)] = struct{}{}
		} else {
			for _, n := range names {
				if bytes.Equal(n, name) {
					return errors.New("repeated member name")
				}
			}
			names = append(names, name)
		}

		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return bad
		}
		i = skipSpace(b, i+1)
		vend := endOfValue(b, i)
		if vend < 0 {
			return bad
		}
		if err := member(name, b[i:vend]); err != nil {
			return err
		}
		i = skipSpace(b, vend)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	if i >= len(b) || skipSpace(b, i+1) != len(b) {
		return bad
	}
	return nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// endOfString returns the index after the string starting at b[i] == '"',
// or -1.
func endOfString(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// endOfValue returns the index after the value starting at b[i], or -1.
func endOfValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return endOfString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				e := endOfString(b, j)
				if e < 0 {
					return -1
				}
				j = e - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(b) {
		switch b[j] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return j
		}
		j++
	}
	return j
}

// Expect is what Validate requires of the claims of one tenant's token.
type Expect struct {
	Issuer   string
	ClientID string // aud for ID tokens, client_id for access tokens
	TokenUse string // "id" or "access"
	Now      time.Time
	Skew     time.Duration // clamped to [0, MaxSkew]
	// AllowExpired skips the exp deadline (not its presence), for refresh
	// and expire, where an expired token of a live session is fine.
	AllowExpired bool
}

// Validate checks the claims of a token Parse returned against e (SPEC §4;
// RFC 7519 §4.1). Comparisons are exact. Times are whole seconds: the
// token is expired from exp + skew on, and not yet valid while nbf or iat
// is more than skew in the future. A failed check wraps ErrExpired or
// ErrInvalidClaims; an incomplete Expect is a programming error and wraps
// neither, so it cannot pass for a client's fault.
func (c *Claims) Validate(e Expect) error {
	switch {
	case e.Now.IsZero():
		return errors.New("token: validate: Expect.Now is zero")
	case e.Issuer == "":
		return errors.New("token: validate: Expect.Issuer is empty")
	case e.ClientID == "":
		return errors.New("token: validate: Expect.ClientID is empty")
	case e.TokenUse != UseID && e.TokenUse != UseAccess:
		return fmt.Errorf("token: validate: Expect.TokenUse %q is not %q or %q", e.TokenUse, UseID, UseAccess)
	}
	skew := int64(min(max(e.Skew, 0), MaxSkew) / time.Second)
	now := e.Now.Unix()

	bad := func(what string) error { return fmt.Errorf("%w: %s", ErrInvalidClaims, what) }
	switch {
	case c.Iss != e.Issuer:
		return bad("iss does not match")
	case c.TokenUse != e.TokenUse:
		return bad("token_use does not match")
	case e.TokenUse == UseID && c.Aud != e.ClientID:
		return bad("aud does not match")
	case e.TokenUse == UseAccess && c.ClientID != e.ClientID:
		return bad("client_id does not match")
	case c.Sub == "":
		return bad("sub is empty")
	case c.Jti == "":
		return bad("jti is empty")
	case c.OriginJti == "":
		return bad("origin_jti is empty")
	case c.Exp <= 0:
		return bad("exp is missing")
	case c.Iat <= 0:
		return bad("iat is missing")
	case c.Exp < c.Iat:
		return bad("exp is not after iat")
	case c.Iat > now+skew:
		return bad("iat is in the future")
	case c.Nbf != 0 && c.Nbf > now+skew:
		return bad("nbf is in the future")
	case !e.AllowExpired && c.Exp <= now-skew:
		return ErrExpired
	}
	return nil
}
