package jose

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"
)

// maxLinearNames is how many member names DecodeObject compares pairwise
// before it switches to a map; actas tokens have about 15.
const maxLinearNames = 32

// DecodeObject checks that b is exactly one JSON object in valid UTF-8
// and calls member once per member, in order, with the unescaped name and
// the raw value. A repeated name (after unescaping, so "s\u0075b" repeats
// "sub") is an error: RFC 7515 §5.2 and RFC 7519 §4 let a parser refuse
// duplicates, and since parsers disagree on which duplicate wins, refusing
// is the only safe answer. Names match exactly; encoding/json would also
// read "SUB" into a field tagged "sub". An error of member is returned
// as is, and ends the walk.
//
// json.Valid runs first, so the scanner below walks a document known to be
// well formed; it still checks every index, so a mistake in it is an error,
// not a panic. Each value handed to member is therefore one complete,
// valid JSON value, as the Decode functions below expect.
func DecodeObject(b []byte, member func(name, value []byte) error) error {
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

// The value decoders below take one complete, valid JSON value, as
// DecodeObject hands to its member function. Like encoding/json, they
// leave the target untouched for null and refuse a value of another type.

// IsNull reports whether v is the JSON null.
func IsNull(v []byte) bool { return string(v) == "null" }

// DecodeString reads a string.
func DecodeString(v []byte, s *string) error {
	switch {
	case IsNull(v):
		return nil
	case len(v) == 0 || v[0] != '"':
		return errors.New("want a string")
	case bytes.IndexByte(v, '\\') < 0:
		// No escapes: the bytes between the quotes are the string (valid
		// JSON has no raw control characters, and UTF-8 was checked).
		*s = string(v[1 : len(v)-1])
		return nil
	}
	return json.Unmarshal(v, s)
}

// DecodeStringPtr reads a string that may be absent: null sets *p to nil.
func DecodeStringPtr(v []byte, p **string) error {
	if IsNull(v) {
		*p = nil
		return nil
	}
	s := new(string)
	if err := DecodeString(v, s); err != nil {
		return err
	}
	*p = s
	return nil
}

// DecodeBoolPtr reads a boolean that may be absent: null sets *p to nil.
func DecodeBoolPtr(v []byte, p **bool) error {
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

// DecodeInt reads an integer, as a NumericDate is in a JWT (RFC 7519 §2).
// Like encoding/json into an int64, it refuses fractions and exponents
// ("1.5", "1e9") and values out of range.
func DecodeInt(v []byte, n *int64) error {
	if IsNull(v) {
		return nil
	}
	i, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return errors.New("want an integer")
	}
	*n = i
	return nil
}

// DecodeAudience reads "aud" (RFC 7519 §4.1.3) as a string or an array of
// exactly one string. With several audiences, which one was meant is a
// question a verifier should not guess at.
func DecodeAudience(v []byte, aud *string) error {
	if len(v) == 0 || v[0] != '[' {
		return DecodeString(v, aud)
	}
	var a []json.RawMessage
	if err := json.Unmarshal(v, &a); err != nil {
		return err
	}
	if len(a) != 1 || len(a[0]) == 0 || a[0][0] != '"' {
		return errors.New("want a string or an array of one string")
	}
	return DecodeString(a[0], aud)
}
