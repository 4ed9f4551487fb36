package httpapi

import (
	"bytes"
	"encoding/json"
	"unicode"
	"unicode/utf8"
)

// maxJSONDepth bounds nesting so that a deeply nested body cannot exhaust
// the stack or the CPU.
const maxJSONDepth = 32

// decodeStrict decodes a JSON body into v, refusing invalid UTF-8,
// nesting deeper than maxJSONDepth, duplicate keys in any object (parsers
// disagree on which one wins, a classic smuggling vector), and trailing
// data. Unknown fields are ignored. A v that reads its own fields
// (jsonFields) is decoded in the same pass as the checks; any other v by
// encoding/json, then checked.
func decodeStrict(body []byte, v any) error {
	if !utf8.Valid(body) {
		return errBadJSON
	}
	if f, ok := v.(jsonFields); ok {
		s := jsonScan{b: body}
		var err error
		switch s.peek() {
		case '{':
			err = s.object(0, f.jsonField)
		case 'n':
			err = s.lit("null") // as encoding/json: sets nothing
		default:
			err = errBadJSON // the wrong type, or not JSON
		}
		return s.end(err)
	}
	// Unmarshal checks the whole grammar before it stores anything, so
	// the key walk runs on valid JSON only; v is discarded on any error.
	if err := json.Unmarshal(body, v); err != nil {
		return errBadJSON
	}
	return checkJSON(body)
}

// jsonFields is a request body that decodes its own fields, as
// encoding/json would: jsonField is called with each key of the object,
// folded (foldKey), with s at the value; it reads the value and returns
// true, or returns false and the value is checked and skipped. Its
// decoding must equal encoding/json's on every input (FuzzDecodeFields).
type jsonFields interface {
	jsonField(s *jsonScan, key []byte) (bool, error)
}

// checkJSON checks that body is exactly one JSON value, nested at most
// maxJSONDepth deep, with no object holding two keys that encoding/json
// would read into the same field: keys are compared after unescaping and
// case folding exactly as encoding/json matches field names, so neither
// "USERNAME" nor "\u0075sername" can follow "username". It is linear in
// the body: objects of more than maxLinearKeys keys are checked with a
// map. Like encoding/json it does not check UTF-8 (decodeStrict does).
func checkJSON(body []byte) error {
	s := jsonScan{b: body}
	return s.end(s.value(0))
}

// jsonScan reads one JSON text in one pass, checking its grammar (RFC
// 8259), nesting and keys as it goes.
type jsonScan struct {
	b       []byte
	i       int
	keys    [][]byte // folded keys of the open objects
	keysArr [16][]byte
}

// end is err, or an error if anything but white space follows the value.
func (s *jsonScan) end(err error) error {
	if err != nil {
		return err
	}
	if s.ws(); s.i != len(s.b) {
		return errBadJSON
	}
	return nil
}

func (s *jsonScan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next byte after white space, or 0 at the end.
func (s *jsonScan) peek() byte {
	if s.ws(); s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// value reads one value inside depth containers.
func (s *jsonScan) value(depth int) error {
	switch c := s.peek(); {
	case c == '{':
		return s.object(depth, nil)
	case c == '[':
		return s.array(depth)
	case c == '"':
		_, err := s.str()
		return err
	case c == 't':
		return s.lit("true")
	case c == 'f':
		return s.lit("false")
	case c == 'n':
		return s.lit("null")
	case c == '-' || '0' <= c && c <= '9':
		return s.number()
	}
	return errBadJSON
}

func (s *jsonScan) lit(word string) error {
	if !bytes.HasPrefix(s.b[s.i:], []byte(word)) {
		return errBadJSON
	}
	s.i += len(word)
	return nil
}

func (s *jsonScan) digits() int {
	n := 0
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		s.i++
		n++
	}
	return n
}

func (s *jsonScan) number() error {
	if s.b[s.i] == '-' {
		s.i++
	}
	switch {
	case s.i < len(s.b) && s.b[s.i] == '0':
		s.i++
	case s.digits() == 0:
		return errBadJSON
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if s.digits() == 0 {
			return errBadJSON
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if s.digits() == 0 {
			return errBadJSON
		}
	}
	return nil
}

// str reads a string and returns it quoted, as it is in the body.
func (s *jsonScan) str() ([]byte, error) {
	start := s.i
	for s.i++; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return s.b[start:s.i], nil
		case c < 0x20:
			return nil, errBadJSON
		case c == '\\':
			s.i++
			if s.i >= len(s.b) {
				return nil, errBadJSON
			}
			switch s.b[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if s.i+4 >= len(s.b) {
					return nil, errBadJSON
				}
				for _, h := range s.b[s.i+1 : s.i+5] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return nil, errBadJSON
					}
				}
				s.i += 4
			default:
				return nil, errBadJSON
			}
		}
	}
	return nil, errBadJSON
}

func (s *jsonScan) array(depth int) error {
	if depth >= maxJSONDepth {
		return errBadJSON
	}
	s.i++ // [
	if s.peek() == ']' {
		s.i++
		return nil
	}
	for {
		if err := s.value(depth + 1); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return nil
		default:
			return errBadJSON
		}
	}
}

// object reads an object inside depth containers, refusing two keys that
// fold equal; field, if not nil, may read the value of a key itself
// (jsonFields).
func (s *jsonScan) object(depth int, field func(s *jsonScan, key []byte) (bool, error)) error {
	if depth >= maxJSONDepth {
		return errBadJSON
	}
	s.i++ // {
	if s.peek() == '}' {
		s.i++
		return nil
	}
	if s.keys == nil {
		s.keys = s.keysArr[:0]
	}
	base := len(s.keys)
	var set map[string]struct{} // once the object has more than maxLinearKeys
	for {
		if s.peek() != '"' {
			return errBadJSON
		}
		q, err := s.str()
		if err != nil {
			return err
		}
		k, err := foldKey(q)
		if err != nil {
			return errBadJSON
		}
		if set == nil && len(s.keys)-base == maxLinearKeys {
			set = make(map[string]struct{}, 2*maxLinearKeys)
			for _, k := range s.keys[base:] {
				set[string(k)] = struct{}{}
			}
		}
		if set != nil {
			if _, dup := set[string(k)]; dup {
				return errBadJSON
			}
			set[string(k)] = struct{}{}
		} else {
			for _, o := range s.keys[base:] {
				if bytes.Equal(o, k) {
					return errBadJSON
				}
			}
			s.keys = append(s.keys, k)
		}
		if s.peek() != ':' {
			return errBadJSON
		}
		s.i++
		done := false
		if field != nil {
			s.peek()
			if done, err = field(s, k); err != nil {
				return err
			}
		}
		if !done {
			if err := s.value(depth + 1); err != nil {
				return err
			}
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			s.keys = s.keys[:base]
			return nil
		default:
			return errBadJSON
		}
	}
}

// stringInto reads a string value into dst as encoding/json does: null
// leaves dst as it is, any other type is an error.
func (s *jsonScan) stringInto(dst *string) error {
	switch s.peek() {
	case 'n':
		return s.lit("null")
	case '"':
		q, err := s.str()
		if err != nil {
			return err
		}
		if bytes.IndexByte(q, '\\') < 0 {
			*dst = string(q[1 : len(q)-1])
			return nil
		}
		if json.Unmarshal(q, dst) != nil { // escapes, exactly as encoding/json reads them
			return errBadJSON
		}
		return nil
	}
	return errBadJSON
}

// maxLinearKeys is how many keys of one object checkJSON compares
// pairwise before it switches to a map.
const maxLinearKeys = 16

// foldKey returns the key of the quoted JSON string q, unescaped and folded
// so that two keys fold equal exactly when encoding/json would match them
// to the same field. encoding/json folds a name (its foldName) by
// upper-casing ASCII letters and mapping any other rune r to
// unicode.ToUpper(unicode.ToLower(r)); foldKey does the same and then
// lower-cases ASCII letters, which is one-to-one on what that fold yields
// (it never yields a lower-case ASCII letter), so equality is unchanged
// while the common key, lower-case ASCII without escapes, is returned as
// is, without copying.
func foldKey(q []byte) ([]byte, error) {
	raw := q[1 : len(q)-1]
	plain := true
	for _, c := range raw {
		if c == '\\' || c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') {
			plain = false
			break
		}
	}
	if plain {
		return raw, nil
	}
	if bytes.IndexByte(raw, '\\') >= 0 {
		var s string
		if err := json.Unmarshal(q, &s); err != nil {
			return nil, err
		}
		raw = []byte(s)
	}
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		r, n := rune(raw[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRune(raw[i:])
			r = unicode.ToUpper(unicode.ToLower(r))
		}
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		out = utf8.AppendRune(out, r)
		i += n
	}
	return out, nil
}
