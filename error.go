package actas

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to exactly one HTTP status at the edge (see
// httpapi). Only the message of an *Error reaches a client; every other
// error is reported as an internal error with a fixed message.
const (
	EINVALID      = "invalid"      // 400: malformed request
	EUNAUTHORIZED = "unauthorized" // 401: bad credentials or bad/expired/revoked token
	EFORBIDDEN    = "forbidden"    // 403: missing/invalid API key, or not permitted
	ENOTFOUND     = "not_found"    // 404
	ECONFLICT     = "conflict"     // 409: already exists
	ETOOLARGE     = "too_large"    // 413
	EPRECONDITION = "precondition" // 422: a precondition failed
	ETHROTTLED    = "throttled"    // 429
	EINTERNAL     = "internal"     // 500
	EUNAVAILABLE  = "unavailable"  // 503: overloaded or storage unavailable
)

// Error is an error whose Message is safe to show to a client or operator.
type Error struct {
	Code    string
	Message string
	// RetryAfter, when positive, is the number of seconds a client should
	// wait before trying again (429 and 503).
	RetryAfter int
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, or
// EINTERNAL for any other non-nil error. Storage sentinels map to their
// codes so that adapters need not wrap them.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	case errors.Is(err, ErrNotFound):
		return ENOTFOUND
	case errors.Is(err, ErrConflict):
		return ECONFLICT
	case errors.Is(err, ErrUnavailable):
		return EUNAVAILABLE
	}
	return EINTERNAL
}

// ErrorMessage returns the client-safe message of err: the message of the
// first *Error in its chain, or a fixed text for anything else, so that no
// internal detail (SQL, paths, key material) ever leaks.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	switch ErrorCode(err) {
	case ENOTFOUND:
		return "Not found"
	case ECONFLICT:
		return "Already exists"
	case EUNAVAILABLE:
		return "Service unavailable, try again later"
	}
	return "Internal error"
}

// Storage sentinels. Store implementations return errors that wrap these
// (test with errors.Is), never driver errors matched by text.
var (
	// ErrNotFound: the requested record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a record with the same unique key already exists.
	ErrConflict = errors.New("already exists")
	// ErrUnavailable: the storage cannot be reached; the operation may be
	// retried later.
	ErrUnavailable = errors.New("storage unavailable")
	// ErrParentRevoked: CreateSession was given a parent session that is
	// missing or revoked.
	ErrParentRevoked = errors.New("parent session revoked")
)
