package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
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
	if err := checkJSON(body); err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return errBadJSON
	}
	return nil
}

// checkJSON walks the token stream once, checking that there is exactly
// one value, its depth, and duplicate keys.
func checkJSON(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	type frame struct {
		keys      map[string]struct{} // nil for arrays
		expectKey bool
	}
	var stack []*frame
	values := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) && len(stack) == 0 && values == 1 {
			return nil
		}
		if err != nil {
			return errBadJSON
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			continue
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.keys != nil && top.expectKey {
			k, _ := tok.(string) // the decoder only yields string keys
			// encoding/json matches field names case-insensitively, so
			// "USERNAME" after "username" would win: compare folded.
			k = strings.ToLower(k)
			if _, dup := top.keys[k]; dup {
				return errBadJSON
			}
			top.keys[k] = struct{}{}
			top.expectKey = false
			continue
		}
		// tok starts a value.
		if top == nil {
			if values++; values > 1 {
				return errBadJSON
			}
		} else if top.keys != nil {
			top.expectKey = true
		}
		if d, ok := tok.(json.Delim); ok {
			if len(stack) >= maxJSONDepth {
				return errBadJSON
			}
			f := &frame{}
			if d == '{' {
				f.keys, f.expectKey = map[string]struct{}{}, true
			}
			stack = append(stack, f)
		}
	}
}
