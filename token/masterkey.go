package token

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// MasterKeyFileName is the name of the file beside a SQLite database that
// keeps its master key when ACTAS_MASTER_KEY is not set.
const MasterKeyFileName = "master.key"

// LoadMasterKeyFile returns the master key kept in the file at path,
// creating the file with a fresh key (mode 0600, durably) if it does not
// exist; created reports that it did. hasSealed, if not nil, reports
// whether the database already holds keys sealed under a master key: then
// a missing file is an error, never a reason to make a new key that could
// open none of them. Processes starting together on a new data directory
// all get the one key that was written first. Errors never contain the key.
func LoadMasterKeyFile(path string, hasSealed func() (bool, error)) (key []byte, created bool, err error) {
	b, err := os.ReadFile(path)
	if err == nil {
		k, err := ParseMasterKey(strings.TrimSpace(string(b)))
		if err != nil {
			return nil, false, fmt.Errorf("master key file %s: %w", path, err)
		}
		return k, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, false, fmt.Errorf("read master key file: %w", err)
	}
	if hasSealed != nil {
		if has, err := hasSealed(); err != nil {
			return nil, false, err
		} else if has {
			return nil, false, fmt.Errorf("ACTAS_MASTER_KEY is not set and %s does not exist, but the database already holds keys sealed under a master key: set ACTAS_MASTER_KEY or restore the file", path)
		}
	}
	s := GenerateMasterKey()
	ok, err := createKeyFile(path, s)
	if err != nil {
		return nil, false, err
	}
	if !ok { // another process made it first: use theirs
		k, _, err := LoadMasterKeyFile(path, nil)
		return k, false, err
	}
	k, _ := ParseMasterKey(s)
	return k, true, nil
}

// createKeyFile writes a new master key file durably and only if none
// exists: two processes starting together on a new data directory must
// not each make a key and seal keys under the one that loses. It reports
// false if the file already existed.
func createKeyFile(path, key string) (bool, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".master.key.*")
	if err != nil {
		return false, fmt.Errorf("write master key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err == nil {
		_, err = tmp.WriteString(key + "\n")
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, fmt.Errorf("write master key file: %w", err)
	}
	// link fails if path exists: an atomic create-if-absent of a complete file.
	if err := os.Link(tmp.Name(), path); errors.Is(err, os.ErrExist) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("write master key file: %w", err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync() // make the new name durable too
		d.Close()
	}
	return true, nil
}
