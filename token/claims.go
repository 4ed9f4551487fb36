package token

import (
	"errors"
	"fmt"

	"github.com/actas-dev/actas/jose"
)

// Errors of Validate.
var (
	ErrExpired       = errors.New("token: expired")
	ErrInvalidClaims = errors.New("token: invalid claims")
)

// MaxSkew is the largest clock skew Validate allows (SPEC §4).
const MaxSkew = jose.MaxSkew

// Token uses, the values of the token_use claim; equal to actas.KeyUseID
// and actas.KeyUseAccess, the use of the key that signs each.
const (
	UseID     = jose.UseID
	UseAccess = jose.UseAccess
)

// Actor is the "act" claim of an impersonated token (RFC 8693 §4.1): the
// admin acting as the subject.
type Actor = jose.Actor

// Claims are the claims of actas ID and access tokens (SPEC §4): the
// fields, their JSON names and their decoding are jose.Claims's, shared
// with package verify.
type Claims jose.Claims

// UnmarshalJSON decodes claims as Parse does: names match exactly (not
// case-insensitively as encoding/json would), a repeated name is an error,
// and "aud" may be a string or a one-element array (RFC 7519 §4.1.3).
func (c *Claims) UnmarshalJSON(b []byte) error {
	return (*jose.Claims)(c).UnmarshalJSON(b)
}

func decodeClaims(b []byte) (*Claims, error) {
	c, err := jose.DecodeClaims(b)
	return (*Claims)(c), err
}

// Expect is what Validate requires of the claims of one tenant's token.
type Expect = jose.Expect

// Validate checks the claims of a token Parse returned against e (SPEC §4;
// RFC 7519 §4.1). Comparisons are exact. Times are whole seconds: the
// token is expired from exp + skew on, and not yet valid while nbf or iat
// is more than skew in the future. A failed check wraps ErrExpired or
// ErrInvalidClaims; an incomplete Expect is a programming error and wraps
// neither, so it cannot pass for a client's fault.
func (c *Claims) Validate(e Expect) error {
	switch {
	case e.Now.IsZero():
		return errors.New("token: validate: Expect.Now is zero")
	case e.Issuer == "":
		return errors.New("token: validate: Expect.Issuer is empty")
	case e.ClientID == "":
		return errors.New("token: validate: Expect.ClientID is empty")
	case e.TokenUse != UseID && e.TokenUse != UseAccess:
		return fmt.Errorf("token: validate: Expect.TokenUse %q is not %q or %q", e.TokenUse, UseID, UseAccess)
	}
	return joseErrors.Wrap((*jose.Claims)(c).Validate(e))
}
