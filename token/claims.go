package token

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/actas-dev/actas/jose"
)

// Errors of Validate.
var (
	ErrExpired       = errors.New("token: expired")
	ErrInvalidClaims = errors.New("token: invalid claims")
)

// MaxSkew is the largest clock skew Validate allows (SPEC §4).
const MaxSkew = 60 * time.Second

// Token uses, the values of the token_use claim; equal to actas.KeyUseID
// and actas.KeyUseAccess, the use of the key that signs each.
const (
	UseID     = "id"
	UseAccess = "access"
)

// Actor is the "act" claim of an impersonated token (RFC 8693 §4.1): the
// admin acting as the subject.
type Actor struct {
	Sub      string `json:"sub"`
	Username string `json:"username"`
}

// Claims are the claims of actas ID and access tokens (SPEC §4), in the
// member order of the Cognito tokens they mirror.
type Claims struct {
	Sub             string   `json:"sub"`
	Aud             string   `json:"aud,omitempty"`   // ID token: clientId
	Email           *string  `json:"email,omitempty"` // ID token (always set by minting, may be "")
	EmailVerified   *bool    `json:"email_verified,omitempty"`
	EventID         string   `json:"event_id"`
	TokenUse        string   `json:"token_use"`       // "id" or "access"
	Scope           string   `json:"scope,omitempty"` // access token
	AuthTime        int64    `json:"auth_time"`
	Iss             string   `json:"iss"`
	CognitoUsername string   `json:"cognito:username,omitempty"` // ID token
	Exp             int64    `json:"exp"`
	Iat             int64    `json:"iat"`
	Nbf             int64    `json:"nbf,omitempty"`
	Jti             string   `json:"jti"`
	OriginJti       string   `json:"origin_jti"`
	ClientID        string   `json:"client_id,omitempty"` // access token
	Username        string   `json:"username,omitempty"`  // access token
	Groups          []string `json:"cognito:groups,omitempty"`
	Act             *Actor   `json:"act,omitempty"`
	Nonce           string   `json:"nonce,omitempty"` // ID token of a code exchange (SPEC §9)
	Sid             string   `json:"sid,omitempty"`   // session of an OAuth client's tokens
	// OIDC standard claims of the ID token from the user's profile
	// (SPEC §7): firstName, lastName, friendlyName.
	GivenName  string `json:"given_name,omitempty"`
	FamilyName string `json:"family_name,omitempty"`
	Nickname   string `json:"nickname,omitempty"`
}

// UnmarshalJSON decodes claims as Parse does: names match exactly (not
// case-insensitively as encoding/json would), a repeated name is an error,
// and "aud" may be a string or a one-element array (RFC 7519 §4.1.3).
func (c *Claims) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	d, err := decodeClaims(b)
	if err != nil {
		return err
	}
	*c = *d
	return nil
}

func decodeClaims(b []byte) (*Claims, error) {
	c := new(Claims)
	err := jose.DecodeObject(b, func(name, v []byte) error {
		var err error
		switch string(name) {
		case "sub":
			err = jose.DecodeString(v, &c.Sub)
		case "aud":
			err = jose.DecodeAudience(v, &c.Aud)
		case "email":
			err = jose.DecodeStringPtr(v, &c.Email)
		case "email_verified":
			err = jose.DecodeBoolPtr(v, &c.EmailVerified)
		case "event_id":
			err = jose.DecodeString(v, &c.EventID)
		case "token_use":
			err = jose.DecodeString(v, &c.TokenUse)
		case "scope":
			err = jose.DecodeString(v, &c.Scope)
		case "auth_time":
			err = jose.DecodeInt(v, &c.AuthTime)
		case "iss":
			err = jose.DecodeString(v, &c.Iss)
		case "cognito:username":
			err = jose.DecodeString(v, &c.CognitoUsername)
		case "given_name":
			err = jose.DecodeString(v, &c.GivenName)
		case "family_name":
			err = jose.DecodeString(v, &c.FamilyName)
		case "nickname":
			err = jose.DecodeString(v, &c.Nickname)
		case "exp":
			err = jose.DecodeInt(v, &c.Exp)
		case "iat":
			err = jose.DecodeInt(v, &c.Iat)
		case "nbf":
			err = jose.DecodeInt(v, &c.Nbf)
		case "jti":
			err = jose.DecodeString(v, &c.Jti)
		case "origin_jti":
			err = jose.DecodeString(v, &c.OriginJti)
		case "client_id":
			err = jose.DecodeString(v, &c.ClientID)
		case "username":
			err = jose.DecodeString(v, &c.Username)
		case "cognito:groups":
			err = json.Unmarshal(v, &c.Groups)
		case "act":
			err = decodeActor(v, &c.Act)
		case "nonce":
			err = jose.DecodeString(v, &c.Nonce)
		case "sid":
			err = jose.DecodeString(v, &c.Sid)
		default:
			return nil // unknown claims are allowed and ignored (RFC 7519 §4)
		}
		if err != nil {
			return fmt.Errorf("claim %q: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// decodeActor decodes "act" with the same strictness as the top level:
// who acted is as security-relevant as who is acted for.
func decodeActor(v []byte, act **Actor) error {
	if jose.IsNull(v) {
		return nil
	}
	a := new(Actor)
	err := jose.DecodeObject(v, func(name, v []byte) error {
		switch string(name) {
		case "sub":
			return jose.DecodeString(v, &a.Sub)
		case "username":
			return jose.DecodeString(v, &a.Username)
		}
		return nil
	})
	if err != nil {
		return err
	}
	*act = a
	return nil
}

// Expect is what Validate requires of the claims of one tenant's token.
type Expect struct {
	Issuer   string
	ClientID string // aud for ID tokens, client_id for access tokens
	TokenUse string // "id" or "access"
	Now      time.Time
	Skew     time.Duration // clamped to [0, MaxSkew]
	// AllowExpired skips the exp deadline (not its presence), for refresh
	// and expire, where an expired token of a live session is fine.
	AllowExpired bool
}

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
	skew := int64(min(max(e.Skew, 0), MaxSkew) / time.Second)
	now := e.Now.Unix()

	bad := func(what string) error { return fmt.Errorf("%w: %s", ErrInvalidClaims, what) }
	switch {
	case c.Iss != e.Issuer:
		return bad("iss does not match")
	case c.TokenUse != e.TokenUse:
		return bad("token_use does not match")
	case e.TokenUse == UseID && c.Aud != e.ClientID:
		return bad("aud does not match")
	case e.TokenUse == UseAccess && c.ClientID != e.ClientID:
		return bad("client_id does not match")
	case c.Sub == "":
		return bad("sub is empty")
	case c.Jti == "":
		return bad("jti is empty")
	case c.OriginJti == "":
		return bad("origin_jti is empty")
	case c.Exp <= 0:
		return bad("exp is missing")
	case c.Iat <= 0:
		return bad("iat is missing")
	case c.Exp <= c.Iat:
		return bad("exp is not after iat")
	case c.Iat > now+skew:
		return bad("iat is in the future")
	case c.Nbf != 0 && c.Nbf > now+skew:
		return bad("nbf is in the future")
	case !e.AllowExpired && c.Exp <= now-skew:
		return ErrExpired
	}
	return nil
}
