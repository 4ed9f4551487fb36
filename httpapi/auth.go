package httpapi

import (
	"cmp"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/issuer"
)

var (
	errTooLarge    = actas.Errorf(actas.ETOOLARGE, "Request body too large")
	errContentType = actas.Errorf(actas.EINVALID, "Content-Type must be application/json")
	errBadJSON     = actas.Errorf(actas.EINVALID, "Request body is not valid JSON")
)

// authRequest is the body of POST and DELETE /auth/token: sign-in fields,
// or a previous response (whose unknown fields are ignored).
type authRequest struct {
	ClientID string          `json:"clientId"`
	Username string          `json:"username"`
	Password string          `json:"password"`
	Session  *sessionRequest `json:"session"`
	// NewPassword finishes a required password change (SPEC §8).
	NewPassword string `json:"newPassword"`
}

type sessionRequest struct {
	Authorization string `json:"authorization"`
	AccessToken   string `json:"accessToken"`
	RefreshToken  string `json:"refreshToken"`
}

// jsonField decodes the fields of authRequest in decodeStrict's one pass
// (the refresh and expire bodies are a whole previous response, two
// tokens long): as encoding/json would, keys matched case-insensitively.
func (a *authRequest) jsonField(s *jsonScan, key []byte) (bool, error) {
	switch string(key) {
	case "clientid":
		return true, s.stringInto(&a.ClientID)
	case "username":
		return true, s.stringInto(&a.Username)
	case "password":
		return true, s.stringInto(&a.Password)
	case "newpassword":
		return true, s.stringInto(&a.NewPassword)
	case "session":
		switch s.peek() {
		case 'n':
			a.Session = nil
			return true, s.lit("null")
		case '{':
			if a.Session == nil {
				a.Session = &sessionRequest{}
			}
			return true, s.object(1, a.Session.jsonField)
		}
		return true, errBadJSON
	}
	return false, nil
}

func (r *sessionRequest) jsonField(s *jsonScan, key []byte) (bool, error) {
	switch string(key) {
	case "authorization":
		return true, s.stringInto(&r.Authorization)
	case "accesstoken":
		return true, s.stringInto(&r.AccessToken)
	case "refreshtoken":
		return true, s.stringInto(&r.RefreshToken)
	}
	return false, nil
}

// authResponse is the 200 body of every /auth/* operation (SPEC §3).
type authResponse struct {
	EndpointURL string          `json:"endpointUrl"`
	ClientID    string          `json:"clientId"`
	UserPoolID  string          `json:"userPoolId"`
	Username    string          `json:"username"`
	Password    string          `json:"password"`
	Session     sessionResponse `json:"session"`
}

type sessionResponse struct {
	Authorization string `json:"authorization"`
	AccessToken   string `json:"accessToken"`
	RefreshToken  string `json:"refreshToken"`
	ExpireEpoch   int64  `json:"expireEpoch"`
}

func (a authResponse) appendJSON(b []byte) []byte {
	b = append(b, `{"endpointUrl":`...)
	b = appendJSONString(b, a.EndpointURL)
	b = append(b, `,"clientId":`...)
	b = appendJSONString(b, a.ClientID)
	b = append(b, `,"userPoolId":`...)
	b = appendJSONString(b, a.UserPoolID)
	b = append(b, `,"username":`...)
	b = appendJSONString(b, a.Username)
	b = append(b, `,"password":`...)
	b = appendJSONString(b, a.Password)
	b = append(b, `,"session":{"authorization":`...)
	b = appendJSONString(b, a.Session.Authorization)
	b = append(b, `,"accessToken":`...)
	b = appendJSONString(b, a.Session.AccessToken)
	b = append(b, `,"refreshToken":`...)
	b = appendJSONString(b, a.Session.RefreshToken)
	b = append(b, `,"expireEpoch":`...)
	b = strconv.AppendInt(b, a.Session.ExpireEpoch, 10)
	return append(b, "}}"...)
}

// authenticate resolves X-API-Key (header names are case-insensitive).
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*issuer.Client, bool) {
	c, err := s.Issuer.Authenticate(r.Context(), r.Header.Get("X-API-Key"))
	if err != nil {
		s.writeError(w, r, err)
		return nil, false
	}
	setTenant(r, c.Tenant.Name)
	return c, true
}

// readJSON reads the (bounded) body and decodes it into v. An empty body
// is allowed only if allowEmpty. The content type must be
// application/json, with an optional UTF-8 charset.
func readJSON(r *http.Request, v any, allowEmpty bool) error {
	body, err := io.ReadAll(r.Body)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errTooLarge
	} else if err != nil {
		return errBadJSON
	}
	if len(body) == 0 && allowEmpty {
		return nil
	}
	if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
		return err
	}
	return decodeStrict(body, v)
}

func checkContentType(ct string) error {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return errContentType
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return errContentType
	}
	return nil
}

func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}

// postToken is POST /auth/token: sign in, or refresh when the body holds a
// session (a previous response posted back).
func (s *Server) postToken(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	c, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	var req authRequest
	basicUser, basicPass, hasBasic := r.BasicAuth()
	if err := readJSON(r, &req, hasBasic); err != nil { // Basic credentials need no body
		s.writeError(w, r, err)
		return
	}
	var res *issuer.Result
	var err error
	if req.Session != nil && (req.Session.RefreshToken != "" || req.Password == "" && !hasBasic) {
		res, err = s.Issuer.Refresh(r.Context(), c, issuer.RefreshRequest{
			RefreshToken: req.Session.RefreshToken,
			AccessToken:  req.Session.AccessToken,
			ClientID:     req.ClientID,
		})
		s.observe(OpRefresh, err)
	} else {
		if req.Username == "" && req.Password == "" && hasBasic {
			req.Username, req.Password = basicUser, basicPass
		}
		res, err = s.Issuer.SignIn(r.Context(), c, issuer.SignInRequest{
			Username:    req.Username,
			Password:    req.Password,
			ClientID:    req.ClientID,
			IP:          clientIP(r),
			UserAgent:   r.UserAgent(),
			NewPassword: req.NewPassword,
		})
		s.observe(OpSignIn, err)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resultResponse(res))
}

// resultResponse is the 200 body of sign-in, refresh and impersonation.
// The password is never echoed; an impersonation's RefreshToken is "".
func resultResponse(res *issuer.Result) authResponse {
	return authResponse{
		EndpointURL: res.Tenant.EndpointURL,
		ClientID:    res.Tenant.ClientID,
		UserPoolID:  res.Tenant.UserPoolID,
		Username:    res.User.Username,
		Password:    "",
		Session: sessionResponse{
			Authorization: res.IDToken,
			AccessToken:   res.AccessToken,
			RefreshToken:  res.RefreshToken,
			ExpireEpoch:   res.ExpiresAt.UnixMilli(),
		},
	}
}

// deleteToken is DELETE /auth/token: expire the session named by the
// AccessToken header and/or the tokens of the body.
func (s *Server) deleteToken(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	c, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	var req authRequest
	if err := readJSON(r, &req, true); err != nil {
		s.writeError(w, r, err)
		return
	}
	er := issuer.ExpireRequest{HeaderAccessToken: r.Header.Get("AccessToken")}
	if req.Session != nil {
		er.AccessToken = req.Session.AccessToken
		er.IDToken = req.Session.Authorization
		er.RefreshToken = req.Session.RefreshToken
	}
	res, err := s.Issuer.Expire(r.Context(), c, er)
	s.observe(OpExpire, err)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	username := cmp.Or(res.Username, req.Username)
	writeJSON(w, http.StatusOK, authResponse{
		EndpointURL: res.Tenant.EndpointURL,
		ClientID:    res.Tenant.ClientID,
		UserPoolID:  res.Tenant.UserPoolID,
		Username:    username,
		Session:     sessionResponse{ExpireEpoch: res.RevokedAt.UnixMilli()},
	})
}
