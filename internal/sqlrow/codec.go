package sqlrow

import (
	"encoding/json"
	"fmt"
	"time"
)

// Scanner is a row of either driver (*sql.Row, *sql.Rows, pgx.Row).
type Scanner interface{ Scan(dest ...any) error }

// MS encodes a time as Unix milliseconds, the zero time as 0.
func MS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// FromMS decodes what MS encoded, in UTC.
func FromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// Blob stores nil as an empty blob so that NOT NULL columns accept it.
func Blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// EncodeList encodes a list of strings as JSON text ("[]" for none).
func EncodeList(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(l) // a []string always marshals
	return string(b)
}

// DecodeList decodes what EncodeList encoded (nil for none).
func DecodeList(s string) ([]string, error) {
	var g []string
	if err := json.Unmarshal([]byte(s), &g); err != nil {
		return nil, fmt.Errorf("decode list: %w", err)
	}
	if len(g) == 0 {
		return nil, nil
	}
	return g, nil
}

// WithExtra scans a row with one more column, into Extra, than the scan
// function it is given to reads.
type WithExtra struct {
	Scanner
	Extra any
}

// Scan scans dest, then Extra.
func (w WithExtra) Scan(dest ...any) error { return w.Scanner.Scan(append(dest, w.Extra)...) }

// Rows is a result set of either driver (*sql.Rows, pgx.Rows) as Collect
// reads it; the caller closes it.
type Rows interface {
	Scanner
	Next() bool
	Err() error
}

// Collect scans every row of rows with scan.
func Collect[T any](rows Rows, scan func(Scanner) (*T, error)) ([]*T, error) {
	var out []*T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
