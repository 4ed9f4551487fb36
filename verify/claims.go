package verify

import (
	"encoding/json"
	"fmt"

	"github.com/actas-dev/actas/jose"
)

// Actor is the "act" claim of an impersonated token (RFC 8693 §4.1): the
// operator acting as the subject.
type Actor struct {
	Sub      string `json:"sub"`
	Username string `json:"username"`
}

// Claims are the claims of an actas ID or access token.
type Claims struct {
	Sub             string   `json:"sub"`
	Aud             string   `json:"aud,omitempty"`   // ID token: the clientId
	Email           *string  `json:"email,omitempty"` // ID token
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
}

// Name returns the username, from whichever claim the token carries it in.
func (c *Claims) Name() string {
	if c.Username != "" {
		return c.Username
	}
	return c.CognitoUsername
}

// InGroup reports whether the token lists group g in cognito:groups.
func (c *Claims) InGroup(g string) bool {
	for _, x := range c.Groups {
		if x == g {
			return true
		}
	}
	return false
}

// decodeClaims reads a payload strictly: names match exactly, a repeated
// name is an error, "aud" may be a string or a one-element array.
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
		default:
			return nil // unknown claims are ignored (RFC 7519 §4)
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
