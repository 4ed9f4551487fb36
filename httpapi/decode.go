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
// data. Unknown fields are ignored.
func decodeStrict(body []byte, v any) error {
	if !utf8.Valid(body) {
		return errBadJSON
	}
	// Unmarshal checks the whole grammar before it stores anything, so
	// the key walk runs on valid JSON only; v is discarded on any error.
	if err := json.Unmarshal(body, v); err != nil {
		return errBadJSON
	}
	return checkKeys(body)
}

// checkJSON checks that body is exactly one JSON value, nested at most
// maxJSONDepth deep, with no object holding two keys that encoding/json
// would read into the same field: keys are compared after unescaping and
// case folding exactly as encoding/json matches field names, so neither
// "USERNAME" nor "\u0075sername" can follow "username".
//
// json.Valid checks the grammar first, so the walk below sees only valid
// JSON: it need not check the grammar, only find keys and nesting. It is
// linear in the body: objects of more than maxLinearKeys keys are checked
// with a map.
func checkJSON(body []byte) error {
	if !json.Valid(body) {
		return errBadJSON
	}
	return checkKeys(body)
}

// checkKeys is checkJSON for a body known to be valid JSON.
func checkKeys(body []byte) error {
	type frame struct {
		object    bool
		expectKey bool
		keys      int                 // keys of this object start at keys[frame.keys]
		set       map[string]struct{} // once the object has more than maxLinearKeys
	}
	var (
		stackArr [maxJSONDepth]frame
		stack    = stackArr[:0]
		keysArr  [64][]byte
		keys     = keysArr[:0] // folded keys of the open objects
	)
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '{', '[':
			if len(stack) == maxJSONDepth {
				return errBadJSON
			}
			stack = append(stack, frame{object: body[i] == '{', expectKey: body[i] == '{', keys: len(keys)})
		case '}', ']':
			keys = keys[:stack[len(stack)-1].keys]
			stack = stack[:len(stack)-1]
		case ',':
			if top := len(stack) - 1; stack[top].object {
				stack[top].expectKey = true
			}
		case '"':
			end := i + 1
			for body[end] != '"' {
				if body[end] == '\\' {
					end++
				}
				end++
			}
			start := i
			i = end
			if top := len(stack) - 1; top >= 0 && stack[top].expectKey {
				f := &stack[top]
				f.expectKey = false
				k, err := foldKey(body[start : end+1])
				if err != nil {
					return errBadJSON
				}
				if f.set == nil && len(keys)-f.keys == maxLinearKeys {
					f.set = make(map[string]struct{}, 2*maxLinearKeys)
					for _, k := range keys[f.keys:] {
						f.set[string(k)] = struct{}{}
					}
				}
				if f.set != nil {
					if _, dup := f.set[string(k)]; dup {
						return errBadJSON
					}
					f.set[string(k)] = struct{}{}
					continue
				}
				for _, o := range keys[f.keys:] {
					if bytes.Equal(o, k) {
						return errBadJSON
					}
				}
				keys = append(keys, k)
			}
		}
	}
	return nil
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
