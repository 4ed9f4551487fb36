package sqlrow

import (
	"errors"
	"fmt"
)

// Wrap returns nil for nil, the caller's own error unchanged if err came
// from its update function (a FnError), and otherwise err mapped to the
// storage sentinels by the driver's mapErr and prefixed with op.
func Wrap(op string, err error, mapErr func(error) error) error {
	if err == nil {
		return nil
	}
	var fe FnError
	if errors.As(err, &fe) {
		return fe.Err
	}
	return fmt.Errorf("%s: %w", op, mapErr(err))
}

// LimitClause returns " LIMIT n", or nothing for n <= 0 (no limit).
func LimitClause(n int) string {
	if n <= 0 {
		return ""
	}
	return fmt.Sprintf(" LIMIT %d", n)
}
