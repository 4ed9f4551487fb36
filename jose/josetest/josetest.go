// Package josetest holds test helpers for the strict JSON and JWS code of
// package jose and its users (token, verify): a slow reference object
// reader to fuzz against, and a reader for committed fuzz corpus files.
// It imports only the standard library and is meant for tests only.
package josetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"
)

// RefObject is the reference for jose.DecodeObject: the same rules (valid
// UTF-8, exactly one object, a repeated name refused after unescaping),
// built on encoding/json's Decoder.Token, about ten times slower. member
// must consume exactly one value from dec.
func RefObject(b []byte, member func(name string, dec *json.Decoder) error) error {
	if !utf8.Valid(b) {
		return errors.New("utf8")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return errors.New("not an object")
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		name, ok := t.(string)
		if !ok || seen[name] {
			return errors.New("bad or repeated name")
		}
		seen[name] = true
		if err := member(name, dec); err != nil {
			return err
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return errors.New("unterminated")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data")
	}
	return nil
}

// CorpusString reads a fuzz corpus file ("go test fuzz v1") that holds a
// single string value, and returns the string.
func CorpusString(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 || lines[0] != "go test fuzz v1" || !strings.HasPrefix(lines[1], "string(") {
		return "", errors.New(path + ": not a fuzz corpus file of one string")
	}
	return strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "string("), ")"))
}
