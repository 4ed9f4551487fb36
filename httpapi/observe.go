package httpapi

import (
	"net/http"
	"time"

	"github.com/actas-dev/actas"
)

// Observer receives what the transport sees, for metrics. Every field is
// optional; a nil field costs nothing. Nothing passed to an Observer names
// a user or carries a token: routes are ServeMux patterns, never raw paths.
type Observer struct {
	// Request is called once per request, after it is answered. route is
	// the pattern that matched ("unmatched" if none); method is one of the
	// standard methods or "OTHER".
	Request func(method, route string, status int, d time.Duration)
	// Outcome is called once per operation of the issuer: op is one of the
	// Op* constants, outcome one of the Outcome* constants.
	Outcome func(op, outcome string)
}

// Operations reported to Observer.Outcome.
const (
	OpSignIn        = "sign_in"
	OpRefresh       = "refresh"
	OpExpire        = "expire"
	OpImpersonate   = "impersonate"    // POST /auth/impersonate
	OpTokenExchange = "token_exchange" // RFC 8693 impersonation
)

// Outcomes reported to Observer.Outcome. Impersonation reports allowed or
// denied where sign-in and refresh report ok or a reason.
const (
	OutcomeOK             = "ok"
	OutcomeAllowed        = "allowed"
	OutcomeDenied         = "denied"
	OutcomeBadCredentials = "bad_credentials" // sign-in: unknown user, wrong password, disabled user
	OutcomeInvalidToken   = "invalid_token"   // refresh, expire, impersonate: bad, expired or revoked token
	OutcomeBadRequest     = "bad_request"
	OutcomePrecondition   = "precondition_failed"
	OutcomeThrottled      = "throttled"
	OutcomeUnavailable    = "unavailable" // overloaded hasher or storage
	OutcomeError          = "error"
)

// OutcomeOf derives the outcome label of op from the error the issuer
// returned, by error code only (never by message).
func OutcomeOf(op string, err error) string {
	impersonation := op == OpImpersonate || op == OpTokenExchange
	if err == nil {
		if impersonation {
			return OutcomeAllowed
		}
		return OutcomeOK
	}
	switch actas.ErrorCode(err) {
	case actas.EINVALID, actas.ETOOLARGE:
		return OutcomeBadRequest
	case actas.EUNAUTHORIZED:
		if op == OpSignIn {
			return OutcomeBadCredentials
		}
		return OutcomeInvalidToken
	case actas.EFORBIDDEN:
		return OutcomeDenied
	case actas.EPRECONDITION:
		if impersonation {
			return OutcomeDenied // the target may not be impersonated
		}
		return OutcomePrecondition
	case actas.ETHROTTLED:
		return OutcomeThrottled
	case actas.EUNAVAILABLE:
		return OutcomeUnavailable
	}
	return OutcomeError
}

// observe reports the outcome of op.
func (s *Server) observe(op string, err error) {
	if s.Observer.Outcome != nil {
		s.Observer.Outcome(op, OutcomeOf(op, err))
	}
}

// metricMethod bounds the method label: clients choose the method.
func metricMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}
