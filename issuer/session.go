package issuer

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/password"
	"github.com/actas-dev/actas/token"
)

// Messages of the compatible API. The first two are the original API's.
var (
	errNoUsername     = actas.Errorf(actas.EINVALID, "Invalid Authentication Parameters")
	errNoPassword     = actas.Errorf(actas.EINVALID, "Missing required parameter PASSWORD")
	errClientID       = actas.Errorf(actas.EINVALID, "clientId does not match the client of this API key")
	errBadCredentials = actas.Errorf(actas.EUNAUTHORIZED, "Incorrect username or password")
	errUserDisabled   = actas.Errorf(actas.EUNAUTHORIZED, "User is disabled")
	errMustChange     = actas.Errorf(actas.EPRECONDITION, "Password change required")
	errBadRefresh     = actas.Errorf(actas.EUNAUTHORIZED, "Invalid Refresh Token")
	errRefreshExpired = actas.Errorf(actas.EUNAUTHORIZED, "Refresh Token has expired")
	errRefreshRevoked = actas.Errorf(actas.EUNAUTHORIZED, "Refresh Token has been revoked")
	errTokenMismatch  = actas.Errorf(actas.EUNAUTHORIZED, "Tokens do not belong to the same session")
	errNoRefresh      = actas.Errorf(actas.EINVALID, "Missing required parameter REFRESH_TOKEN")
	errNoSessionToken = actas.Errorf(actas.EINVALID, "Missing AccessToken")
	errOverloaded     = &actas.Error{Code: actas.EUNAVAILABLE, Message: "Too many sign-ins in progress, try again later", RetryAfter: 1}
)

// Result is what sign-in, refresh and impersonation hand back.
type Result struct {
	Tenant       *actas.Tenant
	User         *actas.User
	Session      *actas.Session
	IDToken      string
	AccessToken  string
	RefreshToken string    // "" for sessions that cannot be refreshed
	ExpiresAt    time.Time // of the access token
	Scope        string    // of the access token
}

// SignInRequest is a parsed sign-in.
type SignInRequest struct {
	Username  string
	Password  string
	ClientID  string // optional; if set it must be the tenant's
	IP        string
	UserAgent string
	// NewPassword finishes a required password change (SPEC §8); it is
	// ignored for a user without must_change_password.
	NewPassword string
}

// SignIn checks a username and password and starts a session.
//
// Unknown user and wrong password take the same path through the hasher
// and give the same error, so neither message nor time tells them apart.
// A disabled user is told so only after the right password.
func (i *Issuer) SignIn(ctx context.Context, c *Client, r SignInRequest) (*Result, error) {
	t := c.Tenant
	if r.ClientID != "" && r.ClientID != t.ClientID {
		return nil, errClientID
	}
	if r.Username == "" {
		return nil, errNoUsername
	}
	if r.Password == "" {
		return nil, errNoPassword
	}
	now := i.now()
	u, err := i.verifyCredentials(ctx, t, r.Username, r.Password, r.IP, now)
	if err != nil {
		return nil, err
	}
	switch {
	case !u.Active():
		return nil, errUserDisabled
	case u.MustChangePassword && r.NewPassword == "":
		return nil, errMustChange
	case u.MustChangePassword:
		if u, err = i.completePasswordChange(ctx, c, u, r.Password, r.NewPassword, r.IP, now); err != nil {
			return nil, err
		}
	}

	s := &actas.Session{
		ID:          actas.NewID(),
		TenantID:    t.ID,
		UserID:      u.ID,
		AuthTime:    now,
		ExpiresAt:   now.Add(t.Settings.RefreshTTL.D()),
		ClientIP:    r.IP,
		UserAgent:   truncate(r.UserAgent, 512),
		Refreshable: true,
		RotatedAt:   now,
		CreatedAt:   now,
	}
	refresh, rt := newRefreshToken(s.ID, 0, now)
	ev := &actas.AuditEvent{
		Time: now, TenantID: t.ID, Action: actas.ActionSignIn,
		ActorID: u.ID, Actor: u.Username, SubjectID: u.ID, Subject: u.Username,
		SessionID: s.ID, APIKeyID: c.APIKeyID, IP: r.IP, UserAgent: s.UserAgent,
		Outcome: actas.OutcomeAllowed,
	}
	res, err := i.mint(ctx, t, u, s, nil, now)
	if err != nil {
		return nil, err
	}
	if err := i.store.CreateSession(ctx, s, rt, ev); errors.Is(err, actas.ErrNotFound) {
		return nil, errBadCredentials // the user was deleted meanwhile
	} else if err != nil {
		return nil, wrap("create session", err)
	}
	// An administrator may have changed the password, disabled or deleted
	// the user while the hash ran; their revocation ran after their change
	// but perhaps before this session existed. Look again now that it
	// does: whichever comes last, the session is revoked.
	if changed, err := i.userChanged(ctx, u); err != nil || changed {
		_ = i.revokeSessions(ctx, actas.RevokeQuery{TenantID: t.ID, SessionID: s.ID}, now, actas.ReasonAdmin)
		if err != nil {
			return nil, err
		}
		return nil, errBadCredentials
	}
	res.RefreshToken = refresh
	return res, nil
}

// verifyCredentials is the one credential check: every path that checks a
// password (sign-in, a password change, the hosted sign-in page) goes
// through it, so the throttle and the hasher are driven in one place.
//
// It returns the user when the password is right, whatever the user's
// status; the caller decides what a disabled user or a required password
// change means on its path. Unknown user and wrong password take the same
// path through the hasher and give the same error, so neither message nor
// time tells them apart. Other errors: a throttle refusal (ETHROTTLED with
// Retry-After), errOverloaded when the hasher is saturated, or a wrapped
// storage error.
func (i *Issuer) verifyCredentials(ctx context.Context, t *actas.Tenant, username, pw, ip string, now time.Time) (*actas.User, error) {
	// Every spelling of one account shares its budget; a name too long
	// to be any user's is throttled by its first bytes and looked up not
	// at all.
	userKey := actas.NormalizeUsername(truncate(username, actas.MaxUsernameBytes))
	policy := throttlePolicy(i.throttle.p, t.Settings)
	st, err := i.sharedThrottle(ctx, t.ID, userKey, ip, policy)
	if err != nil {
		return nil, err
	}
	r, d, err := i.throttle.reserve(ctx, policy, t.ID, userKey, ip, now, st)
	switch {
	case d > 0:
		return nil, &actas.Error{Code: actas.ETHROTTLED, Message: "Too many failed attempts, try again later", RetryAfter: retryAfterSeconds(d)}
	case errors.Is(err, errThrottleBusy):
		return nil, errOverloaded
	case err != nil:
		return nil, wrap("sign in", err)
	}
	defer r.release() // a password never checked counts for nothing
	var u *actas.User
	if actas.MayNameUser(username) {
		u, err = i.store.UserByUsername(ctx, t.ID, username)
		if err != nil && !errors.Is(err, actas.ErrNotFound) {
			return nil, wrap("sign in", err)
		}
	}
	var ok bool
	if u == nil {
		ok, err = i.hasher.VerifyDummy(ctx, pw)
	} else {
		ok, err = i.hasher.Verify(ctx, u.PasswordHash, pw)
	}
	switch {
	case errors.Is(err, password.ErrBusy):
		return nil, errOverloaded
	case err != nil:
		return nil, wrap("verify password", err)
	case !ok || u == nil:
		i.recordSharedFailure(ctx, t.ID, userKey, ip, policy, now)
		r.fail()
		return nil, errBadCredentials
	}
	i.clearSharedPair(ctx, t.ID, userKey, ip, st)
	r.ok()
	return u, nil
}

// userChanged reports whether u is gone, disabled, or has another password
// than when it was read.
func (i *Issuer) userChanged(ctx context.Context, u *actas.User) (bool, error) {
	now, err := i.store.User(ctx, u.TenantID, u.ID)
	if errors.Is(err, actas.ErrNotFound) {
		return true, nil
	} else if err != nil {
		return false, wrap("re-read user", err)
	}
	return !now.Active() || now.PasswordHash != u.PasswordHash, nil
}

// Refresh tokens are 32 random bytes, base64url: 43 characters.
const refreshTokenLen = 43

func newRefreshToken(sessionID string, gen int, now time.Time) (string, *actas.RefreshToken) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	s := base64.RawURLEncoding.EncodeToString(b[:])
	return s, &actas.RefreshToken{Hash: hashSecret(s), SessionID: sessionID, Generation: gen, CreatedAt: now}
}

// RefreshRequest is a parsed refresh.
type RefreshRequest struct {
	RefreshToken string
	AccessToken  string // optional; if set it must be of the same session
	ClientID     string // optional; if set it must be the tenant's
	// OAuthClientID is set for the refresh_token grant of an OAuth
	// client (codegrant.go): the session must be one of its code
	// exchanges, and its tokens are minted for it.
	OAuthClientID string
}

var errReuse = errors.New("refresh token reuse")

// Refresh issues new ID and access tokens for the session of a refresh
// token. With rotation on, it also issues a new refresh token; presenting
// an already-rotated token revokes the whole session, except for the
// immediately previous token within the tenant's grace period (a client
// retrying a refresh whose answer it lost).
func (i *Issuer) Refresh(ctx context.Context, c *Client, r RefreshRequest) (*Result, error) {
	t := c.Tenant
	if r.RefreshToken == "" {
		return nil, errNoRefresh
	}
	if len(r.RefreshToken) != refreshTokenLen {
		return nil, errBadRefresh
	}
	now := i.now()
	// The session, the token's generation and the user in one read; a
	// user who is gone takes the session with it (DeleteUser), so either
	// is a refresh token that no longer exists.
	s, rt, u, err := i.store.RefreshLookup(ctx, hashSecret(r.RefreshToken))
	switch {
	case errors.Is(err, actas.ErrNotFound):
		return nil, errBadRefresh
	case err != nil:
		return nil, wrap("refresh", err)
	case s.TenantID != t.ID:
		return nil, errBadRefresh // it does not exist for this API key
	}
	// The clientId is checked only once the token is known to be this
	// tenant's: another tenant's previous response, posted back whole with
	// its own clientId, is a foreign refresh token (401), not a bad clientId.
	if r.ClientID != "" && r.ClientID != t.ClientID {
		return nil, errClientID
	}
	if r.AccessToken != "" {
		claims, err := i.checkToken(ctx, t, r.AccessToken, actas.KeyUseAccess, now, true, true)
		if err != nil || claims.OriginJti != s.ID {
			return nil, errTokenMismatch
		}
	}
	if err := refreshable(s, now); err != nil {
		return nil, err
	}
	opts, err := i.grantOptions(ctx, s, r.OAuthClientID)
	if err != nil {
		return nil, err
	}
	if !u.Active() {
		return nil, errUserDisabled
	}

	rotate := t.Settings.RefreshRotation
	grace := t.Settings.RotationGrace.D()
	var (
		newRefresh string
		updated    *actas.Session
		retry      bool
	)
	if rt.Generation == s.RefreshGeneration {
		// The common case, a token of the current generation: one
		// compare-and-set write, which refuses if a revocation, a
		// rotation or expiry got in since the read. Then the general path
		// below decides with the session as it is now.
		var nrt *actas.RefreshToken
		if rotate {
			newRefresh, nrt = i.successorToken(s.ID, s.RefreshGeneration+1, r.RefreshToken, now)
		}
		ok, err := i.store.AdvanceSession(ctx, s.ID, rt.Generation, now, nrt)
		if err != nil {
			return nil, wrap("refresh", err)
		}
		if ok {
			updated = advancedSession(s, now, nrt)
		} else {
			newRefresh = ""
		}
	}
	if updated == nil {
		updated, err = i.store.UpdateSession(ctx, s.ID, func(s *actas.Session) (*actas.RefreshToken, error) {
			if err := refreshable(s, now); err != nil {
				return nil, err
			}
			newRefresh, retry = "", false
			s.LastRefreshAt = now
			switch {
			case rt.Generation == s.RefreshGeneration:
				if !rotate {
					return nil, nil
				}
				// Advance: the successor becomes the one live token.
				gen := s.RefreshGeneration + 1
				s.RefreshGeneration, s.RotatedAt = gen, now
				var nrt *actas.RefreshToken
				newRefresh, nrt = i.successorToken(s.ID, gen, r.RefreshToken, now)
				return nrt, nil
			case rt.Generation == s.RefreshGeneration-1 && now.Sub(s.RotatedAt) <= grace:
				// A retry (or a concurrent refresh) of the previous token: the
				// same successor the first one got, nothing new stored.
				newRefresh, _ = i.successorToken(s.ID, s.RefreshGeneration, r.RefreshToken, now)
				retry = true
				return nil, nil
			default:
				return nil, errReuse
			}
		})
	}
	if err == nil && retry {
		// The successor is derived under the master key; had that key
		// changed since the token advanced, the one derived now would not
		// be the one stored. Refuse rather than hand out a token that is
		// not the session's.
		cur, crt, cerr := i.store.SessionByRefreshToken(ctx, hashSecret(newRefresh))
		switch {
		case errors.Is(cerr, actas.ErrNotFound) || (cerr == nil && (cur.ID != s.ID || crt.Generation != updated.RefreshGeneration)):
			return nil, errBadRefresh
		case cerr != nil:
			return nil, wrap("refresh", cerr)
		}
	}
	if errors.Is(err, errReuse) {
		if rerr := i.revokeSessions(ctx, actas.RevokeQuery{TenantID: t.ID, SessionID: s.ID}, now, actas.ReasonRefreshReuse); rerr != nil {
			return nil, rerr
		}
		_ = i.store.AppendAudit(ctx, &actas.AuditEvent{
			Time: now, TenantID: t.ID, Action: actas.ActionRefreshReuse, ActorID: u.ID, Actor: u.Username,
			SubjectID: u.ID, Subject: u.Username, SessionID: s.ID, APIKeyID: c.APIKeyID,
			Outcome: actas.OutcomeDenied, Details: "an already-rotated refresh token was presented; session revoked",
		})
		i.log.Warn("refresh token reuse: session revoked", "tenant", t.Name, "session", s.ID)
		return nil, errRefreshRevoked
	}
	if err != nil {
		return nil, wrap("refresh", err)
	}
	res, err := i.mintWith(ctx, t, u, updated, nil, now, opts)
	if err != nil {
		return nil, err
	}
	res.RefreshToken = r.RefreshToken
	if newRefresh != "" {
		res.RefreshToken = newRefresh
	}
	return res, nil
}

// advancedSession is s, read before a successful AdvanceSession(s.ID,
// gen, now, next), as the write left it and a read would return it (times
// in milliseconds, UTC). The write changed nothing else: refreshes are
// the only updates of a session but its revocation, which the write
// excludes.
func advancedSession(s *actas.Session, now time.Time, next *actas.RefreshToken) *actas.Session {
	c := *s
	at := time.UnixMilli(now.UnixMilli()).UTC()
	c.LastRefreshAt = at
	if next != nil {
		c.RefreshGeneration, c.RotatedAt = next.Generation, at
	}
	return &c
}

func refreshable(s *actas.Session, now time.Time) error {
	switch {
	case s.Revoked():
		return errRefreshRevoked
	case !now.Before(s.ExpiresAt):
		return errRefreshExpired
	case !s.Refreshable:
		return errBadRefresh
	}
	return nil
}

// ExpireRequest names the session to expire by any of its tokens; every
// token given must belong to the same session.
type ExpireRequest struct {
	HeaderAccessToken string // the AccessToken header
	AccessToken       string // session.accessToken of the body
	IDToken           string // session.authorization of the body
	RefreshToken      string // session.refreshToken of the body
}

// ExpireResult says which session was expired and when.
type ExpireResult struct {
	Tenant *actas.Tenant
	// Username is the session's user's, from a token given or else from
	// the store (usernames never change); "" if the user has since been
	// deleted and only the refresh token was given.
	Username  string
	Session   *actas.Session
	RevokedAt time.Time
}

// Expire revokes a session and every impersonation session started from
// it. Tokens are accepted even if expired or already revoked, so that
// expiring is idempotent: a repeat answers with the original revocation
// time and changes nothing.
func (i *Issuer) Expire(ctx context.Context, c *Client, r ExpireRequest) (*ExpireResult, error) {
	t := c.Tenant
	now := i.now()
	var sessionID, username string
	same := func(id string) error {
		if sessionID != "" && id != sessionID {
			return errTokenMismatch
		}
		sessionID = id
		return nil
	}
	for n, tok := range []struct{ raw, use string }{
		{r.HeaderAccessToken, actas.KeyUseAccess},
		{r.AccessToken, actas.KeyUseAccess},
		{r.IDToken, actas.KeyUseID},
	} {
		if tok.raw == "" || (n == 1 && tok.raw == r.HeaderAccessToken) {
			continue // absent, or the header's token again: checked once
		}
		claims, err := i.checkToken(ctx, t, tok.raw, tok.use, now, true, true)
		if err != nil {
			return nil, err
		}
		if err := same(claims.OriginJti); err != nil {
			return nil, err
		}
		username = cmp.Or(claims.Username, claims.CognitoUsername)
	}
	if r.RefreshToken != "" {
		s, _, err := i.store.SessionByRefreshToken(ctx, hashSecret(r.RefreshToken))
		switch {
		case errors.Is(err, actas.ErrNotFound) || (err == nil && s.TenantID != t.ID):
			return nil, errBadRefresh
		case err != nil:
			return nil, wrap("expire", err)
		}
		if err := same(s.ID); err != nil {
			return nil, err
		}
	}
	if sessionID == "" {
		return nil, errNoSessionToken
	}
	revoked, err := i.revokeSessionsList(ctx, actas.RevokeQuery{TenantID: t.ID, SessionID: sessionID}, now, actas.ReasonLogout)
	if err != nil {
		return nil, err
	}
	var s *actas.Session
	for _, r := range revoked {
		if r.ID == sessionID {
			s = r
		}
	}
	if s == nil { // revoked before: a repeat, answered from the store
		s, err = i.store.Session(ctx, sessionID)
	}
	if errors.Is(err, actas.ErrNotFound) {
		// Purged: it expired long ago, so it is as good as revoked.
		return &ExpireResult{Tenant: t, Session: &actas.Session{ID: sessionID}, RevokedAt: now}, nil
	} else if err != nil {
		return nil, wrap("expire", err)
	}
	res := &ExpireResult{Tenant: t, Username: username, Session: s, RevokedAt: s.RevokedAt}
	if username == "" {
		if u, err := i.store.User(ctx, t.ID, s.UserID); err == nil {
			res.Username = u.Username
		}
	}
	return res, nil
}

// revokeSessions revokes matching sessions and their descendants in the
// store, then in memory, before the caller answers.
func (i *Issuer) revokeSessions(ctx context.Context, q actas.RevokeQuery, now time.Time, reason string) error {
	_, err := i.revokeSessionsList(ctx, q, now, reason)
	return err
}

// revokeSessionsList is revokeSessions returning the sessions it revoked.
func (i *Issuer) revokeSessionsList(ctx context.Context, q actas.RevokeQuery, now time.Time, reason string) ([]*actas.Session, error) {
	revoked, err := i.store.RevokeSessions(ctx, q, now, reason)
	if err != nil {
		return nil, wrap("revoke sessions", err)
	}
	for _, s := range revoked {
		i.revoked.Add(s.ID, s.ExpiresAt)
	}
	return revoked, nil
}

// mint signs an ID token and an access token for session s of user u.
// act, if not nil, names the impersonator. No token outlives its session.
func (i *Issuer) mint(ctx context.Context, t *actas.Tenant, u *actas.User, s *actas.Session, act *token.Actor, now time.Time) (*Result, error) {
	return i.mintWith(ctx, t, u, s, act, now, nil)
}

// mintWith is mint for an OAuth client when o is not nil (codegrant.go):
// aud and client_id are the client's, the scope is the grant's, the ID
// token carries the nonce, and both carry sid.
func (i *Issuer) mintWith(ctx context.Context, t *actas.Tenant, u *actas.User, s *actas.Session, act *token.Actor, now time.Time, o *mintOptions) (*Result, error) {
	ks, err := i.keys.get(ctx, t.ID, now)
	if err != nil {
		return nil, err
	}
	alg := t.Settings.SigningAlg
	idKey, err := i.keys.signer(ctx, t.ID, ks, actas.KeyUseID, alg, now)
	if err != nil {
		return nil, err
	}
	accessKey, err := i.keys.signer(ctx, t.ID, ks, actas.KeyUseAccess, alg, now)
	if err != nil {
		return nil, err
	}
	exp := now.Add(t.Settings.AccessTTL.D())
	if exp.After(s.ExpiresAt) {
		exp = s.ExpiresAt
	}
	// Nor its signing key's stay in JWKS: a key retired by a rotation
	// signs until its successor activates, and every token it signs must
	// expire before the key leaves JWKS (even if access_ttl was raised
	// since the rotation was planned).
	for _, k := range []*keyEntry{idKey, accessKey} {
		if !k.retireUntil.IsZero() && k.retireUntil.After(now) && exp.After(k.retireUntil) {
			exp = k.retireUntil
		}
	}
	iss := i.Issuer(t)
	eventID := actas.NewID()
	var groups []string
	if len(u.Groups) > 0 {
		groups = u.Groups
	}
	email, verified := u.Email, u.EmailVerified
	id := token.Claims{
		Sub: u.ID, Aud: t.ClientID, Email: &email, EmailVerified: &verified, EventID: eventID,
		TokenUse: "id", AuthTime: s.AuthTime.Unix(), Iss: iss, CognitoUsername: u.Username,
		Exp: exp.Unix(), Iat: now.Unix(), Jti: actas.NewID(), OriginJti: s.ID, Groups: groups, Act: act,
		GivenName: u.FirstName, FamilyName: u.LastName, Nickname: u.FriendlyName,
	}
	access := token.Claims{
		Sub: u.ID, EventID: eventID, TokenUse: "access", Scope: "aws.cognito.signin.user.admin",
		AuthTime: s.AuthTime.Unix(), Iss: iss, Exp: exp.Unix(), Iat: now.Unix(), Jti: actas.NewID(),
		OriginJti: s.ID, ClientID: t.ClientID, Username: u.Username, Groups: groups, Act: act,
	}
	access.Aud = t.Settings.AccessTokenAudience // RFC 9068 when set
	if o != nil {
		id.Aud, id.Nonce, id.Sid = o.ClientID, o.Nonce, s.ID
		access.ClientID, access.Scope, access.Sid = o.ClientID, o.Scope, s.ID
	}
	var (
		idTok, accessTok string
		idErr, accessErr error
	)
	if alg == actas.AlgRS256 {
		// An RSA-2048 signature takes about a millisecond: sign the two
		// tokens on two cores, halving the latency of a request when the
		// server has a core to spare and costing ~1 µs when it has not.
		done := make(chan struct{})
		go func() {
			defer close(done)
			idTok, idErr = idKey.Sign(&id)
		}()
		accessTok, accessErr = signAccess(accessKey, &access)
		<-done
	} else {
		idTok, idErr = idKey.Sign(&id)
		accessTok, accessErr = signAccess(accessKey, &access)
	}
	if idErr != nil {
		return nil, wrap("sign ID token", idErr)
	}
	if accessErr != nil {
		return nil, wrap("sign access token", accessErr)
	}
	i.seen.put(tokenDigest(idTok), t.ID, idKey.KID, &id)
	i.seen.put(tokenDigest(accessTok), t.ID, accessKey.KID, &access)
	return &Result{
		Tenant: t, User: u, Session: s, IDToken: idTok, AccessToken: accessTok,
		ExpiresAt: time.Unix(exp.Unix(), 0), Scope: access.Scope,
	}, nil
}

// signAccess signs an access token: with typ "at+jwt" when it has an
// audience (RFC 9068 §2.1), else as Cognito's.
func signAccess(k *keyEntry, c *token.Claims) (string, error) {
	if c.Aud != "" {
		return k.SignTyped(c, token.TypAccessToken)
	}
	return k.Sign(c)
}
