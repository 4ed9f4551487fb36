package jose

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Errors of Claims.Validate, as Error kinds; Sentinels.Wrap gives them a
// caller's own sentinels, as it does Verify's.
var (
	ErrInvalidClaims = errors.New("jose: invalid claims")
	ErrExpired       = errors.New("jose: expired")
)

// MaxSkew is the largest clock skew Validate allows (SPEC §4).
const MaxSkew = 60 * time.Second

// Token uses, the values of the token_use claim.
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
// member order of the Cognito tokens they mirror. Package token mints
// them and package verify reads them, each as its own type converted from
// this one, so that both sides decode and validate them alike.
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
	OriginJti       string   `json:"origin_jti"`          // the session
	ClientID        string   `json:"client_id,omitempty"` // access token
	Username        string   `json:"username,omitempty"`  // access token
	Groups          []string `json:"cognito:groups,omitempty"`
	// Act is set when the token was issued by impersonation: who acts as
	// Sub. Resource servers should record it next to Sub in their logs.
	Act *Actor `json:"act,omitempty"`

	Nonce string `json:"nonce,omitempty"` // ID token of a code exchange (SPEC §9)
	Sid   string `json:"sid,omitempty"`   // session of an OAuth client's tokens
	// OIDC standard claims of the ID token from the user's profile
	// (SPEC §7): firstName, lastName, friendlyName.
	GivenName  string `json:"given_name,omitempty"`
	FamilyName string `json:"family_name,omitempty"`
	Nickname   string `json:"nickname,omitempty"`
}

// UnmarshalJSON decodes claims as DecodeClaims does.
func (c *Claims) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	d, err := DecodeClaims(b)
	if err != nil {
		return err
	}
	*c = *d
	return nil
}

// DecodeClaims reads a token's payload strictly: names match exactly (not
// case-insensitively as encoding/json would), a repeated name is an error,
// "aud" may be a string or a one-element array (RFC 7519 §4.1.3), and
// unknown claims are ignored (RFC 7519 §4).
func DecodeClaims(b []byte) (*Claims, error) {
	c := new(Claims)
	err := DecodeObject(b, func(name, v []byte) error {
		var err error
		switch string(name) {
		case "sub":
			err = DecodeString(v, &c.Sub)
		case "aud":
			err = DecodeAudience(v, &c.Aud)
		case "email":
			err = DecodeStringPtr(v, &c.Email)
		case "email_verified":
			err = DecodeBoolPtr(v, &c.EmailVerified)
		case "event_id":
			err = DecodeString(v, &c.EventID)
		case "token_use":
			err = DecodeString(v, &c.TokenUse)
		case "scope":
			err = DecodeString(v, &c.Scope)
		case "auth_time":
			err = DecodeInt(v, &c.AuthTime)
		case "iss":
			err = DecodeString(v, &c.Iss)
		case "cognito:username":
			err = DecodeString(v, &c.CognitoUsername)
		case "given_name":
			err = DecodeString(v, &c.GivenName)
		case "family_name":
			err = DecodeString(v, &c.FamilyName)
		case "nickname":
			err = DecodeString(v, &c.Nickname)
		case "exp":
			err = DecodeInt(v, &c.Exp)
		case "iat":
			err = DecodeInt(v, &c.Iat)
		case "nbf":
			err = DecodeInt(v, &c.Nbf)
		case "jti":
			err = DecodeString(v, &c.Jti)
		case "origin_jti":
			err = DecodeString(v, &c.OriginJti)
		case "client_id":
			err = DecodeString(v, &c.ClientID)
		case "username":
			err = DecodeString(v, &c.Username)
		case "cognito:groups":
			err = json.Unmarshal(v, &c.Groups)
		case "act":
			err = decodeActor(v, &c.Act)
		case "nonce":
			err = DecodeString(v, &c.Nonce)
		case "sid":
			err = DecodeString(v, &c.Sid)
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
	if IsNull(v) {
		return nil
	}
	a := new(Actor)
	err := DecodeObject(v, func(name, v []byte) error {
		switch string(name) {
		case "sub":
			return DecodeString(v, &a.Sub)
		case "username":
			return DecodeString(v, &a.Username)
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

// Validate checks c against e (SPEC §4; RFC 7519 §4.1). Comparisons are
// exact. Times are whole seconds: the token is expired from exp + skew on,
// and not yet valid while nbf or iat is more than skew in the future. A
// failed check is an *Error of kind ErrInvalidClaims (with what failed as
// its detail) or ErrExpired (without detail). A TokenUse other than "id"
// or "access" fails every token; the caller decides whether an empty
// Issuer, ClientID or Now is its own mistake before calling.
func (c *Claims) Validate(e Expect) error {
	skew := int64(min(max(e.Skew, 0), MaxSkew) / time.Second)
	now := e.Now.Unix()

	bad := func(what string) error { return &Error{Kind: ErrInvalidClaims, Detail: what} }
	switch {
	case c.Iss != e.Issuer:
		return bad("iss does not match")
	case e.TokenUse != UseID && e.TokenUse != UseAccess:
		return bad("token_use is not id or access")
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
		return &Error{Kind: ErrExpired}
	}
	return nil
}
