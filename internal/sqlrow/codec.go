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

// EncodeList encodes a list of names as JSON text ("[]" for none).
func EncodeList(g []string) (string, error) {
	if len(g) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(g)
	return string(b), err
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
