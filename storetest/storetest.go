package storetest

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/actas-dev/actas"
)

// Run runs the conformance suite. newStore must return a new, empty,
// migrated store for each subtest, isolated from the stores of other
// subtests; the suite closes it when the subtest ends, so newStore must
// not close it itself (removing files with t.TempDir is fine).
func Run(t *testing.T, newStore func(t *testing.T) actas.Store) {
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					s := newStore(t)
					t.Cleanup(func() {
						if err := s.Close(); err != nil {
							t.Errorf("close: %v", err)
						}
					})
					tc.fn(t, s)
				})
			}
		})
	}
}

type test struct {
	name string
	fn   func(t *testing.T, s actas.Store)
}

// groups lists every conformance test, by the part of the Store it covers.
var groups = []struct {
	name  string
	tests []test
}{
	{"Tenant", tenantTests},
	{"APIKey", apiKeyTests},
	{"User", userTests},
	{"Session", sessionTests},
	{"Revoke", revokeTests},
	{"SigningKey", signingKeyTests},
	{"Audit", auditTests},
	{"ConfigVersion", configVersionTests},
	{"TenantChange", tenantChangeTests},
	{"Store", storeTests},
	{"Concurrency", concurrencyTests},
	{"Throttle", throttleTests},
	{"Probe", probeTests},
	{"OAuth", oauthTests},
	{"UserAdmin", userAdminTests},
}

// base is the suite's clock: every time is base plus an offset.
var base = time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)

func at(d time.Duration) time.Time { return base.Add(d) }

// odd is a time with sub-millisecond digits in a zone other than UTC: a
// store must return it in UTC, to at least millisecond precision.
var odd = base.Add(-time.Hour + 789*time.Microsecond + 123).In(time.FixedZone("UTC+5", 5*3600))

// errFn is what the suite's update functions return to refuse a change.
var errFn = errors.New("storetest: refused by fn")

func sha(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// newTenant returns a tenant named name with every field set, its first
// API key and its first two signing keys (ID and access).
func newTenant(name string) (*actas.Tenant, *actas.APIKey, []*actas.SigningKey) {
	tn := &actas.Tenant{
		ID:          actas.NewID(),
		Name:        name,
		UserPoolID:  actas.NewUserPoolID("eu-west-1"),
		ClientID:    actas.NewClientID(),
		EndpointURL: "https://api." + name + ".example/v1",
		Settings: actas.TenantSettings{
			AccessTTL:                  actas.Duration(15 * time.Minute),
			RefreshTTL:                 actas.Duration(7 * 24 * time.Hour),
			RefreshRotation:            true,
			RotationGrace:              actas.Duration(3 * time.Second),
			SigningAlg:                 actas.AlgES256,
			ImpersonationDisabled:      true,
			ImpersonationTTL:           actas.Duration(90 * time.Second),
			ImpersonationRequireReason: true,
		},
		CreatedAt: odd,
	}
	key := &actas.APIKey{
		ID:        "key-" + actas.NewID(),
		TenantID:  tn.ID,
		Name:      "first key of " + name,
		Hash:      sha("api key of " + name),
		CreatedAt: odd,
	}
	keys := []*actas.SigningKey{
		newSigningKey(tn.ID, actas.KeyUseID, at(0)),
		newSigningKey(tn.ID, actas.KeyUseAccess, at(time.Millisecond)),
	}
	return tn, key, keys
}

func newSigningKey(tenantID, use string, created time.Time) *actas.SigningKey {
	kid := actas.NewID()
	return &actas.SigningKey{
		KID:        kid,
		TenantID:   tenantID,
		Use:        use,
		Alg:        actas.AlgES256,
		State:      actas.KeyActive,
		PrivateEnc: sha("private " + kid),
		PublicDER:  sha("public " + kid),
		CreatedAt:  created,
	}
}

func mustCreateTenant(t *testing.T, s actas.Store, name string) *actas.Tenant {
	t.Helper()
	tn, key, keys := newTenant(name)
	if err := s.CreateTenant(t.Context(), tn, key, keys); err != nil {
		t.Fatalf("create tenant %s: %v", name, err)
	}
	return tn
}

func newUser(tenantID, username string) *actas.User {
	return &actas.User{
		ID:           actas.NewID(),
		TenantID:     tenantID,
		Username:     username,
		Email:        strings.ToLower(username) + "@example.com",
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$aGFzaA",
		Status:       actas.UserActive,
		Groups:       []string{actas.GroupImpersonator},
		CreatedAt:    at(0),
		UpdatedAt:    at(0),
	}
}

func mustCreateUser(t *testing.T, s actas.Store, tenantID, username string) *actas.User {
	t.Helper()
	u := newUser(tenantID, username)
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("create user %s: %v", username, err)
	}
	return u
}

// newSession returns a refreshable session of u that expires a day after
// base.
func newSession(u *actas.User) *actas.Session {
	return &actas.Session{
		ID:          actas.NewID(),
		TenantID:    u.TenantID,
		UserID:      u.ID,
		AuthTime:    at(0),
		ExpiresAt:   at(24 * time.Hour),
		ClientIP:    "192.0.2.1",
		UserAgent:   "storetest/1.0",
		Refreshable: true,
		RotatedAt:   at(0),
		CreatedAt:   at(0),
	}
}

// newChild returns an impersonation session of target started from
// parent by parent's user.
func newChild(parent *actas.Session, target *actas.User) *actas.Session {
	s := newSession(target)
	s.Refreshable = false
	s.RotatedAt = time.Time{}
	s.ExpiresAt = at(time.Hour)
	s.ImpersonatorID = parent.UserID
	s.ParentID = parent.ID
	s.Reason = "ticket 42"
	return s
}

// refreshToken returns generation gen of a session's refresh token, with
// a hash derived from both.
func refreshToken(sessionID string, gen int) *actas.RefreshToken {
	return &actas.RefreshToken{
		Hash:       sha(fmt.Sprintf("refresh %s %d", sessionID, gen)),
		SessionID:  sessionID,
		Generation: gen,
		CreatedAt:  at(time.Duration(gen) * time.Minute),
	}
}

// mustCreateSession stores sess with its generation-0 refresh token if it
// is refreshable, and with a sign-in audit event.
func mustCreateSession(t *testing.T, s actas.Store, sess *actas.Session) *actas.Session {
	t.Helper()
	var rt *actas.RefreshToken
	if sess.Refreshable {
		rt = refreshToken(sess.ID, 0)
	}
	ev := &actas.AuditEvent{Time: sess.CreatedAt, TenantID: sess.TenantID, Action: actas.ActionSignIn,
		SubjectID: sess.UserID, SessionID: sess.ID, Outcome: actas.OutcomeAllowed}
	if err := s.CreateSession(t.Context(), sess, rt, ev); err != nil {
		t.Fatalf("create session: %v", err)
	}
	return sess
}

func mustSession(t *testing.T, s actas.Store, id string) *actas.Session {
	t.Helper()
	got, err := s.Session(t.Context(), id)
	if err != nil {
		t.Fatalf("session %s: %v", id, err)
	}
	return got
}

func mustRevocations(t *testing.T, s actas.Store, after int64, now time.Time) []*actas.Revocation {
	t.Helper()
	rs, err := s.Revocations(t.Context(), after, now, 1000)
	if err != nil {
		t.Fatalf("revocations: %v", err)
	}
	return rs
}

func mustAudit(t *testing.T, s actas.Store, f actas.AuditFilter) []*actas.AuditEvent {
	t.Helper()
	evs, err := s.AuditEvents(t.Context(), f)
	if err != nil {
		t.Fatalf("audit events %+v: %v", f, err)
	}
	return evs
}

// wantErr fails unless err wraps target.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want one wrapping %v", what, err, target)
	}
}

// wantOK fails the test at once on an error.
func wantOK(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// mustEqual fails unless got and want, pointers to the same struct type,
// agree field by field as the contract requires: times within a
// millisecond and in UTC (zero stays zero), nil and empty slices alike.
func mustEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if d := diff(got, want); len(d) > 0 {
		t.Errorf("%s differs:\n\t%s", what, strings.Join(d, "\n\t"))
	}
}

// diff lists the differences between got and want; see mustEqual.
func diff(got, want any) []string {
	var out []string
	diffValue(&out, "", reflect.ValueOf(got), reflect.ValueOf(want))
	return out
}

var timeType = reflect.TypeFor[time.Time]()

func diffValue(out *[]string, path string, g, w reflect.Value) {
	if g.Kind() == reflect.Pointer || w.Kind() == reflect.Pointer {
		if g.IsNil() || w.IsNil() {
			if g.IsNil() != w.IsNil() {
				*out = append(*out, fmt.Sprintf("%s: got %v, want %v", path, g, w))
			}
			return
		}
		diffValue(out, path, g.Elem(), w.Elem())
		return
	}
	switch {
	case g.Type() == timeType:
		gt, wt := g.Interface().(time.Time), w.Interface().(time.Time)
		switch {
		case wt.IsZero() || gt.IsZero():
			if !gt.IsZero() || !wt.IsZero() {
				*out = append(*out, fmt.Sprintf("%s: got %v, want %v", path, gt, wt))
			}
		case gt.Location() != time.UTC:
			*out = append(*out, fmt.Sprintf("%s: got %v, not in UTC", path, gt))
		case gt.Sub(wt).Abs() >= time.Millisecond:
			*out = append(*out, fmt.Sprintf("%s: got %v, want %v (to the millisecond)", path, gt, wt))
		}
	case g.Kind() == reflect.Struct:
		for i := range g.NumField() {
			diffValue(out, path+"."+g.Type().Field(i).Name, g.Field(i), w.Field(i))
		}
	case g.Kind() == reflect.Slice && g.Type().Elem().Kind() == reflect.Uint8:
		if !bytes.Equal(g.Bytes(), w.Bytes()) {
			*out = append(*out, fmt.Sprintf("%s: got %x, want %x", path, g.Bytes(), w.Bytes()))
		}
	case g.Kind() == reflect.Slice && g.Type().Elem().Kind() == reflect.String:
		if !slices.Equal(g.Interface().([]string), w.Interface().([]string)) {
			*out = append(*out, fmt.Sprintf("%s: got %q, want %q", path, g.Interface(), w.Interface()))
		}
	case g.Kind() == reflect.Slice:
		if g.Len() != w.Len() {
			*out = append(*out, fmt.Sprintf("%s: got %d elements, want %d", path, g.Len(), w.Len()))
			return
		}
		for i := range g.Len() {
			diffValue(out, fmt.Sprintf("%s[%d]", path, i), g.Index(i), w.Index(i))
		}
	default:
		if !g.Equal(w) {
			*out = append(*out, fmt.Sprintf("%s: got %#v, want %#v", path, g.Interface(), w.Interface()))
		}
	}
}

// ids returns the IDs of sessions, sorted, for comparisons as sets.
func ids(ss []*actas.Session) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		out = append(out, s.ID)
	}
	slices.Sort(out)
	return out
}

// sorted returns a sorted copy of its arguments.
func sorted(v ...string) []string {
	slices.Sort(v)
	return v
}

func wantIDs(t *testing.T, what string, got []*actas.Session, want ...string) {
	t.Helper()
	if g, w := ids(got), sorted(want...); !slices.Equal(g, w) {
		t.Errorf("%s: got sessions %q, want %q", what, g, w)
	}
}
