package verify

import "github.com/actas-dev/actas/jose"

// Actor is the "act" claim of an impersonated token (RFC 8693 §4.1): the
// operator acting as the subject.
type Actor = jose.Actor

// Claims are the claims of an actas ID or access token: the fields and
// their JSON names are jose.Claims's, which actas mints.
type Claims jose.Claims

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
