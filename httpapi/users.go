package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/issuer"
)

// The user administration API (SPEC §7) and POST /auth/password (§8).
// Handlers parse and answer; the rules are the issuer's.

// isUsersPath reports whether path belongs to the user administration
// API. Its routes live on a mux of their own: as patterns, /user/{id} and
// the tenants' /{pool}/… routes overlap, though no userPoolId is "user".
func isUsersPath(p string) bool {
	return p == "/user" || strings.HasPrefix(p, "/user/") || p == "/security/groups" ||
		strings.HasPrefix(p, "/security/groups/") || p == "/audit" || p == "/auth/password"
}

// withUsers serves the user administration API's paths, and hands every
// other request to next.
func (s *Server) withUsers(next http.Handler) http.Handler {
	mux := http.NewServeMux()
	s.mountUsers(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, actas.Errorf(actas.ENOTFOUND, "Not Found"))
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isUsersPath(r.URL.Path) {
			mux.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// mountUsers adds the routes of SPEC §7 and §8 to mux.
func (s *Server) mountUsers(mux *http.ServeMux) {
	mux.HandleFunc("GET /user", s.caller(s.getMe))
	mux.HandleFunc("POST /user", s.caller(s.postUser))
	mux.HandleFunc("GET /user/{id}", s.caller(s.getUser))
	mux.HandleFunc("PATCH /user/{id}", s.caller(s.patchUser))
	mux.HandleFunc("DELETE /user/{id}", s.caller(s.deleteUser))
	mux.HandleFunc("PATCH /user/{id}/add-to-group", s.caller(s.groupChange(true)))
	mux.HandleFunc("PATCH /user/{id}/remove-from-group", s.caller(s.groupChange(false)))
	mux.HandleFunc("POST /user/{id}/password", s.caller(s.postUserPassword))
	// GET /user/search/{text} and GET /user/{id}/sessions overlap as
	// patterns (GET /user/search/sessions): one route tells them apart.
	mux.HandleFunc("GET /user/{id}/{sub}", s.caller(s.getUserSub))
	mux.HandleFunc("DELETE /user/{id}/sessions", s.caller(s.deleteUserSessions))
	mux.HandleFunc("GET /security/groups", s.caller(s.getGroups))
	mux.HandleFunc("POST /security/groups", s.caller(s.postGroup))
	mux.HandleFunc("DELETE /security/groups/{id}", s.caller(s.deleteGroup))
	mux.HandleFunc("GET /audit", s.caller(s.getAudit))
	mux.HandleFunc("POST /auth/password", s.caller(s.postPassword))
	// Any other method on a known path: 405 in the envelope, with Allow.
	mux.HandleFunc("/auth/password", s.methodNotAllowed("POST"))
	mux.HandleFunc("/user", s.methodNotAllowed("GET, POST"))
	mux.HandleFunc("/user/{id}", s.methodNotAllowed("GET, PATCH, DELETE"))
	mux.HandleFunc("/user/{id}/{sub}", s.userSubNotAllowed)
	mux.HandleFunc("/security/groups", s.methodNotAllowed("GET, POST"))
	mux.HandleFunc("/security/groups/{id}", s.methodNotAllowed("DELETE"))
	mux.HandleFunc("/audit", s.methodNotAllowed("GET"))
}

// userSubNotAllowed answers a method a /user/{id}/… route does not serve.
func (s *Server) userSubNotAllowed(w http.ResponseWriter, r *http.Request) {
	allow := map[string]string{"sessions": "GET, DELETE", "add-to-group": "PATCH", "remove-from-group": "PATCH", "password": "POST"}
	if r.PathValue("id") == "search" {
		s.methodNotAllowed("GET")(w, r)
	} else if a, ok := allow[r.PathValue("sub")]; ok {
		s.methodNotAllowed(a)(w, r)
	} else {
		s.writeError(w, r, actas.Errorf(actas.ENOTFOUND, "Not Found"))
	}
}

// getUserSub is GET /user/search/{text} or GET /user/{id}/sessions.
func (s *Server) getUserSub(w http.ResponseWriter, r *http.Request, c *issuer.Caller) {
	switch {
	case r.PathValue("id") == "search":
		s.searchUsers(w, r, c)
	case r.PathValue("sub") == "sessions":
		s.getUserSessions(w, r, c)
	default:
		s.writeError(w, r, actas.Errorf(actas.ENOTFOUND, "Not Found"))
	}
}

type callerHandler func(w http.ResponseWriter, r *http.Request, c *issuer.Caller)

// caller authenticates the API key, then the caller's tokens (SPEC §7).
func (s *Server) caller(h callerHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		noStore(w)
		cl, ok := s.authenticate(w, r)
		if !ok {
			return
		}
		c, err := s.Issuer.AuthenticateCaller(r.Context(), cl, issuer.CallerRequest{
			Authorization: bearer(r.Header.Get("Authorization")),
			AccessToken:   bearer(r.Header.Get("AccessToken")),
			IP:            clientIP(r),
			UserAgent:     r.UserAgent(),
		})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		h(w, r, c)
	}
}

type actorJSON struct {
	UserID   string `json:"userId"`
	Username string `json:"username"`
}

// userJSON is the original's User object (SPEC §7).
type userJSON struct {
	UserID             string     `json:"userId"`
	CustomerID         string     `json:"customerId"`
	Username           string     `json:"username"`
	EmailID            string     `json:"emailId"`
	EmailVerified      bool       `json:"emailVerified"`
	FirstName          string     `json:"firstName"`
	LastName           string     `json:"lastName"`
	FriendlyName       string     `json:"friendlyName"`
	Company            string     `json:"company"`
	Country            string     `json:"country"`
	Contact            string     `json:"contact"`
	Phone              string     `json:"phone"`
	Status             string     `json:"status"`
	Groups             []string   `json:"groups"`
	GroupNames         []string   `json:"groupNames"`
	MustChangePassword bool       `json:"mustChangePassword"`
	CreatedAt          string     `json:"createdAt"`
	UpdatedAt          string     `json:"updatedAt"`
	ImpersonatedBy     *actorJSON `json:"impersonatedBy,omitempty"`
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func (s *Server) userView(r *http.Request, t *actas.Tenant, u *actas.User) (userJSON, error) {
	ids, err := s.Issuer.GroupIDs(r.Context(), t, u.Groups)
	if err != nil {
		return userJSON{}, err
	}
	names := u.Groups
	if names == nil {
		names = []string{}
	}
	status := issuer.StatusEnabled
	if !u.Active() {
		status = issuer.StatusDisabled
	}
	return userJSON{
		UserID: u.ID, CustomerID: t.UserPoolID, Username: u.Username, EmailID: u.Email,
		EmailVerified: u.EmailVerified, FirstName: u.FirstName, LastName: u.LastName,
		FriendlyName: u.FriendlyName, Company: u.Company, Country: u.Country, Contact: u.Contact,
		Phone: u.Phone, Status: status, Groups: ids, GroupNames: names,
		MustChangePassword: u.MustChangePassword, CreatedAt: rfc3339(u.CreatedAt), UpdatedAt: rfc3339(u.UpdatedAt),
	}, nil
}

func (s *Server) writeUser(w http.ResponseWriter, r *http.Request, c *issuer.Caller, u *actas.User) {
	v, err := s.userView(r, c.Client.Tenant, u)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if c.Act != nil && u.ID == c.User.ID {
		v.ImpersonatedBy = &actorJSON{UserID: c.Act.Sub, Username: c.Act.Username}
	}
	writeJSON(w, http.StatusOK, v)
}

type successJSON struct {
	Status string `json:"status"`
}

var success = successJSON{Status: "success"}

func (s *Server) getMe(w http.ResponseWriter, r *http.Request, c *issuer.Caller) {
	s.writeUser(w, r, c, s.Issuer.Me(c))
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request, c *issuer.Caller) {
	u, err := s.Issuer.GetUser(r.Context(), c, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeUser(w, r, c, u)
}

func (s *Server) searchUsers(w http.ResponseWriter, r *http.Request, c *issuer.Caller) {
	q := r.URL.Query()
	limit := 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			s.writeError(w, r, actas.Errorf(actas.EINVALID, "limit must be between 1 and 100"))
			return
		}
		limit = n
	}
	us, err := s.Issuer.SearchUsers(r.Context(), c, r.PathValue("sub"), q.Get("after"), limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	data := make([]userJSON, 0, len(us))
	for _, u := range us {
		v, err := s.userView(r, c.Client.Tenant, u)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		data = append(data, v)
	}
	writeJSON(w, http.StatusOK, struct {
		Status string     `json:"status"`
		Data   []userJSON `json:"data"`
	}{"success", data})
}

type profileJSON struct {
	FirstName    *string    `json:"firstName"`
	LastName     *string    `json:"lastName"`
	FriendlyName *string    `json:"friendlyName"`
	Company      *string    `json:"company"`
	Country      *string    `json:"country"`
	Contact      *phoneText `json:"contact"`
	Phone        *phoneText `json:"phone"`
}

func (p profileJSON) profile() issuer.Profile {
	return issuer.Profile{FirstName: p.FirstName, LastName: p.LastName, FriendlyName: p.FriendlyName,
		Company: p.Company, Country: p.Country, Contact: p.Contact.text(), Phone: p.Phone.text()}
}

type createUserJSON struct {
	profileJSON
	Username           string   `json:"username"`
	Password           string   `json:"password"`
	Email              string   `json:"email"`
	Groups             []string `json:"groups"`
	MustChangePassword *bool    `json:"mustChangePassword"`
}

func (s *Server) postUser(w http.ResponseWriter, r *http.Request, c *issuer.Caller) {
	var req createUserJSON
	if err := readJSON(r, &req, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := s.Issuer.CreateUserBy(r.Context(), c, issuer.NewUser{
		Username: req.Username, Password: req.Password, Email: req.Email, Profile: req.profile(),
		Groups: req.Groups, MustChangePassword: req.MustChangePassword,
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Status   string `json:"status"`
		UserID   string `json:"userId"`
		Username string `json:"username"`
	}{"success", u.ID, u.Username})
}

type patchUserJSON struct {
	profileJSON
	Email              *string   `json:"email"`
	EmailID            *string   `json:"emailId"` // a User object sent back
	Status             *string   `json:"status"`
	Groups             *[]string `json:"groups"`
	MustChangePassword *bool     `json:"mustChangePassword"`
}

func (s *Server) patchUser(w http.ResponseWriter, r *http.Request, c *issuer.Caller) {
	var req patchUserJSON
	if err := readJSON(r, &req, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Email == nil {
		req.Email = req.EmailID
	}
	u, err := s.Issuer.PatchUser(r.Context(), c, r.PathValue("id"), issuer.UserPatch{
		Profile: req.profile(), Email: req.Email, Status: req.Status, Groups: req.Groups,
		MustChangePassword: req.MustChangePassword,
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeUser(w, r, c, u)
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request, c *issuer.Caller) {
	s.reply(w, r, s.Issuer.DeleteUserBy(r.Context(), c, r.PathValue("id")), success)
}

// reply answers err, or 200 with v.
func (s *Server) reply(w http.ResponseWriter, r *http.Request, err error, v any) {
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

type groupRefJSON struct {
	UserGroupID   string `json:"userGroupId"`
	UserGroupName string `json:"userGroupName"`
}

func (s *Server) groupChange(add bool) callerHandler {
	return func(w http.ResponseWriter, r *http.Request, c *issuer.Caller) {
		var req groupRefJSON
		if err := readJSON(r, &req, false); err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := s.Issuer.ChangeGroup(r.Context(), c, r.PathValue("id"), req.UserGroupID, req.UserGroupName, add); err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, struct {
			Status  string `json:"status"`
			Message string `json:"message"`
		}{"success", "User Profile update was successful"})
	}
}

func (s *Server) postUserPassword(w http.ResponseWriter, r *http.Request, c *issuer.Caller) {
	var req struct {
		Password           string `json:"password"`
		MustChangePassword *bool  `json:"mustChangePassword"`
	}
	if err := readJSON(r, &req, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.reply(w, r, s.Issuer.SetPasswordBy(r.Context(), c, r.PathValue("id"), req.Password, req.MustChangePassword), success)
}

type sessionJSON struct {
	SessionID      string     `json:"sessionId"`
	CreatedAt      string     `json:"createdAt"`
	LastRefreshAt  string     `json:"lastRefreshAt"`
	ExpiresAt      string     `json:"expiresAt"`
	ClientIP       string     `json:"clientIp"`
	UserAgent      string     `json:"userAgent"`
	ImpersonatedBy *actorJSON `json:"impersonatedBy,omitempty"`
}

func (s *Server) getUserSessions(w http.ResponseWriter, r *http.Request, c *issuer.Caller) {
	ss, err := s.Issuer.UserSessions(r.Context(), c, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	data := make([]sessionJSON, 0, len(ss))
	for _, x := range ss {
		v := sessionJSON{SessionID: x.ID, CreatedAt: rfc3339(x.CreatedAt), LastRefreshAt: rfc3339(x.LastRefreshAt),
			ExpiresAt: rfc3339(x.ExpiresAt), ClientIP: x.ClientIP, UserAgent: x.UserAgent}
		if x.ImpersonatorID != "" {
			v.ImpersonatedBy = &actorJSON{UserID: x.ImpersonatorID, Username: x.Impersonator}
		}
		data = append(data, v)
	}
	writeJSON(w, http.StatusOK, struct {
		Status string        `json:"status"`
		Data   []sessionJSON `json:"data"`
	}{"success", data})
}

func (s *Server) deleteUserSessions(w http.ResponseWriter, r *http.Request, c *issuer.Caller) {
	n, err := s.Issuer.RevokeSessionsOf(r.Context(), c, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Status  string `json:"status"`
		Revoked int    `json:"revoked"`
	}{"success", n})
}

type groupJSON struct {
	GroupID   string `json:"groupId"`
	GroupName string `json:"groupName"`
	Members   *int   `json:"members,omitempty"`
}

func (s *Server) getGroups(w http.ResponseWriter, r *http.Request, c *issuer.Caller) {
	gs, err := s.Issuer.ListGroups(r.Context(), c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]groupJSON, 0, len(gs))
	for _, g := range gs {
		n := g.Members
		out = append(out, groupJSON{GroupID: g.ID, GroupName: g.Name, Members: &n})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) postGroup(w http.ResponseWriter, r *http.Request, c *issuer.Caller) {
	var req struct {
		GroupName string `json:"groupName"`
	}
	if err := readJSON(r, &req, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	g, err := s.Issuer.CreateGroupBy(r.Context(), c, req.GroupName)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, groupJSON{GroupID: g.ID, GroupName: g.Name})
}

func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request, c *issuer.Caller) {
	s.reply(w, r, s.Issuer.DeleteGroupBy(r.Context(), c, r.PathValue("id")), success)
}

type auditJSON struct {
	ID        int64  `json:"id"`
	Time      string `json:"time"`
	Action    string `json:"action"`
	Actor     string `json:"actor"`
	ActorID   string `json:"actorId"`
	Subject   string `json:"subject"`
	SubjectID string `json:"subjectId"`
	SessionID string `json:"sessionId"`
	IP        string `json:"ip"`
	Outcome   string `json:"outcome"`
	Reason    string `json:"reason"`
	Details   string `json:"details"`
}

func (s *Server) getAudit(w http.ResponseWriter, r *http.Request, c *issuer.Caller) {
	q := r.URL.Query()
	aq := issuer.AuditQuery{Action: q.Get("action"), Subject: q.Get("subject")}
	bad := func(msg string) { s.writeError(w, r, actas.Errorf(actas.EINVALID, "%s", msg)) }
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			bad("since must be an RFC 3339 time")
			return
		}
		aq.Since = t
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			bad("limit must be between 1 and 1000")
			return
		}
		aq.Limit = n
	}
	if v := q.Get("cursor"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			bad("cursor is not one this API returned")
			return
		}
		aq.BeforeID = n
	}
	evs, next, err := s.Issuer.AuditPage(r.Context(), c, aq)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	data := make([]auditJSON, 0, len(evs))
	for _, e := range evs {
		data = append(data, auditJSON{ID: e.ID, Time: e.Time.UTC().Format(time.RFC3339Nano), Action: e.Action,
			Actor: e.Actor, ActorID: e.ActorID, Subject: e.Subject, SubjectID: e.SubjectID, SessionID: e.SessionID,
			IP: e.IP, Outcome: e.Outcome, Reason: e.Reason, Details: e.Details})
	}
	cursor := ""
	if next > 0 {
		cursor = strconv.FormatInt(next, 10)
	}
	writeJSON(w, http.StatusOK, struct {
		Status string      `json:"status"`
		Data   []auditJSON `json:"data"`
		Next   string      `json:"next"`
	}{"success", data, cursor})
}

func (s *Server) postPassword(w http.ResponseWriter, r *http.Request, c *issuer.Caller) {
	var req struct {
		PreviousPassword string `json:"previousPassword"`
		ProposedPassword string `json:"proposedPassword"`
	}
	if err := readJSON(r, &req, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.reply(w, r, s.Issuer.ChangeOwnPassword(r.Context(), c, req.PreviousPassword, req.ProposedPassword), success)
}
