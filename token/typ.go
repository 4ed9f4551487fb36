package token

import (
	"encoding/base64"
	"encoding/json"
	"errors"
)

// TypAccessToken is the "typ" header of an access token in the JWT
// profile of RFC 9068 (§2.1).
const TypAccessToken = "at+jwt"

// SignTyped is Sign with a "typ" member in the protected header:
// {"kid":…,"alg":…,"typ":typ}.
func (k *Key) SignTyped(claims any, typ string) (string, error) {
	if k == nil || k.head == "" {
		return "", errors.New("token: sign: key not made by LoadKey")
	}
	head, err := json.Marshal(struct {
		KID string `json:"kid"`
		Alg string `json:"alg"`
		Typ string `json:"typ"`
	}{k.kid, k.alg, typ})
	if err != nil {
		return "", err
	}
	return k.signHead(base64.RawURLEncoding.EncodeToString(head)+".", claims)
}
