package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/actas-dev/actas"
)

// userAdminTests cover actas.UserAdminStore and actas.GroupStore.
var userAdminTests = []test{
	{"ProfileRoundTrip", testProfileRoundTrip},
	{"CreateUserAudited", testCreateUserAudited},
	{"ChangeUserAtomic", testChangeUserAtomic},
	{"ChangeUserRefused", testChangeUserRefused},
	{"ChangeUserDelete", testChangeUserDelete},
	{"LastAdmin", testLastAdmin},
	{"LastAdminRacing", testLastAdminRacing},
	{"Search", testSearchUsers},
	{"Groups", testGroups},
	{"DeleteGroup", testDeleteGroup},
	{"AuditNewestFirst", testAuditNewestFirst},
}

func testProfileRoundTrip(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	u := newUser(tn.ID, "alice")
	u.FirstName, u.LastName, u.FriendlyName = "Alíce", "Smith", "ali"
	u.Company, u.Country, u.Contact, u.Phone = "ACME", "DE", "desk 4", "+49 1"
	wantOK(t, "create", s.CreateUser(ctx, u))
	got, err := s.User(ctx, tn.ID, u.ID)
	wantOK(t, "user", err)
	mustEqual(t, "user", got, u)
	got, err = s.UpdateUser(ctx, tn.ID, u.ID, func(x *actas.User) error { x.Phone = "+49 2"; return nil })
	wantOK(t, "update", err)
	u.Phone = "+49 2"
	mustEqual(t, "updated", got, u)
}

func testCreateUserAudited(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	u := newUser(tn.ID, "alice")
	ev := &actas.AuditEvent{Time: at(0), TenantID: tn.ID, Action: actas.ActionUserCreate, Subject: "alice", Outcome: actas.OutcomeAllowed}
	wantOK(t, "create", s.CreateUserAudited(ctx, u, ev))
	dup := newUser(tn.ID, "ALICE")
	err := s.CreateUserAudited(ctx, dup, &actas.AuditEvent{Time: at(0), TenantID: tn.ID, Action: actas.ActionUserCreate, Outcome: actas.OutcomeAllowed})
	wantErr(t, "duplicate", err, actas.ErrConflict)
	if evs := mustAudit(t, s, actas.AuditFilter{TenantID: tn.ID, Action: actas.ActionUserCreate}); len(evs) != 1 {
		t.Fatalf("audit events = %d, want 1 (the refused insert must write none)", len(evs))
	}
}

// testChangeUserAtomic: the user, the revocations and the audit events
// of one change are written together.
func testChangeUserAtomic(t *testing.T, s actas.Store) {
	ctx := t.Context()
	f := mustFamily(t, s, "acme")
	got, revoked, err := s.ChangeUser(ctx, f.tenant.ID, f.alice.ID, func(u *actas.User) (*actas.UserChange, error) {
		u.Status = actas.UserDisabled
		u.UpdatedAt = at(time.Minute)
		return &actas.UserChange{RevokeUser: true, RevokeImpersonations: true, Reason: actas.ReasonUserDisabled, At: at(time.Minute),
			Audit: []*actas.AuditEvent{{Time: at(time.Minute), TenantID: f.tenant.ID, Action: actas.ActionUserUpdate, Outcome: actas.OutcomeAllowed}}}, nil
	})
	wantOK(t, "change", err)
	if got.Status != actas.UserDisabled {
		t.Fatalf("status = %q", got.Status)
	}
	wantIDs(t, "revoked", revoked, f.aliceS.ID, f.child.ID)
	wantRevoked(t, s, mustRevocations(t, s, 0, at(0)), at(time.Minute), actas.ReasonUserDisabled, f.aliceS)
	wantUnrevoked(t, s, f.bobS)
	if evs := mustAudit(t, s, actas.AuditFilter{TenantID: f.tenant.ID, Action: actas.ActionUserUpdate}); len(evs) != 1 {
		t.Fatalf("audit events = %d, want 1", len(evs))
	}
}

func testChangeUserRefused(t *testing.T, s actas.Store) {
	ctx := t.Context()
	f := mustFamily(t, s, "acme")
	_, _, err := s.ChangeUser(ctx, f.tenant.ID, f.alice.ID, func(u *actas.User) (*actas.UserChange, error) {
		u.Status = actas.UserDisabled
		return nil, errFn
	})
	if !errors.Is(err, errFn) {
		t.Fatalf("err = %v, want fn's", err)
	}
	got, err := s.User(ctx, f.tenant.ID, f.alice.ID)
	wantOK(t, "user", err)
	if got.Status != actas.UserActive {
		t.Fatal("a refused change was written")
	}
	_, _, err = s.ChangeUser(ctx, f.tenant.ID, actas.NewID(), func(u *actas.User) (*actas.UserChange, error) { return nil, nil })
	wantErr(t, "unknown user", err, actas.ErrNotFound)
	other := mustCreateTenant(t, s, "other")
	_, _, err = s.ChangeUser(ctx, other.ID, f.alice.ID, func(u *actas.User) (*actas.UserChange, error) { return nil, nil })
	wantErr(t, "another tenant's user", err, actas.ErrNotFound)
}

func testChangeUserDelete(t *testing.T, s actas.Store) {
	ctx := t.Context()
	f := mustFamily(t, s, "acme")
	got, revoked, err := s.ChangeUser(ctx, f.tenant.ID, f.alice.ID, func(u *actas.User) (*actas.UserChange, error) {
		return &actas.UserChange{Delete: true, Reason: actas.ReasonUserDeleted, At: at(time.Minute)}, nil
	})
	wantOK(t, "delete", err)
	if got != nil {
		t.Fatalf("deleted user returned: %+v", got)
	}
	wantIDs(t, "revoked", revoked, f.aliceS.ID, f.child.ID)
	_, err = s.User(ctx, f.tenant.ID, f.alice.ID)
	wantErr(t, "deleted user", err, actas.ErrNotFound)
	// The revocations outlive the deleted sessions.
	if rs := mustRevocations(t, s, 0, at(0)); len(rs) != 2 {
		t.Fatalf("revocations = %d, want 2", len(rs))
	}
}

func mustAdmin(t *testing.T, s actas.Store, tenantID, name string) *actas.User {
	t.Helper()
	u := newUser(tenantID, name)
	u.Groups = []string{actas.GroupAdmin}
	wantOK(t, "create admin", s.CreateUser(t.Context(), u))
	return u
}

func dropAdmin(u *actas.User) (*actas.UserChange, error) {
	u.Groups = slices.DeleteFunc(u.Groups, func(g string) bool { return g == actas.GroupAdmin })
	return &actas.UserChange{}, nil
}

func testLastAdmin(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	a := mustAdmin(t, s, tn.ID, "a")
	// A group that only looks like admin in the JSON text is not admin.
	fake := newUser(tn.ID, "fake")
	fake.Groups = []string{`\"admin`}
	wantOK(t, "create fake", s.CreateUser(ctx, fake))
	for name, fn := range map[string]func(*actas.User) (*actas.UserChange, error){
		"remove admin": dropAdmin,
		"disable": func(u *actas.User) (*actas.UserChange, error) {
			u.Status = actas.UserDisabled
			return &actas.UserChange{}, nil
		},
		"delete": func(u *actas.User) (*actas.UserChange, error) { return &actas.UserChange{Delete: true}, nil },
	} {
		_, _, err := s.ChangeUser(ctx, tn.ID, a.ID, fn)
		wantErr(t, name+" of the last admin", err, actas.ErrLastAdmin)
	}
	b := mustAdmin(t, s, tn.ID, "b")
	_, _, err := s.ChangeUser(ctx, tn.ID, a.ID, dropAdmin)
	wantOK(t, "remove admin with another admin", err)
	_, _, err = s.ChangeUser(ctx, tn.ID, b.ID, dropAdmin)
	wantErr(t, "remove the new last admin", err, actas.ErrLastAdmin)
	// Other changes of the last admin pass.
	_, _, err = s.ChangeUser(ctx, tn.ID, b.ID, func(u *actas.User) (*actas.UserChange, error) { u.Phone = "1"; return nil, nil })
	wantOK(t, "profile change of the last admin", err)
}

// testLastAdminRacing: two admins remove each other's admin at the same
// moment, 100 times: every time exactly one admin remains.
func testLastAdminRacing(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	a, b := mustAdmin(t, s, tn.ID, "a"), mustAdmin(t, s, tn.ID, "b")
	restore := func(u *actas.User) (*actas.UserChange, error) {
		u.Groups = actas.NormalizeGroups(append(u.Groups, actas.GroupAdmin))
		return nil, nil
	}
	for i := range 100 {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		start := make(chan struct{})
		for k, target := range []*actas.User{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, _, errs[k] = s.ChangeUser(ctx, tn.ID, target.ID, dropAdmin)
			}()
		}
		close(start)
		wg.Wait()
		n := 0
		for _, u := range []*actas.User{a, b} {
			got, err := s.User(ctx, tn.ID, u.ID)
			wantOK(t, "user", err)
			if got.InGroup(actas.GroupAdmin) {
				n++
			}
		}
		refused := 0
		for _, err := range errs {
			if errors.Is(err, actas.ErrLastAdmin) {
				refused++
			} else if err != nil {
				t.Fatalf("iteration %d: %v", i, err)
			}
		}
		if n != 1 || refused != 1 {
			t.Fatalf("iteration %d: %d admins left, %d refused; want 1 and 1", i, n, refused)
		}
		for _, u := range []*actas.User{a, b} {
			_, _, err := s.ChangeUser(ctx, tn.ID, u.ID, restore)
			wantOK(t, "restore", err)
		}
	}
}

func testSearchUsers(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	other := mustCreateTenant(t, s, "other")
	mk := func(tenantID, name, email, first, last, friendly string) {
		u := newUser(tenantID, name)
		u.Email, u.FirstName, u.LastName, u.FriendlyName = email, first, last, friendly
		wantOK(t, "create "+name, s.CreateUser(ctx, u))
	}
	mk(tn.ID, "zed", "z@x.org", "Émile", "Ng", "")
	mk(tn.ID, "Anna", "anna@x.org", "", "", "")
	mk(tn.ID, "bob", "anna.bob@x.org", "", "", "")
	mk(tn.ID, "carl", "c@x.org", "", "Annaberg", "")
	mk(tn.ID, "dora", "d@x.org", "", "", "ANNIE")
	mk(tn.ID, "erik", "e@x.org", "", "", "")
	mk(other.ID, "anna2", "anna@other.org", "", "", "")
	names := func(us []*actas.User) string {
		var out []string
		for _, u := range us {
			out = append(out, u.Username)
		}
		return fmt.Sprint(out)
	}
	for _, c := range []struct {
		prefix, after string
		limit         int
		want          string
	}{
		{"ann", "", 100, "[Anna bob carl dora]"},
		{"ANN", "", 2, "[Anna bob]"},
		{"ann", "BOB", 100, "[carl dora]"},
		{"émi", "", 100, "[zed]"},
		{"ÉMI", "", 100, "[zed]"},
		{"q", "", 100, "[]"},
		{"", "", 3, "[Anna bob carl]"},
	} {
		us, err := s.SearchUsers(ctx, tn.ID, c.prefix, c.after, c.limit)
		wantOK(t, "search", err)
		if got := names(us); got != c.want {
			t.Errorf("search %q after %q limit %d = %s, want %s", c.prefix, c.after, c.limit, got, c.want)
		}
	}
}

func testGroups(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	other := mustCreateTenant(t, s, "other")
	g := &actas.Group{ID: actas.NewID(), TenantID: tn.ID, Name: "Sales Team", CreatedAt: at(0)}
	wantOK(t, "create", s.CreateGroup(ctx, g, &actas.AuditEvent{Time: at(0), TenantID: tn.ID, Action: actas.ActionGroupCreate, Outcome: actas.OutcomeAllowed}))
	err := s.CreateGroup(ctx, &actas.Group{ID: actas.NewID(), TenantID: tn.ID, Name: "sales TEAM", CreatedAt: at(0)}, nil)
	wantErr(t, "case-insensitive duplicate", err, actas.ErrConflict)
	wantOK(t, "same name in another tenant", s.CreateGroup(ctx, &actas.Group{ID: actas.NewID(), TenantID: other.ID, Name: "Sales Team", CreatedAt: at(0)}, nil))
	got, err := s.Group(ctx, tn.ID, g.ID)
	wantOK(t, "group", err)
	mustEqual(t, "group", got, g)
	got, err = s.GroupByName(ctx, tn.ID, "SALES team")
	wantOK(t, "group by name", err)
	mustEqual(t, "group by name", got, g)
	_, err = s.Group(ctx, other.ID, g.ID)
	wantErr(t, "another tenant's group", err, actas.ErrNotFound)

	ensured, err := s.EnsureGroups(ctx, tn.ID, []string{"sales team", actas.GroupAdmin}, at(time.Minute))
	wantOK(t, "ensure", err)
	if len(ensured) != 2 || ensured[0].ID != g.ID || ensured[1].Name != actas.GroupAdmin {
		t.Fatalf("ensure = %+v", ensured)
	}
	again, err := s.EnsureGroups(ctx, tn.ID, []string{actas.GroupAdmin}, at(time.Hour))
	wantOK(t, "ensure again", err)
	if again[0].ID != ensured[1].ID {
		t.Fatal("EnsureGroups created a second admin")
	}
	u := newUser(tn.ID, "alice")
	u.Groups = []string{actas.GroupAdmin, "Sales Team"}
	wantOK(t, "create user", s.CreateUser(ctx, u))
	gs, err := s.Groups(ctx, tn.ID)
	wantOK(t, "groups", err)
	var list []string
	for _, x := range gs {
		list = append(list, fmt.Sprintf("%s:%d", x.Name, x.Members))
	}
	if fmt.Sprint(list) != "[admin:1 Sales Team:1]" {
		t.Fatalf("groups = %v", list)
	}
}

func testDeleteGroup(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	gs, err := s.EnsureGroups(ctx, tn.ID, []string{"ops", "dev"}, at(0))
	wantOK(t, "ensure", err)
	u1, u2 := newUser(tn.ID, "a"), newUser(tn.ID, "b")
	u1.Groups, u2.Groups = []string{"dev", "ops"}, []string{"dev"}
	wantOK(t, "create a", s.CreateUser(ctx, u1))
	wantOK(t, "create b", s.CreateUser(ctx, u2))
	ev := &actas.AuditEvent{Time: at(time.Hour), TenantID: tn.ID, Action: actas.ActionGroupDelete, Outcome: actas.OutcomeAllowed}
	wantOK(t, "delete", s.DeleteGroup(ctx, tn.ID, gs[0].ID, ev))
	got, err := s.User(ctx, tn.ID, u1.ID)
	wantOK(t, "user", err)
	if fmt.Sprint(got.Groups) != "[dev]" || !got.UpdatedAt.Equal(at(time.Hour)) {
		t.Fatalf("after delete: groups %v updated %v", got.Groups, got.UpdatedAt)
	}
	if got, _ := s.User(ctx, tn.ID, u2.ID); !got.UpdatedAt.Equal(at(0)) {
		t.Fatal("a user without the group was rewritten")
	}
	_, err = s.Group(ctx, tn.ID, gs[0].ID)
	wantErr(t, "deleted group", err, actas.ErrNotFound)
	wantErr(t, "delete again", s.DeleteGroup(ctx, tn.ID, gs[0].ID, ev), actas.ErrNotFound)
	if evs := mustAudit(t, s, actas.AuditFilter{TenantID: tn.ID, Action: actas.ActionGroupDelete}); len(evs) != 1 {
		t.Fatalf("audit events = %d, want 1", len(evs))
	}
}

func testAuditNewestFirst(t *testing.T, s actas.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "acme")
	for i, subj := range []string{"a", "b", "a", "c"} {
		wantOK(t, "append", s.AppendAudit(ctx, &actas.AuditEvent{Time: at(time.Duration(i) * time.Minute), TenantID: tn.ID,
			Action: actas.ActionUserUpdate, Subject: subj, Outcome: actas.OutcomeAllowed}))
	}
	all := mustAudit(t, s, actas.AuditFilter{TenantID: tn.ID, NewestFirst: true})
	if len(all) != 4 || all[0].ID < all[3].ID {
		t.Fatalf("not newest first: %s", eventIDs(all))
	}
	page := mustAudit(t, s, actas.AuditFilter{TenantID: tn.ID, NewestFirst: true, BeforeID: all[1].ID, Limit: 1})
	if len(page) != 1 || page[0].ID != all[2].ID {
		t.Fatalf("before %d: %s", all[1].ID, eventIDs(page))
	}
	if evs := mustAudit(t, s, actas.AuditFilter{TenantID: tn.ID, Subject: "a"}); len(evs) != 2 {
		t.Fatalf("subject a: %s", eventIDs(evs))
	}
}
