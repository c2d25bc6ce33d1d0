package plugins

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
)

// lockPrefix is the Badger bucket of the plugin lock: one entry per concern.
const lockPrefix = "plugin/lock/"

// fallbackLockPrefix holds, per concern, the entry of the plugin the
// concern fell back to when the preferred one was not ready (fallback.go):
// kept apart so each keeps its own pin.
const fallbackLockPrefix = "plugin/fallback-lock/"

// LockEntry records which plugin binary an admin accepted for a concern,
// like a lock file: the host refuses to run anything else for that concern
// until Approve records the new choice.
type LockEntry struct {
	Name       string    `json:"name"`
	Path       string    `json:"path"`
	SHA256     string    `json:"sha256"`
	ApprovedAt time.Time `json:"approved_at"`
}

func loadLock(st core.Store, concern string) (LockEntry, bool, error) {
	return loadLockAt(st, lockPrefix+concern)
}

func loadLockAt(st core.Store, key string) (LockEntry, bool, error) {
	var e LockEntry
	found := false
	err := st.View(func(tx core.Tx) error {
		b, err := tx.Get(key)
		if errors.Is(err, core.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		return json.Unmarshal(b, &e)
	})
	return e, found, err
}

func saveLock(st core.Store, concern string, e LockEntry) error {
	return saveLockAt(st, lockPrefix+concern, e)
}

func saveLockAt(st core.Store, key string, e LockEntry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return st.Update(func(tx core.Tx) error { return tx.Set(key, b) })
}

// Locks returns the recorded lock entries by concern, for the CLI and tests.
func Locks(st core.Store) (map[string]LockEntry, error) {
	out := map[string]LockEntry{}
	err := st.View(func(tx core.Tx) error {
		return tx.Scan(lockPrefix, false, func(key string, v []byte) (bool, error) {
			var e LockEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return false, fmt.Errorf("%s: %w", key, err)
			}
			out[key[len(lockPrefix):]] = e
			return true, nil
		})
	})
	return out, err
}

// hashFile returns the hex sha256 of the file at path.
func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// mismatch says how a plugin about to run differs from the lock, or "".
func mismatch(lock LockEntry, name, path, sha string) string {
	switch {
	case lock.Path != path || lock.Name != name:
		return fmt.Sprintf("plugin changed from %s (%s) to %s (%s)", lock.Name, lock.Path, name, path)
	case lock.SHA256 != sha:
		return fmt.Sprintf("sha256 changed from %s to %s", lock.SHA256, sha)
	}
	return ""
}

// approveHint names the command that accepts a changed plugin. On the sudo
// path the sudoers digests must be refreshed too, or sudo itself refuses.
func approveHint(concern string, viaSudo bool) string {
	hint := "approve with hero_codescalers plugin-approve " + concern
	if viaSudo {
		hint += " (after refreshing the sudoers digests with hero_codescalers setup driver)"
	}
	return hint
}
