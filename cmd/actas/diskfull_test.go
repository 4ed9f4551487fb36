package main

import (
	"database/sql"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// smallFS mounts a tmpfs of size bytes for the test and returns its path.
// It skips the test, saying why, where that is not possible (not root,
// no mount).
func smallFS(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("not running as root: cannot mount a small tmpfs to fill (run as root for the real full-disk test)")
	}
	dir := filepath.Join(t.TempDir(), "small")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v: %s): skipping the real full-disk test", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fill writes a file until the file system is full and returns its path.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling the disk: %v", err)
			}
			return path
		}
	}
}

// TestFullDiskSQLite: with the SQLite database on a small file system
// that fills up, sign-ins answer 503 with Retry-After and the envelope
// (never 500), /readyz reports not ready; once space is freed, /readyz is
// ready again by itself and sign-ins succeed; and every sign-in answered
// 200, before, during or after, is stored and can be refreshed.
func TestFullDiskSQLite(t *testing.T) {
	dir := smallFS(t, "4m")
	h := newHarness(t)
	h.db = "sqlite:" + filepath.Join(dir, "actas.db")
	h.serve()
	ten := h.createTenant("acme")
	h.createUser("acme", "alice", "alice-password")
	key := []string{"X-API-Key", ten.APIKey}
	signIn := map[string]string{"username": "alice", "password": "alice-password"}
	var acked []map[string]any
	for range 5 {
		acked = append(acked, h.signIn(ten.APIKey, "alice", "alice-password"))
	}
	waitReady(t, h, 200)
	time.Sleep(1500 * time.Millisecond) // the idle WAL is truncated: the next write needs new space

	filler := fill(t, dir)
	statuses := map[int]int{}
	for range 25 {
		r := h.do("POST", "/auth/token", signIn, key...)
		statuses[r.status]++
		switch r.status {
		case 200:
			acked = append(acked, r.json(t))
		case 503:
			want503(t, "sign in on a full disk", r)
		default:
			t.Errorf("sign in on a full disk: %d %s, want 503 (or 200 if it fit)", r.status, r.body)
		}
	}
	t.Logf("25 sign-ins on a full disk: %v", statuses)
	if statuses[503] == 0 {
		t.Fatal("no sign-in was refused on a full disk: the test did not fill it")
	}
	r := waitReady(t, h, 503)
	if !strings.Contains(string(r.body), "database_writes") {
		t.Errorf("/readyz on a full disk: %s, want database_writes named", r.body)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	freed := time.Now()
	waitReady(t, h, 200)
	t.Logf("ready again %v after space was freed", time.Since(freed).Round(time.Millisecond))
	acked = append(acked, h.signIn(ten.APIKey, "alice", "alice-password"))

	// Nothing answered 200 was lost.
	db, err := sql.Open("sqlite", dbPath(h)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, body := range acked {
		sid := originJTI(str(sessionOf(t, body), "accessToken"))
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM sessions WHERE id = ?`, sid).Scan(&n); err != nil || n != 1 {
			t.Errorf("session %s answered 200 but is not stored (%d, %v)", sid, n, err)
		}
		if r := h.do("POST", "/auth/token", body, key...); r.status != 200 {
			t.Errorf("refresh of acknowledged session %s: %d %s", sid, r.status, r.body)
		}
	}
	t.Logf("%d acknowledged sign-ins stored and refreshable", len(acked))
}
