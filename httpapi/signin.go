package httpapi

import (
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/issuer"
)

// The authorization endpoint and the hosted sign-in page (SPEC §9). The
// rules live in issuer (authorize.go); this file renders pages, sets
// cookies and redirects. Pages are html/template files embedded in the
// binary, with one stylesheet and no script at all.

//go:embed web/templates/*.html web/static/*
var webFS embed.FS

var pages = template.Must(template.ParseFS(webFS, "web/templates/*.html"))

var staticFS, _ = fs.Sub(webFS, "web/static")

// Cookie names. Both have path /<pool>/, HttpOnly and SameSite=Lax.
const (
	sessionCookie = "actas_session" // the browser session (opaque, stored hashed)
	csrfCookie    = "actas_csrf"    // the sign-in form's CSRF token
)

type field struct {
	ID, Label, Type, Autocomplete, Value, Error string
	Focus                                       bool
	MaxLen                                      int
}

type pageData struct {
	Lang, Title, Tenant, Client, Static string
	Action, CSRF, Username              string
	MinLength                           int
	Fields                              map[string]*field
	Message, Detail                     string
	IsError                             bool
}

func (s *Server) newPage(r *http.Request, t *actas.Tenant, title string) *pageData {
	name := "actas"
	if t != nil {
		name = t.Name
	}
	return &pageData{Lang: "en", Title: title, Tenant: name, Static: "/" + r.PathValue("pool") + "/oauth2/static"}
}

// pageCSP is the Content-Security-Policy of every page: no script at all,
// the one stylesheet, no framing, and forms that post only here — and,
// when the form's answer redirects to a client, to that client's origin
// (browsers apply form-action to the redirect that ends a form POST).
func pageCSP(redirectOrigin string) string {
	fa := "'self'"
	if redirectOrigin != "" {
		fa += " " + redirectOrigin
	}
	return "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action " + fa + "; frame-ancestors 'none'"
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, tmpl, redirectOrigin string, d *pageData) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", pageCSP(redirectOrigin))
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	var b strings.Builder
	if err := pages.ExecuteTemplate(&b, tmpl, d); err != nil {
		setCause(r, err)
		http.Error(w, "Internal error", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// errorPage shows a refusal that must not redirect: the client or its
// redirect URI cannot be trusted.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, t *actas.Tenant, status int, msg, detail string) {
	d := s.newPage(r, t, "Sign-in error")
	d.Message, d.Detail, d.IsError = msg, detail, true
	s.render(w, r, status, "message", "", d)
}

func (s *Server) pageTenant(w http.ResponseWriter, r *http.Request) (*actas.Tenant, bool) {
	t, err := s.Issuer.TenantByPoolID(r.Context(), r.PathValue("pool"))
	if errors.Is(err, actas.ErrNotFound) {
		s.errorPage(w, r, nil, http.StatusNotFound, "This sign-in address does not exist.", "unknown user pool")
		return nil, false
	} else if err != nil {
		s.pageFailure(w, r, nil, err)
		return nil, false
	}
	setTenant(r, t.Name)
	return t, true
}

func (s *Server) pageFailure(w http.ResponseWriter, r *http.Request, t *actas.Tenant, err error) {
	status := httpStatus(err)
	if status >= 500 {
		setCause(r, err)
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	s.errorPage(w, r, t, status, "Sign-in is not available right now. Please try again in a moment.", "")
}

func (s *Server) cookie(r *http.Request, name, value string, maxAge time.Duration) *http.Cookie {
	c := &http.Cookie{
		Name: name, Value: value, Path: "/" + r.PathValue("pool") + "/",
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.Issuer.SecureCookies(),
	}
	if maxAge > 0 {
		c.MaxAge = int(maxAge / time.Second)
	} else if maxAge < 0 {
		c.MaxAge = -1
	}
	return c
}

func cookieValue(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}

// csrfToken returns the browser's CSRF token, setting a new cookie when it
// has none. The token is bound to the browser by the cookie, not to
// Origin or Referer (which no-referrer turns into "null").
func (s *Server) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if v := cookieValue(r, csrfCookie); validCSRF(v) {
		return v
	}
	var b [32]byte
	_, _ = rand.Read(b[:])
	v := base64.RawURLEncoding.EncodeToString(b[:])
	http.SetCookie(w, s.cookie(r, csrfCookie, v, 0))
	return v
}

func validCSRF(v string) bool {
	if len(v) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil
}

// authorize is GET and POST /<pool>/oauth2/authorize: with a live browser
// session (and neither prompt=login nor an exceeded max_age) it answers
// with a code at once (single sign-on); else GET shows the sign-in page,
// and POST checks what it sent.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	t, ok := s.pageTenant(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	ar, err := s.Issuer.ParseAuthorize(ctx, t, r.URL.Query())
	var ae *issuer.AuthorizeError
	if errors.As(err, &ae) {
		if !ae.Redirect {
			s.errorPage(w, r, t, http.StatusBadRequest, "This sign-in request cannot be trusted, so you have not been sent back to the application.", ae.Code+": "+ae.Description)
			return
		}
		s.redirect(w, r, s.Issuer.ErrorRedirect(ae))
		return
	} else if err != nil {
		s.pageFailure(w, r, t, err)
		return
	}
	b, err := s.Issuer.FindBrowserSession(ctx, t, cookieValue(r, sessionCookie))
	if err != nil {
		s.pageFailure(w, r, t, err)
		return
	}
	if r.Method == http.MethodPost {
		s.signIn(w, r, ar)
		return
	}
	if !s.Issuer.NeedsLogin(ar, b) {
		s.issueCode(w, r, ar, b)
		return
	}
	if ar.Prompt == "none" {
		s.redirect(w, r, s.Issuer.ErrorRedirect(&issuer.AuthorizeError{Code: "login_required",
			Description: "the user is not signed in", Redirect: true, Request: ar}))
		return
	}
	s.signInPage(w, r, ar, http.StatusOK, "signin", ar.LoginHint, "", nil)
}

func (s *Server) redirect(w http.ResponseWriter, r *http.Request, to string) {
	w.Header().Set("Cache-Control", "no-store")
	status := http.StatusFound
	if r.Method == http.MethodPost {
		status = http.StatusSeeOther // the browser follows with GET
	}
	http.Redirect(w, r, to, status)
}

func (s *Server) issueCode(w http.ResponseWriter, r *http.Request, ar *issuer.AuthorizeRequest, b *issuer.BrowserSession) {
	to, err := s.Issuer.IssueCode(r.Context(), ar, b)
	if err != nil {
		s.pageFailure(w, r, ar.Tenant, err)
		return
	}
	s.redirect(w, r, to)
}

// signInPage renders the sign-in form (step "signin") or the required
// password change (step "password"), with err's message tied to its field.
func (s *Server) signInPage(w http.ResponseWriter, r *http.Request, ar *issuer.AuthorizeRequest, status int, step, username, errField string, err error) {
	title := "Sign in"
	if step == "password" {
		title = "Change your password"
	}
	d := s.newPage(r, ar.Tenant, title)
	d.Client = ar.Client.Name
	d.Action = r.URL.Path + "?" + r.URL.RawQuery
	d.CSRF = s.csrfToken(w, r)
	d.Username = username
	d.MinLength = issuer.MinPasswordLength(ar.Tenant)
	d.Fields = map[string]*field{
		"username":         {ID: "username", Label: "Username", Type: "text", Autocomplete: "username", Value: username, MaxLen: actas.MaxUsernameLen},
		"password":         {ID: "password", Label: "Password", Type: "password", Autocomplete: "current-password"},
		"new_password":     {ID: "new_password", Label: "New password", Type: "password", Autocomplete: "new-password"},
		"confirm_password": {ID: "confirm_password", Label: "Confirm new password", Type: "password", Autocomplete: "new-password"},
	}
	if step == "password" {
		d.Fields["password"].Label = "Current password"
	}
	if err != nil {
		if errField == "" {
			errField = "password"
		}
		d.Fields[errField].Error = actas.ErrorMessage(err)
		d.Fields[errField].Focus = true
	} else if step == "password" {
		d.Fields["password"].Focus = true
	} else if username == "" {
		d.Fields["username"].Focus = true
	} else {
		d.Fields["password"].Focus = true
	}
	s.render(w, r, status, step, ar.RedirectOrigin(), d)
}

var (
	errFormExpired = actas.Errorf(actas.EINVALID, "This form has expired. Please sign in again.")
	errMismatch    = actas.Errorf(actas.EINVALID, "The new passwords do not match")
)

// signIn is the POST of the sign-in page.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request, ar *issuer.AuthorizeRequest) {
	form, err := readForm(r)
	if err != nil {
		s.signInPage(w, r, ar, http.StatusBadRequest, "signin", "", "username", errFormExpired)
		return
	}
	username, step := form.Get("username"), form.Get("step")
	if step != "password" {
		step = "signin"
	}
	sent, want := form.Get("csrf_token"), cookieValue(r, csrfCookie)
	if !validCSRF(want) || subtle.ConstantTimeCompare([]byte(sent), []byte(want)) != 1 {
		s.signInPage(w, r, ar, http.StatusForbidden, "signin", username, "username", errFormExpired)
		return
	}
	req := issuer.PageSignInRequest{Tenant: ar.Tenant, Username: username, Password: form.Get("password"),
		IP: clientIP(r), UserAgent: r.UserAgent()}
	if step == "password" {
		req.NewPassword = form.Get("new_password")
		switch {
		case req.NewPassword == "":
			s.signInPage(w, r, ar, http.StatusBadRequest, step, username, "new_password", actas.Errorf(actas.EINVALID, "Enter a new password"))
			return
		case req.NewPassword != form.Get("confirm_password"):
			s.signInPage(w, r, ar, http.StatusBadRequest, step, username, "confirm_password", errMismatch)
			return
		}
	}
	res, err := s.Issuer.PageSignIn(r.Context(), req)
	if err != nil {
		status, errField := httpStatus(err), "password"
		switch {
		case errors.Is(err, issuer.ErrPageCredentials):
			status = http.StatusUnauthorized
		case actas.ErrorCode(err) == actas.EINVALID && username == "":
			errField = "username"
		case actas.ErrorCode(err) == actas.EINVALID && step == "password" && req.Password != "":
			errField = "new_password" // the policy refused it
		case actas.ErrorCode(err) == actas.ETHROTTLED || actas.ErrorCode(err) == actas.EUNAVAILABLE:
			// The error's own Retry-After, or 1 for one without (a storage
			// fault), as every other 429 and 503 (SPEC §2).
			setRetryAfter(w, status, err)
		case status >= 500:
			s.pageFailure(w, r, ar.Tenant, err)
			return
		}
		s.signInPage(w, r, ar, status, step, username, errField, err)
		return
	}
	if res.MustChangePassword {
		s.signInPage(w, r, ar, http.StatusOK, "password", username, "", nil)
		return
	}
	// A new cookie at every sign-in: the old one, if any, is forgotten.
	s.Issuer.ForgetBrowserCookie(r.Context(), ar.Tenant, cookieValue(r, sessionCookie), res.Browser)
	http.SetCookie(w, s.cookie(r, sessionCookie, res.Cookie, time.Until(res.Browser.Session.ExpiresAt)))
	s.issueCode(w, r, ar, res.Browser)
}

// logout is GET and POST /<pool>/oauth2/logout (OpenID RP-Initiated
// Logout 1.0).
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	t, ok := s.pageTenant(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		form, err := readForm(r)
		if err != nil {
			s.errorPage(w, r, t, http.StatusBadRequest, "This sign-out request is malformed.", actas.ErrorMessage(err))
			return
		}
		q = form
	}
	for k, v := range q {
		if len(v) > 1 {
			s.errorPage(w, r, t, http.StatusBadRequest, "This sign-out request is malformed.", truncateParam(k)+" is repeated")
			return
		}
	}
	to, err := s.Issuer.Logout(r.Context(), issuer.LogoutRequest{
		Tenant: t, IDTokenHint: q.Get("id_token_hint"), ClientID: q.Get("client_id"),
		PostLogoutRedirectURI: q.Get("post_logout_redirect_uri"), State: q.Get("state"),
		Cookie: cookieValue(r, sessionCookie),
	})
	var ae *issuer.AuthorizeError
	if errors.As(err, &ae) {
		s.errorPage(w, r, t, http.StatusBadRequest, "This sign-out request cannot be trusted, so you have not been sent back to the application.", ae.Code+": "+ae.Description)
		return
	} else if err != nil {
		s.pageFailure(w, r, t, err)
		return
	}
	http.SetCookie(w, s.cookie(r, sessionCookie, "", -1))
	if to != "" {
		s.redirect(w, r, to)
		return
	}
	d := s.newPage(r, t, "Signed out")
	d.Message = "You have been signed out."
	s.render(w, r, http.StatusOK, "message", "", d)
}

// mountSignIn mounts the routes of browser sign-in.
func (s *Server) mountSignIn(mux *http.ServeMux) {
	for _, m := range []string{"GET", "POST"} {
		mux.HandleFunc(m+" /{pool}/oauth2/authorize", s.authorize)
		mux.HandleFunc(m+" /{pool}/oauth2/logout", s.logout)
		mux.HandleFunc(m+" /{pool}/oauth2/userinfo", s.userinfo)
	}
	for _, p := range []string{"authorize", "logout", "userinfo"} {
		mux.HandleFunc("/{pool}/oauth2/"+p, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", "GET, POST")
			writeJSON(w, http.StatusMethodNotAllowed, oauthError{Error: "invalid_request", Description: "use GET or POST"})
		})
	}
	mux.HandleFunc("GET /{pool}/oauth2/static/{file}", s.static)
}

// httpStatus is the status of err in the edge's one table.
func httpStatus(err error) int {
	if st, ok := statusOf[actas.ErrorCode(err)]; ok {
		return st
	}
	return http.StatusInternalServerError
}

// static serves the page's embedded stylesheet.
func (s *Server) static(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=86400")
	http.ServeFileFS(w, r, staticFS, r.PathValue("file"))
}

// userinfo is GET and POST /<pool>/oauth2/userinfo (OpenID Connect Core
// §5.3), with the access token as a Bearer token (RFC 6750 §2.1) or, on
// POST, the access_token form field (§2.2).
func (s *Server) userinfo(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	t, ok := s.oauthTenant(w, r)
	if !ok {
		return
	}
	// The scheme is case-insensitive (RFC 7235 §2.1).
	scheme, raw, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if ok = ok && strings.EqualFold(scheme, "Bearer"); !ok {
		raw = ""
	}
	if !ok && r.Method == http.MethodPost && r.Header.Get("Authorization") == "" {
		if form, err := readForm(r); err == nil {
			raw = form.Get("access_token")
		}
	}
	claims, err := s.Issuer.UserInfo(r.Context(), t, strings.TrimSpace(raw))
	if errors.Is(err, issuer.ErrInvalidToken) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="the access token is invalid, expired or revoked"`)
		writeJSON(w, http.StatusUnauthorized, oauthError{Error: "invalid_token", Description: actas.ErrorMessage(err)})
		return
	} else if err != nil {
		s.writeOAuthError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, claims)
}
