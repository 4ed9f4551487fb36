package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/actas-dev/actas"
)

var userTests = []test{
	{"RoundTrip", testUserRoundTrip},
	{"NotFound", testUserNotFound},
	{"UsernameCaseInsensitive", testUserUsernameCaseInsensitive},
	{"Conflict", testUserConflict},
	{"ConcurrentCreate", testUserConcurrentCreate},
	{"List", testUserList},
	{"Update", testUserUpdate},
	{"UpdateRefused", testUserUpdateRefused},
	{"Delete", testUserDelete},
}

func testUserRoundTrip(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	full := &actas.User{
		ID:                 actas.NewID(),
		TenantID:           tn.ID,
		Username:           "Alice.Example",
		Email:              "alice@example.com",
		EmailVerified:      true,
		PasswordHash:       "$argon2id$v=19$m=65536,t=3,p=2$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
		Status:             actas.UserDisabled,
		MustChangePassword: true,
		Groups:             []string{actas.GroupAdmin, "team:blue", actas.GroupImpersonator},
		CreatedAt:          odd,
		UpdatedAt:          at(time.Hour),
	}
	bare := &actas.User{ID: actas.NewID(), TenantID: tn.ID, Username: "bob", Status: actas.UserActive,
		CreatedAt: at(0), UpdatedAt: at(0)}
	for _, u := range []*actas.User{full, bare} {
		wantOK(t, "create user", s.CreateUser(ctx, u))
		got, err := s.User(ctx, tn.ID, u.ID)
		wantOK(t, "user", err)
		mustEqual(t, "User "+u.Username, got, u)
		got, err = s.UserByUsername(ctx, tn.ID, u.Username)
		wantOK(t, "user by username", err)
		mustEqual(t, "UserByUsername "+u.Username, got, u)
	}
}

func testUserNotFound(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	other := mustCreateTenant(t, s, "other")
	u := mustCreateUser(t, s, tn.ID, "alice")

	_, err := s.User(ctx, tn.ID, actas.NewID())
	wantErr(t, "User(unknown id)", err, actas.ErrNotFound)
	_, err = s.User(ctx, other.ID, u.ID)
	wantErr(t, "User(id of another tenant's user)", err, actas.ErrNotFound)
	_, err = s.UserByUsername(ctx, tn.ID, "nobody")
	wantErr(t, "UserByUsername(unknown)", err, actas.ErrNotFound)
	_, err = s.UserByUsername(ctx, other.ID, "alice")
	wantErr(t, "UserByUsername(another tenant's username)", err, actas.ErrNotFound)

	called := false
	_, err = s.UpdateUser(ctx, tn.ID, actas.NewID(), func(*actas.User) error { called = true; return nil })
	wantErr(t, "UpdateUser(unknown)", err, actas.ErrNotFound)
	_, err = s.UpdateUser(ctx, other.ID, u.ID, func(*actas.User) error { called = true; return nil })
	wantErr(t, "UpdateUser(another tenant's user)", err, actas.ErrNotFound)
	if called {
		t.Error("UpdateUser called fn for a missing user")
	}
	wantErr(t, "DeleteUser(unknown)", s.DeleteUser(ctx, tn.ID, actas.NewID()), actas.ErrNotFound)
	wantErr(t, "DeleteUser(another tenant's user)", s.DeleteUser(ctx, other.ID, u.ID), actas.ErrNotFound)
	if _, err := s.User(ctx, tn.ID, u.ID); err != nil {
		t.Errorf("user deleted through another tenant: %v", err)
	}
}

func testUserUsernameCaseInsensitive(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	for _, tc := range []struct{ created, lookup string }{
		{"Alice", "aLICE"},
		{"ÆSIR.Øresund", "æsir.øresund"}, // beyond ASCII
	} {
		u := mustCreateUser(t, s, tn.ID, tc.created)
		for _, name := range []string{tc.created, tc.lookup, actas.NormalizeUsername(tc.created)} {
			got, err := s.UserByUsername(ctx, tn.ID, name)
			if err != nil {
				t.Errorf("UserByUsername(%q): %v", name, err)
				continue
			}
			if got.ID != u.ID || got.Username != tc.created {
				t.Errorf("UserByUsername(%q): got %s %q, want %s %q", name, got.ID, got.Username, u.ID, tc.created)
			}
		}
	}
}

func testUserConflict(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	other := mustCreateTenant(t, s, "other")
	alice := mustCreateUser(t, s, tn.ID, "Alice")
	aesir := mustCreateUser(t, s, tn.ID, "ÆSIR")

	for _, name := range []string{"Alice", "alice", "ALICE", "æsir"} {
		wantErr(t, "CreateUser("+name+")", s.CreateUser(ctx, newUser(tn.ID, name)), actas.ErrConflict)
	}
	dup := newUser(tn.ID, "carol")
	dup.ID = alice.ID
	wantErr(t, "CreateUser with a taken id", s.CreateUser(ctx, dup), actas.ErrConflict)

	users, err := s.Users(ctx, tn.ID)
	wantOK(t, "users", err)
	if len(users) != 2 {
		t.Errorf("Users after conflicts: got %d, want 2", len(users))
	}
	got, err := s.User(ctx, tn.ID, alice.ID)
	wantOK(t, "user", err)
	mustEqual(t, "user after conflicts", got, alice)

	// Usernames are unique per tenant only.
	for _, name := range []string{"alice", aesir.Username} {
		u := mustCreateUser(t, s, other.ID, name)
		got, err := s.UserByUsername(ctx, other.ID, name)
		wantOK(t, "user by username in the other tenant", err)
		if got.ID != u.ID {
			t.Errorf("UserByUsername(other tenant, %q) = %s, want %s", name, got.ID, u.ID)
		}
	}
}

// testUserConcurrentCreate races sign-ups of one username: exactly one
// wins.
func testUserConcurrentCreate(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	const n = 4
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			name := []string{"dave", "Dave", "DAVE", "daVe"}[i]
			errs[i] = s.CreateUser(ctx, newUser(tn.ID, name))
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
		} else {
			wantErr(t, "racing CreateUser", err, actas.ErrConflict)
		}
	}
	if won != 1 {
		t.Errorf("racing CreateUser: %d succeeded, want 1", won)
	}
}

func testUserList(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	other := mustCreateTenant(t, s, "other")
	want := map[string]*actas.User{}
	for _, name := range []string{"carol", "Alice", "bob"} {
		u := mustCreateUser(t, s, tn.ID, name)
		want[u.ID] = u
	}
	mustCreateUser(t, s, other.ID, "eve")

	users, err := s.Users(ctx, tn.ID)
	wantOK(t, "users", err)
	if len(users) != len(want) {
		t.Fatalf("Users: got %d, want %d", len(users), len(want))
	}
	for _, got := range users {
		if want[got.ID] == nil {
			t.Fatalf("Users returned %s (%s) of another tenant", got.ID, got.Username)
		}
		mustEqual(t, "listed user "+got.Username, got, want[got.ID])
	}
	users, err = s.Users(ctx, actas.NewID())
	wantOK(t, "users of an unknown tenant", err)
	if len(users) != 0 {
		t.Errorf("Users of an unknown tenant: got %d", len(users))
	}
}

func testUserUpdate(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	u := mustCreateUser(t, s, tn.ID, "Alice")
	bob := mustCreateUser(t, s, tn.ID, "bob")

	want := *u
	want.Email = "new@example.com"
	want.EmailVerified = true
	want.PasswordHash = "$argon2id$new"
	want.Status = actas.UserDisabled
	want.MustChangePassword = true
	want.Groups = []string{actas.GroupAdmin, actas.GroupImpersonator}
	want.UpdatedAt = at(time.Hour)

	got, err := s.UpdateUser(ctx, tn.ID, u.ID, func(x *actas.User) error {
		mustEqual(t, "user seen by fn", x, u)
		x.Email, x.EmailVerified, x.PasswordHash = want.Email, want.EmailVerified, want.PasswordHash
		x.Status, x.MustChangePassword = want.Status, want.MustChangePassword
		x.Groups = append(x.Groups[:0:0], want.Groups...)
		x.UpdatedAt = want.UpdatedAt
		x.Username = "mallory" // cannot be changed
		return nil
	})
	wantOK(t, "update user", err)
	mustEqual(t, "UpdateUser result", got, &want)
	stored, err := s.User(ctx, tn.ID, u.ID)
	wantOK(t, "user", err)
	mustEqual(t, "stored user", stored, &want)
	if _, err := s.UserByUsername(ctx, tn.ID, "alice"); err != nil {
		t.Errorf("UserByUsername(old name) after update: %v", err)
	}
	_, err = s.UserByUsername(ctx, tn.ID, "mallory")
	wantErr(t, "UserByUsername(name fn tried to set)", err, actas.ErrNotFound)

	// Emptying the groups is stored too.
	got, err = s.UpdateUser(ctx, tn.ID, u.ID, func(x *actas.User) error { x.Groups = nil; return nil })
	wantOK(t, "update user", err)
	if len(got.Groups) != 0 {
		t.Errorf("groups after emptying: got %q", got.Groups)
	}
	stored, err = s.User(ctx, tn.ID, bob.ID)
	wantOK(t, "user", err)
	mustEqual(t, "other user", stored, bob)
}

func testUserUpdateRefused(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	u := mustCreateUser(t, s, tn.ID, "alice")
	_, err := s.UpdateUser(ctx, tn.ID, u.ID, func(x *actas.User) error {
		x.Status = actas.UserDisabled
		x.Groups = append(x.Groups, actas.GroupAdmin)
		return errFn
	})
	wantErr(t, "UpdateUser with a refusing fn", err, errFn)
	stored, err := s.User(ctx, tn.ID, u.ID)
	wantOK(t, "user", err)
	mustEqual(t, "user after refused update", stored, u)
}

func testUserDelete(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	u := mustCreateUser(t, s, tn.ID, "alice")
	bob := mustCreateUser(t, s, tn.ID, "bob")
	s1 := mustCreateSession(t, s, newSession(u))
	s2 := mustCreateSession(t, s, newSession(u))
	kept := mustCreateSession(t, s, newSession(bob))
	_, err := s.RevokeSessions(ctx, actas.RevokeQuery{TenantID: tn.ID, UserID: u.ID}, at(time.Minute),
		actas.ReasonUserDeleted)
	wantOK(t, "revoke sessions", err)
	audit := mustAudit(t, s, actas.AuditFilter{TenantID: tn.ID})

	wantOK(t, "delete user", s.DeleteUser(ctx, tn.ID, u.ID))
	_, err = s.User(ctx, tn.ID, u.ID)
	wantErr(t, "User after delete", err, actas.ErrNotFound)
	_, err = s.UserByUsername(ctx, tn.ID, "alice")
	wantErr(t, "UserByUsername after delete", err, actas.ErrNotFound)
	for _, sess := range []*actas.Session{s1, s2} {
		_, err = s.Session(ctx, sess.ID)
		wantErr(t, "Session of a deleted user", err, actas.ErrNotFound)
		_, _, err = s.SessionByRefreshToken(ctx, refreshToken(sess.ID, 0).Hash)
		wantErr(t, "SessionByRefreshToken of a deleted user", err, actas.ErrNotFound)
	}
	got, err := s.Sessions(ctx, actas.SessionFilter{TenantID: tn.ID})
	wantOK(t, "sessions", err)
	wantIDs(t, "Sessions after delete", got, kept.ID)
	mustEqual(t, "audit events after delete", mustAudit(t, s, actas.AuditFilter{TenantID: tn.ID}), audit)
	wantErr(t, "DeleteUser again", s.DeleteUser(ctx, tn.ID, u.ID), actas.ErrNotFound)

	// The username is free again.
	mustCreateUser(t, s, tn.ID, "Alice")
}
