package issuer

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/password"
)

// The authorization endpoint and the hosted sign-in page (SPEC §9): the
// rules, without HTTP. httpapi parses the request into url.Values, calls
// ParseAuthorize, and renders what these functions decide.

// Scopes a client may ask for.
var knownScopes = []string{"openid", "email", "profile", "offline_access"}

// Bounds on authorization request parameters.
const (
	maxStateLen     = 1024
	maxNonceLen     = 512
	maxLoginHintLen = actas.MaxUsernameLen
	codeTTL         = 60 * time.Second // SPEC §9: a code is valid 60 s
	// browserSessionTTL bounds single sign-on: after it the page asks
	// for the password again (Keycloak's "SSO Session Max" is 10 h).
	browserSessionTTL = 12 * time.Hour
)

// AuthorizeRequest is a validated authorization request.
type AuthorizeRequest struct {
	Tenant        *actas.Tenant
	Client        *actas.OAuthClient
	RedirectURI   string // as requested (it matched a registered one)
	State         string
	Nonce         string
	Scope         string // normalised: known scopes, space-separated, in request order
	CodeChallenge string
	Prompt        string // "", "none" or "login"
	MaxAge        int    // seconds; -1 when not sent
	LoginHint     string
}

// AuthorizeError is a refusal of the authorization endpoint. When
// Redirect is false the client or its redirect URI cannot be trusted:
// the browser is shown an error page and never redirected (RFC 6749
// §4.1.2.1).
type AuthorizeError struct {
	Code        string // the OAuth error code
	Description string
	Redirect    bool
	Request     *AuthorizeRequest // set when Redirect is true
}

func (e *AuthorizeError) Error() string { return e.Code + ": " + e.Description }

// ParseAuthorize validates an authorization request of tenant t. A
// refusal is an *AuthorizeError; any other error is a storage failure.
func (i *Issuer) ParseAuthorize(ctx context.Context, t *actas.Tenant, q url.Values) (*AuthorizeRequest, error) {
	page := func(code, desc string) error { return &AuthorizeError{Code: code, Description: desc} }
	for _, k := range []string{"client_id", "redirect_uri"} {
		if len(q[k]) > 1 {
			return nil, page("invalid_request", k+" is repeated")
		}
	}
	id := q.Get("client_id")
	if id == "" {
		return nil, page("invalid_request", "client_id is required")
	}
	if !actas.ValidOAuthClientID(id) {
		return nil, page("invalid_client", "unknown client")
	}
	c, err := i.store.OAuthClient(ctx, t.ID, id)
	if errors.Is(err, actas.ErrNotFound) {
		return nil, page("invalid_client", "unknown client")
	} else if err != nil {
		return nil, wrap("find client", err)
	}
	ru := q.Get("redirect_uri")
	if ru == "" {
		return nil, page("invalid_request", "redirect_uri is required")
	}
	if _, ok := matchRedirectURI(c, ru); !ok {
		return nil, page("invalid_request", "redirect_uri is not registered for this client")
	}
	ar := &AuthorizeRequest{Tenant: t, Client: c, RedirectURI: ru, MaxAge: -1}
	fail := func(code, desc string) error {
		return &AuthorizeError{Code: code, Description: desc, Redirect: true, Request: ar}
	}
	if s := q.Get("state"); len(s) <= maxStateLen {
		ar.State = s // echoed on every redirect, errors included
	} else {
		return nil, fail("invalid_request", "state is too long")
	}
	for k, v := range q {
		if len(v) > 1 {
			return nil, fail("invalid_request", truncate(k, 32)+" is repeated")
		}
	}
	switch {
	case q.Has("request"):
		return nil, fail("request_not_supported", "request objects are not supported")
	case q.Has("request_uri"):
		return nil, fail("request_uri_not_supported", "request_uri is not supported")
	}
	switch rt := q.Get("response_type"); {
	case rt == "":
		return nil, fail("invalid_request", "response_type is required")
	case rt != "code":
		return nil, fail("unsupported_response_type", "only response_type=code is supported")
	}
	if rm := q.Get("response_mode"); rm != "" && rm != "query" {
		return nil, fail("invalid_request", "only response_mode=query is supported")
	}
	scope, err := parseScope(q.Get("scope"))
	if err != nil {
		return nil, fail("invalid_scope", err.Error())
	}
	ar.Scope = scope
	switch m := q.Get("code_challenge_method"); {
	case q.Get("code_challenge") == "":
		return nil, fail("invalid_request", "code_challenge is required (PKCE with S256)")
	case m == "":
		return nil, fail("invalid_request", "code_challenge_method is required and must be S256")
	case m != "S256":
		return nil, fail("invalid_request", "code_challenge_method must be S256; plain is not allowed")
	}
	ar.CodeChallenge = q.Get("code_challenge")
	if !validChallenge(ar.CodeChallenge) {
		return nil, fail("invalid_request", "code_challenge must be the 43-character base64url SHA-256 of the verifier")
	}
	switch ar.Nonce = q.Get("nonce"); {
	case len(ar.Nonce) > maxNonceLen:
		return nil, fail("invalid_request", "nonce is too long")
	case !utf8.ValidString(ar.Nonce):
		// It is stored with the code and returned in the ID token, both as
		// text: bytes that are not UTF-8 could not come back as sent.
		return nil, fail("invalid_request", "nonce must be UTF-8")
	}
	prompt, err := parsePrompt(q.Get("prompt"))
	if err != nil {
		return nil, fail("invalid_request", err.Error())
	}
	ar.Prompt = prompt
	if s := q.Get("max_age"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || len(s) > 10 {
			return nil, fail("invalid_request", "max_age must be a number of seconds")
		}
		ar.MaxAge = n
	}
	ar.LoginHint = truncate(q.Get("login_hint"), maxLoginHintLen)
	return ar, nil
}

// parsePrompt reads OpenID Connect Core §3.1.2.1's space-delimited
// prompt into what actas acts on: "none", "login" or "". login and
// select_account both ask for the form (actas has one account per
// browser session, so choosing one is signing in again); consent is
// granted already, as actas's clients are the tenant's own and it shows
// no consent screen. none with any other value is an error, as is a value
// OpenID Connect does not define.
func parsePrompt(s string) (string, error) {
	vals := strings.Fields(s)
	out := ""
	for _, v := range vals {
		switch v {
		case "none":
			if len(vals) > 1 {
				return "", errors.New("prompt=none cannot be combined with other values")
			}
			out = "none"
		case "login", "select_account":
			out = "login"
		case "consent":
		default:
			return "", errors.New("prompt must be none, login, consent or select_account")
		}
	}
	return out, nil
}

// parseScope keeps the request's order, drops repeats, and requires
// openid. A scope value actas does not know is left out of what is
// granted, not refused (OpenID Connect Core §3.1.2.1: values not
// understood SHOULD be ignored); the token response's scope tells the
// client what it got (RFC 6749 §3.3).
func parseScope(s string) (string, error) {
	var out []string
	for _, sc := range strings.Fields(s) {
		if !contains(knownScopes, sc) {
			continue
		}
		if !contains(out, sc) {
			out = append(out, sc)
		}
	}
	if !contains(out, "openid") {
		return "", errors.New("scope must include openid")
	}
	return strings.Join(out, " "), nil
}

func hasScope(scope, s string) bool { return contains(strings.Fields(scope), s) }

func validChallenge(s string) bool {
	if len(s) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

// Redirect returns the redirect URI with params added to its query, and
// iss (RFC 9207).
func (i *Issuer) Redirect(ar *AuthorizeRequest, params url.Values) string {
	u, err := url.Parse(ar.RedirectURI)
	if err != nil { // it matched a registered URI, which parsed
		return ar.RedirectURI
	}
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	if ar.State != "" {
		q.Set("state", ar.State)
	}
	q.Set("iss", i.Issuer(ar.Tenant))
	u.RawQuery = q.Encode()
	return u.String()
}

// ErrorRedirect returns where a redirectable refusal sends the browser.
func (i *Issuer) ErrorRedirect(e *AuthorizeError) string {
	return i.Redirect(e.Request, url.Values{"error": {e.Code}, "error_description": {e.Description}})
}

// RedirectOrigin returns the origin (scheme://host[:port]) of the
// request's redirect URI, for the sign-in page's form-action.
func (ar *AuthorizeRequest) RedirectOrigin() string {
	u, err := url.Parse(ar.RedirectURI)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// BrowserSession is a live browser session found by its cookie.
type BrowserSession struct {
	Session *actas.Session
	User    *actas.User
}

// FindBrowserSession returns the live session of a browser-session
// cookie of tenant t, or nil when there is none: no such cookie, another
// tenant's, revoked, expired, or its user gone or disabled.
func (i *Issuer) FindBrowserSession(ctx context.Context, t *actas.Tenant, cookie string) (*BrowserSession, error) {
	if len(cookie) != refreshTokenLen {
		return nil, nil
	}
	b, err := i.store.BrowserSession(ctx, hashSecret(cookie))
	if errors.Is(err, actas.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, wrap("find browser session", err)
	}
	if b.TenantID != t.ID {
		return nil, nil
	}
	s, err := i.store.Session(ctx, b.SessionID)
	if errors.Is(err, actas.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, wrap("find browser session", err)
	}
	now := i.now()
	if s.Revoked() || !now.Before(s.ExpiresAt) || i.revoked.Revoked(s.ID) {
		return nil, nil
	}
	u, err := i.store.User(ctx, t.ID, s.UserID)
	if errors.Is(err, actas.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, wrap("find browser session", err)
	}
	if !u.Active() || u.MustChangePassword {
		return nil, nil
	}
	return &BrowserSession{Session: s, User: u}, nil
}

// NeedsLogin reports whether a request must show the sign-in page even
// with a live browser session: prompt=login, or max_age has passed.
func (i *Issuer) NeedsLogin(ar *AuthorizeRequest, b *BrowserSession) bool {
	if b == nil || ar.Prompt == "login" {
		return true
	}
	return ar.MaxAge >= 0 && i.now().Sub(b.Session.AuthTime) >= time.Duration(ar.MaxAge)*time.Second
}

// IssueCode issues an authorization code for the request from browser
// session b and returns the redirect that carries it.
func (i *Issuer) IssueCode(ctx context.Context, ar *AuthorizeRequest, b *BrowserSession) (string, error) {
	now := i.now()
	code, _ := newRefreshToken("", 0, now)
	c := &actas.AuthCode{
		Hash: hashSecret(code), TenantID: ar.Tenant.ID, ClientID: ar.Client.ID, RedirectURI: ar.RedirectURI,
		CodeChallenge: ar.CodeChallenge, Nonce: ar.Nonce, Scope: ar.Scope, ParentID: b.Session.ID,
		UserID: b.User.ID, AuthTime: b.Session.AuthTime, ExpiresAt: now.Add(codeTTL), CreatedAt: now,
	}
	if err := i.store.CreateAuthCode(ctx, c); err != nil {
		return "", wrap("create code", err)
	}
	return i.Redirect(ar, url.Values{"code": {code}}), nil
}

// Messages of the sign-in page. A wrong password, an unknown user and a
// disabled user all get the first.
var (
	ErrPageCredentials = actas.Errorf(actas.EUNAUTHORIZED, "Incorrect username or password")
	errPageNoUsername  = actas.Errorf(actas.EINVALID, "Enter your username")
	errPageNoPassword  = actas.Errorf(actas.EINVALID, "Enter your password")
)

// PageSignInRequest is a sign-in through the hosted page.
type PageSignInRequest struct {
	Tenant      *actas.Tenant
	Username    string
	Password    string
	NewPassword string // the required change, on the second page
	IP          string
	UserAgent   string
}

// PageSignInResult is a successful page sign-in.
type PageSignInResult struct {
	// MustChangePassword: the password was right but must be changed;
	// no session was started. The page asks for a new password.
	MustChangePassword bool
	Browser            *BrowserSession
	Cookie             string // the new browser-session cookie's value
}

// PageSignIn checks a username and password through the one credential
// check (verifyCredentials: same throttle, same indistinguishable
// failures as POST /auth/token) and starts a browser session with a new
// cookie. A disabled user gets the wrong-password message. With
// NewPassword set, a user who must change their password changes it
// (checkNewPassword) and is signed in. Every attempt is audited.
func (i *Issuer) PageSignIn(ctx context.Context, r PageSignInRequest) (*PageSignInResult, error) {
	t := r.Tenant
	if r.Username == "" {
		return nil, errPageNoUsername
	}
	if r.Password == "" {
		return nil, errPageNoPassword
	}
	now := i.now()
	ua := truncate(r.UserAgent, 512)
	audit := func(action string, u *actas.User, outcome, details string) {
		ev := &actas.AuditEvent{Time: now, TenantID: t.ID, Action: action, Subject: truncate(r.Username, actas.MaxUsernameLen),
			IP: r.IP, UserAgent: ua, Outcome: outcome, Details: details}
		if u != nil {
			ev.SubjectID, ev.ActorID, ev.Actor, ev.Subject = u.ID, u.ID, u.Username, u.Username
		}
		if err := i.store.AppendAudit(ctx, ev); err != nil {
			i.log.Warn("audit page sign-in failed", "err", err)
		}
	}
	u, err := i.verifyCredentials(ctx, t, r.Username, r.Password, r.IP, now)
	if err != nil {
		details := "wrong username or password"
		if actas.ErrorCode(err) == actas.ETHROTTLED {
			details = "throttled"
		}
		audit(actas.ActionPageSignIn, nil, actas.OutcomeDenied, details)
		if actas.ErrorCode(err) == actas.EUNAUTHORIZED {
			return nil, ErrPageCredentials
		}
		return nil, err
	}
	if !u.Active() {
		audit(actas.ActionPageSignIn, u, actas.OutcomeDenied, "user is disabled")
		return nil, ErrPageCredentials
	}
	if u.MustChangePassword {
		if r.NewPassword == "" {
			audit(actas.ActionPageSignIn, u, actas.OutcomeDenied, "password change required")
			return &PageSignInResult{MustChangePassword: true}, nil
		}
		if u, err = i.changeRequiredPassword(ctx, t, u, r.NewPassword, now); err != nil {
			audit(actas.ActionPasswordChange, u, actas.OutcomeDenied, actas.ErrorMessage(err))
			return nil, err
		}
		audit(actas.ActionPasswordChange, u, actas.OutcomeAllowed, "required password change at sign-in")
	}
	ttl := min(browserSessionTTL, t.Settings.RefreshTTL.D())
	s := &actas.Session{
		ID: actas.NewID(), TenantID: t.ID, UserID: u.ID, AuthTime: now, ExpiresAt: now.Add(ttl),
		ClientIP: r.IP, UserAgent: ua, CreatedAt: now,
	}
	ev := &actas.AuditEvent{
		Time: now, TenantID: t.ID, Action: actas.ActionPageSignIn, ActorID: u.ID, Actor: u.Username,
		SubjectID: u.ID, Subject: u.Username, SessionID: s.ID, IP: r.IP, UserAgent: ua, Outcome: actas.OutcomeAllowed,
	}
	if err := i.store.CreateSession(ctx, s, nil, ev); errors.Is(err, actas.ErrNotFound) {
		return nil, ErrPageCredentials // deleted meanwhile
	} else if err != nil {
		return nil, wrap("create browser session", err)
	}
	cookie, _ := newRefreshToken(s.ID, 0, now)
	if err := i.store.CreateBrowserSession(ctx, &actas.BrowserSession{Hash: hashSecret(cookie), TenantID: t.ID, SessionID: s.ID, CreatedAt: now}); err != nil {
		_ = i.revokeSessions(ctx, actas.RevokeQuery{TenantID: t.ID, SessionID: s.ID}, now, actas.ReasonAdmin)
		return nil, wrap("create browser session", err)
	}
	// As in SignIn: a change made while the hash ran wins.
	if changed, err := i.userChanged(ctx, u); err != nil || changed {
		_ = i.revokeSessions(ctx, actas.RevokeQuery{TenantID: t.ID, SessionID: s.ID}, now, actas.ReasonAdmin)
		if err != nil {
			return nil, err
		}
		return nil, ErrPageCredentials
	}
	return &PageSignInResult{Browser: &BrowserSession{Session: s, User: u}, Cookie: cookie}, nil
}

// ForgetBrowserCookie drops the row of a browser-session cookie that a
// new sign-in replaces, so that the old cookie can never be presented
// again (no session fixation). If the old session belonged to another
// user it is ended with its children.
func (i *Issuer) ForgetBrowserCookie(ctx context.Context, t *actas.Tenant, cookie string, now *BrowserSession) {
	if len(cookie) != refreshTokenLen {
		return
	}
	h := hashSecret(cookie)
	b, err := i.store.BrowserSession(ctx, h)
	if err != nil || b.TenantID != t.ID {
		return
	}
	_ = i.store.DeleteBrowserSession(ctx, h)
	if old, err := i.store.Session(ctx, b.SessionID); err == nil && (now == nil || old.UserID != now.User.ID) {
		_ = i.revokeSessions(ctx, actas.RevokeQuery{TenantID: t.ID, SessionID: old.ID}, i.now(), actas.ReasonLogout)
	}
}

// checkPagePassword checks the new password of the required change on
// the sign-in page: the tenant's policy (SPEC §8, checkNewPassword, the
// same as every other path that sets a password) and, as at
// POST /auth/token with newPassword, different from the current one.
func (i *Issuer) checkPagePassword(ctx context.Context, t *actas.Tenant, u *actas.User, pw string) error {
	if err := checkNewPassword(t, u.Username, pw); err != nil {
		return err
	}
	same, err := i.hasher.Verify(ctx, u.PasswordHash, pw)
	if err != nil {
		return wrap("verify password", err)
	}
	if same {
		return errSamePassword
	}
	return nil
}

// MinPasswordLength is the tenant's minimum password length under the
// policy of SPEC §8 (checkNewPassword), for the page to show.
func MinPasswordLength(t *actas.Tenant) int {
	return password.Policy{MinLength: t.Settings.PasswordMinLength}.Min()
}

// changeRequiredPassword stores a new password for a user whose password
// was just checked, and clears must_change_password; it fails if the
// password changed meanwhile.
func (i *Issuer) changeRequiredPassword(ctx context.Context, t *actas.Tenant, u *actas.User, pw string, now time.Time) (*actas.User, error) {
	if err := i.checkPagePassword(ctx, t, u, pw); err != nil {
		return u, err
	}
	hash, err := i.hasher.Hash(ctx, pw)
	if err != nil {
		return u, wrap("hash password", err)
	}
	old := u.PasswordHash
	nu, err := i.store.UpdateUser(ctx, t.ID, u.ID, func(x *actas.User) error {
		if x.PasswordHash != old {
			return ErrPageCredentials
		}
		x.PasswordHash, x.MustChangePassword, x.UpdatedAt = hash, false, now
		return nil
	})
	if err != nil {
		return u, wrap("change password", err)
	}
	return nu, nil
}

// s256 is the PKCE S256 transform (RFC 7636 §4.2).
func s256(verifier string) string {
	h := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// SecureCookies reports whether cookies must carry Secure: the public
// URL is https.
func (i *Issuer) SecureCookies() bool { return strings.HasPrefix(i.publicURL, "https://") }
