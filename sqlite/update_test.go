package sqlite

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/actas-dev/actas"
)

// UpdateSession writes a refresh without touching the indexed columns,
// and a change of an indexed column with its index entries: the indexes
// still agree with the table, and queries through them find the session.
func TestUpdateSessionIndexedColumns(t *testing.T) {
	ctx := t.Context()
	db := mustOpenDB(t, filepath.Join(t.TempDir(), "actas.db"))
	defer db.Close()
	tenantID, userID := mustSessionOwner(t, db)
	now := time.UnixMilli(1e12).UTC()
	other := &actas.User{ID: actas.NewID(), TenantID: tenantID, Username: "other", Status: actas.UserActive, CreatedAt: now}
	if err := db.CreateUser(ctx, other); err != nil {
		t.Fatal(err)
	}
	parent := &actas.Session{ID: actas.NewID(), TenantID: tenantID, UserID: userID, AuthTime: now,
		ExpiresAt: now.Add(time.Hour), CreatedAt: now}
	s := &actas.Session{ID: actas.NewID(), TenantID: tenantID, UserID: userID, AuthTime: now,
		ExpiresAt: now.Add(time.Hour), Refreshable: true, CreatedAt: now}
	for _, x := range []*actas.Session{parent, s} {
		if err := db.CreateSession(ctx, x, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	update := func(name string, fn func(*actas.Session)) {
		t.Helper()
		var want actas.Session
		got, err := db.UpdateSession(ctx, s.ID, func(x *actas.Session) (*actas.RefreshToken, error) {
			fn(x)
			want = *x
			return nil, nil
		})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		stored, err := db.Session(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		if *got != want || *stored != want {
			t.Errorf("%s:\nreturned %+v\nstored   %+v\nwant     %+v", name, got, stored, want)
		}
		var check string
		if err := db.r.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
			t.Fatalf("%s: integrity_check: %q, %v", name, check, err)
		}
	}
	update("refresh", func(x *actas.Session) {
		x.LastRefreshAt, x.RotatedAt, x.RefreshGeneration, x.ClientIP = now.Add(time.Minute), now.Add(time.Minute), 1, "192.0.2.1"
	})
	update("expiry", func(x *actas.Session) { x.ExpiresAt = now.Add(time.Minute) })
	update("user", func(x *actas.Session) { x.UserID = other.ID })
	update("impersonation", func(x *actas.Session) { x.ImpersonatorID, x.ParentID = userID, parent.ID })
	update("refresh again", func(x *actas.Session) { x.LastRefreshAt = now.Add(2 * time.Minute) })

	got, err := db.Sessions(ctx, actas.SessionFilter{TenantID: tenantID, UserID: other.ID})
	if err != nil || len(got) != 1 || got[0].ID != s.ID {
		t.Errorf("sessions of the new user: %v, %v; want the session", got, err)
	}
	// Through sessions_parent: revoking the parent reaches the session.
	revoked, err := db.RevokeSessions(ctx, actas.RevokeQuery{TenantID: tenantID, SessionID: parent.ID}, now, actas.ReasonAdmin)
	if err != nil || len(revoked) != 2 {
		t.Errorf("revoking the new parent: %d sessions, %v; want 2", len(revoked), err)
	}
	// Through sessions_expires.
	if n, _, err := db.PurgeExpired(ctx, now.Add(30*time.Minute)); err != nil || n != 1 {
		t.Errorf("PurgeExpired: %d, %v; want the session with the new expiry", n, err)
	}
}
