package verify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Actor is the "act" claim of an impersonated token (RFC 8693 §4.1): the
// operator acting as the subject.
type Actor struct {
	Sub      string `json:"sub"`
	Username string `json:"username"`
}

// Claims are the claims of an actas ID or access token.
type Claims struct {
	Sub             string   `json:"sub"`
	Aud             string   `json:"aud,omitempty"`   // ID token: the clientId
	Email           *string  `json:"email,omitempty"` // ID token
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
	OriginJti       string   `json:"origin_jti"`          // the session
	ClientID        string   `json:"client_id,omitempty"` // access token
	Username        string   `json:"username,omitempty"`  // access token
	Groups          []string `json:"cognito:groups,omitempty"`
	// Act is set when the token was issued by impersonation: who acts as
	// Sub. Resource servers should record it next to Sub in their logs.
	Act *Actor `json:"act,omitempty"`
}

// Name returns the username, from whichever claim the token carries it in.
func (c *Claims) Name() string {
	if c.Username != "" {
		return c.Username
	}
	return c.CognitoUsername
}

// InGroup reports whether the token lists group g in cognito:groups.
func (c *Claims) InGroup(g string) bool {
	for _, x := range c.Groups {
		if x == g {
			return true
		}
	}
	return false
}

// decodeClaims reads a payload strictly: names match exactly, a repeated
// name is an error, "aud" may be a string or a one-element array.
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
			if !isNull(v) {
				c.Email = new(string)
				err = decodeString(v, c.Email)
			}
		case "email_verified":
			switch string(v) {
			case "null":
			case "true", "false":
				b := v[0] == 't'
				c.EmailVerified = &b
			default:
				err = errors.New("want a boolean")
			}
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
			return nil // unknown claims are ignored (RFC 7519 §4)
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

func decodeAud(v []byte, aud *string) error {
	if v[0] != '[' {
		return decodeString(v, aud)
	}
	var a []json.RawMessage
	if err := json.Unmarshal(v, &a); err != nil {
		return err
	}
	if len(a) != 1 || len(a[0]) == 0 || a[0][0] != '"' {
		return errors.New("want a string or an array of one string")
	}
	return decodeString(a[0], aud)
}

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

func isNull(v []byte) bool { return string(v) == "null" }

func decodeString(v []byte, s *string) error {
	switch {
	case isNull(v):
		return nil
	case v[0] != '"':
		return errors.New("want a string")
	case bytes.IndexByte(v, '\\') < 0:
		*s = string(v[1 : len(v)-1])
		return nil
	}
	return json.Unmarshal(v, s)
}

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

// decodeObject checks that b is one JSON object in valid UTF-8 and calls
// member once per member with the unescaped name and the raw value. A
// repeated name (after unescaping) is an error: parsers disagree on which
// duplicate wins (RFC 7515 §5.2, RFC 7519 §4).
func decodeObject(b []byte, member func(name, value []byte) error) error {
	if !utf8.Valid(b) || !json.Valid(b) {
		return errors.New("invalid JSON")
	}
	bad := errors.New("malformed object")
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return errors.New("not a JSON object")
	}
	i = skipSpace(b, i+1)
	var (
		linear [32][]byte
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
		if set == nil && len(names) == cap(linear) {
			set = make(map[string]struct{}, 2*cap(linear))
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
