package token

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadMasterKeyFile: a missing file is created once with a fresh key
// (mode 0600) and read back after; over a database that holds sealed keys
// a missing file is an error and nothing is written; a damaged file is an
// error that does not echo its content.
func TestLoadMasterKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, MasterKeyFileName)

	k1, created, err := LoadMasterKeyFile(path, func() (bool, error) { return false, nil })
	if err != nil || !created || len(k1) != MasterKeySize {
		t.Fatalf("first load: %d bytes, created %v, %v", len(k1), created, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v; want 0600", fi.Mode(), err)
	}
	k2, created, err := LoadMasterKeyFile(path, func() (bool, error) { t.Fatal("hasSealed asked with the file present"); return false, nil })
	if err != nil || created || string(k2) != string(k1) {
		t.Fatalf("second load: created %v, same key %v, %v", created, string(k2) == string(k1), err)
	}

	other := filepath.Join(dir, "other.key")
	if _, _, err := LoadMasterKeyFile(other, func() (bool, error) { return true, nil }); err == nil || !strings.Contains(err.Error(), "already holds keys") {
		t.Fatalf("missing file over sealed keys: %v", err)
	}
	if _, err := os.Stat(other); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a key file was written over a database with sealed keys: %v", err)
	}
	boom := errors.New("database down")
	if _, _, err := LoadMasterKeyFile(other, func() (bool, error) { return false, boom }); !errors.Is(err, boom) {
		t.Fatalf("hasSealed failing: %v, want its error", err)
	}

	bad := filepath.Join(dir, "bad.key")
	if err := os.WriteFile(bad, []byte("c2VjcmV0LXNob3J0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadMasterKeyFile(bad, nil); err == nil || strings.Contains(err.Error(), "c2VjcmV0") {
		t.Fatalf("damaged key file: %v", err)
	}
}
