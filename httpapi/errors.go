package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/actas-dev/actas"
)

// statusOf maps error codes to HTTP statuses: the one table of the edge.
var statusOf = map[string]int{
	actas.EINVALID:      http.StatusBadRequest,
	actas.EUNAUTHORIZED: http.StatusUnauthorized,
	actas.EFORBIDDEN:    http.StatusForbidden,
	actas.ENOTFOUND:     http.StatusNotFound,
	actas.ECONFLICT:     http.StatusConflict,
	actas.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	actas.EPRECONDITION: http.StatusUnprocessableEntity,
	actas.ETHROTTLED:    http.StatusTooManyRequests,
	actas.EINTERNAL:     http.StatusInternalServerError,
	actas.EUNAVAILABLE:  http.StatusServiceUnavailable,
}

// errorBody is the envelope of every /auth/* error (SPEC §2).
type errorBody struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

// writeError answers err in the envelope. Internal errors are logged with
// their cause (by the access log, from the request state) and answered
// with a fixed message.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := actas.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	setRetryAfter(w, status, err)
	if status >= 500 {
		setCause(r, err)
	}
	writeJSON(w, status, errorBody{Status: "error", Message: actas.ErrorMessage(err)})
}

// setRetryAfter sets Retry-After on a 429 or 503: the seconds the first
// *actas.Error in err's chain asks for (errors.As, so a wrapped error
// keeps its value), else 1.
func setRetryAfter(w http.ResponseWriter, status int, err error) {
	if status != http.StatusServiceUnavailable && status != http.StatusTooManyRequests {
		return
	}
	retry := 1
	var e *actas.Error
	if errors.As(err, &e) && e.RetryAfter > 0 {
		retry = e.RetryAfter
	}
	w.Header().Set("Retry-After", strconv.Itoa(retry))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var b []byte
	var err error
	if a, ok := v.(jsonAppender); ok {
		b = a.appendJSON(make([]byte, 0, 2048))
	} else {
		b, err = json.Marshal(v)
	}
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"status":"error","message":"Internal error"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// jsonAppender is a response body that encodes itself, byte for byte as
// json.Marshal would (TestAppendJSON), without reflection: the bodies of
// sign-in, refresh and expire.
type jsonAppender interface {
	appendJSON(b []byte) []byte
}

// appendJSONString appends s quoted as json.Marshal quotes it: a string
// of printable ASCII that needs no escape (json.Marshal also escapes
// <, > and &) as it is, any other through json.Marshal.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
