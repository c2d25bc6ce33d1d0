package state

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/argon2"

	"github.com/threefoldtech/hero_codescalers/core"
)

const (
	secretFileName = "secret"
	kdfFileName    = "kdf.json"
	// keyLen selects AES-256 in Badger.
	keyLen = 32
	// saltLen is Argon2's recommended salt size (RFC 9106 §3.1).
	saltLen = 16
)

// kdfParams are the Argon2id parameters of one database. They are stored
// beside it with the salt, because the key must be derived the same way for
// the life of the data: a future binary may pick stronger defaults for new
// databases and still open the old ones.
type kdfParams struct {
	Algorithm string `json:"algorithm"`
	Time      uint32 `json:"time"`
	MemoryKiB uint32 `json:"memory_kib"`
	Threads   uint8  `json:"threads"`
	Salt      []byte `json:"salt"`
}

// defaultKDF is what a new database gets: RFC 9106's second recommended
// option (64 MiB, 3 passes) with 2 lanes for the 2-core nodes we run on.
// It costs about a tenth of a second once per start, which a host pays
// gladly and a guesser of a stolen disk's secret pays per guess. Tests
// lower it to keep the suite fast; the code path is the same.
var defaultKDF = kdfParams{Algorithm: "argon2id", Time: 3, MemoryKiB: 64 << 10, Threads: 2}

// deriveKey turns the fleet's passphrase into Badger's AES-256 master key.
func deriveKey(secret string, p kdfParams) []byte {
	return argon2.IDKey([]byte(secret), p.Salt, p.Time, p.MemoryKiB, p.Threads, keyLen)
}

// resolveSecret returns the configured secret, or the one generated into
// the data dir on first start. A generated secret is what makes a node
// usable without configuration; it is logged by path, never by value.
// fromFile reports which of the two was used, for the wrong-secret hint.
func resolveSecret(dir, configured string, dbExists bool, log *slog.Logger) (secret string, fromFile bool, err error) {
	if configured != "" {
		return configured, false, nil
	}
	path := filepath.Join(dir, secretFileName)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		warnLoosePerms(path, log)
		s := strings.TrimSpace(string(b))
		if s == "" {
			return "", true, core.Errorf(core.FailedPrecondition,
				"the secret file %s is empty: set SECRET_CODESCALERS or restore the file", path)
		}
		return s, true, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", true, core.Wrap(err, core.FailedPrecondition, "cannot read the secret file %s: %v", path, err)
	case dbExists:
		// A new secret could never decrypt the existing data; say so
		// instead of letting Badger report a key mismatch.
		return "", true, core.Errorf(core.FailedPrecondition,
			"the state in %s is encrypted but no secret is available: set SECRET_CODESCALERS or restore %s", dir, path)
	}
	raw := make([]byte, keyLen)
	if _, err := rand.Read(raw); err != nil {
		return "", true, core.Wrap(err, core.Internal, "cannot generate a secret")
	}
	s := hex.EncodeToString(raw)
	if err := writeExclusive(path, []byte(s+"\n")); err != nil {
		return "", true, core.Wrap(err, core.FailedPrecondition, "cannot write the secret file %s: %v", path, err)
	}
	log.Info("SECRET_CODESCALERS is not set: generated a secret for the state; "+
		"set SECRET_CODESCALERS to its content to share it with the fleet", "file", path)
	return s, true, nil
}

// loadKDF reads the database's salt and parameters, or creates them for a
// new database.
func loadKDF(dir string, dbExists bool) (kdfParams, error) {
	path := filepath.Join(dir, kdfFileName)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		var p kdfParams
		if err := json.Unmarshal(b, &p); err != nil {
			return kdfParams{}, core.Wrap(err, core.FailedPrecondition, "cannot parse %s: %v", path, err)
		}
		if err := p.validate(); err != nil {
			return kdfParams{}, core.Wrap(err, core.FailedPrecondition, "%s: %v", path, err)
		}
		return p, nil
	case !errors.Is(err, fs.ErrNotExist):
		return kdfParams{}, core.Wrap(err, core.FailedPrecondition, "cannot read %s: %v", path, err)
	case dbExists:
		return kdfParams{}, core.Errorf(core.FailedPrecondition,
			"%s is missing: the key of the state in %s cannot be derived without it; restore it from a backup", path, dir)
	}
	p := defaultKDF
	p.Salt = make([]byte, saltLen)
	if _, err := rand.Read(p.Salt); err != nil {
		return kdfParams{}, core.Wrap(err, core.Internal, "cannot generate a salt")
	}
	b, err = json.MarshalIndent(p, "", "  ")
	if err != nil {
		return kdfParams{}, core.Wrap(err, core.Internal, "cannot encode %s", path)
	}
	if err := writeAtomic(path, append(b, '\n')); err != nil {
		return kdfParams{}, core.Wrap(err, core.FailedPrecondition, "cannot write %s: %v", path, err)
	}
	return p, nil
}

func (p kdfParams) validate() error {
	switch {
	case p.Algorithm != "argon2id":
		return errors.New("unknown key derivation " + p.Algorithm)
	case len(p.Salt) < saltLen:
		return errors.New("salt too short")
	case p.Time < 1 || p.MemoryKiB < 8*uint32(p.Threads) || p.Threads < 1:
		return errors.New("invalid argon2id parameters")
	}
	return nil
}

// warnLoosePerms flags a secret file others can read: it is the whole key
// to the state.
func warnLoosePerms(path string, log *slog.Logger) {
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.Warn("the secret file is readable by other users; chmod 600 it", "file", path, "mode", fi.Mode().Perm())
	}
}

// writeExclusive creates path 0600 and fails if it exists: whatever goes
// wrong elsewhere, an existing secret (the only key to its data) is never
// overwritten.
func writeExclusive(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// writeAtomic replaces path 0600 through a renamed temporary file, so a
// crash leaves either no file or a whole one.
func writeAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(path))
}

// syncDir makes a new directory entry durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
