package state

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/host/state/storetest"
)

const (
	needleKey   = "user/needle-key-5e1f0c"
	needleValue = "plaintext-needle-value-9a7d3b"
)

// TestEncryptedAtRest looks for a written key and value in every file of
// the data dir, while open (write-ahead log) and after Close (tables). The
// control run writes the same through an unencrypted Badger with the same
// options and must find them, so a miss means encryption, not a blind grep.
func TestEncryptedAtRest(t *testing.T) {
	t.Run("control", func(t *testing.T) {
		dir := t.TempDir()
		db, err := badger.Open(badgerOptions(dir, slog.New(slog.DiscardHandler)))
		if err != nil {
			t.Fatal(err)
		}
		s := &Store{db: db}
		storetest.Put(t, s, needleKey, needleValue)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if files := filesContaining(t, dir, needleValue); len(files) == 0 {
			t.Fatalf("unencrypted Badger: plaintext not found; the check is blind")
		}
	})
	t.Run("encrypted", func(t *testing.T) {
		dir := t.TempDir()
		s := openAt(t, dir, testSecret)
		storetest.Put(t, s, needleKey, needleValue)
		for _, when := range []string{"open", "closed"} {
			if when == "closed" {
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
			}
			for _, needle := range []string{needleKey, needleValue} {
				if files := filesContaining(t, dir, needle); len(files) > 0 {
					t.Errorf("%s: plaintext %q found in %q", when, needle, files)
				}
			}
		}
	})
}

func filesContaining(t *testing.T, dir, needle string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(needle)) {
			found = append(found, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func TestWrongSecret(t *testing.T) {
	cases := []struct {
		name          string
		first, second string // "" = not set
		between       func(dir string) error
		want          string
	}{
		{"wrong secret", "a", "b", nil, "wrong SECRET_CODESCALERS?"},
		{"generated, then set", "", "b", nil, "holds a generated secret that may be the right one"},
		{"set, then unset", "a", "", nil, "is encrypted but no secret is available: set SECRET_CODESCALERS or restore"},
		{"generated, then replaced", "", "", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, secretFileName), []byte("other\n"), 0o600)
		}, "(it is not set; the generated secret in "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openAt(t, dir, c.first)
			storetest.Put(t, s, "k", "v")
			s.Close()
			var restore []byte
			if c.between != nil {
				restore, _ = os.ReadFile(filepath.Join(dir, secretFileName))
				if err := c.between(dir); err != nil {
					t.Fatal(err)
				}
			}

			_, err := Open(Options{Dir: dir, Secret: c.second})
			if !core.IsCode(err, core.FailedPrecondition) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), dir) {
				t.Fatalf("Open with the wrong secret: %v; want FailedPrecondition naming %s and %q", err, dir, c.want)
			}
			// The failed attempt released everything: the right secret works.
			if restore != nil {
				if err := os.WriteFile(filepath.Join(dir, secretFileName), restore, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			s = openAt(t, dir, c.first)
			if v, _ := storetest.Get(t, s, "k"); v != "v" {
				t.Fatalf("k = %q with the right secret", v)
			}
		})
	}
}

func TestWrongSecretMessage(t *testing.T) {
	dir := t.TempDir()
	openAt(t, dir, "a").Close()
	_, err := Open(Options{Dir: dir, Secret: "b"})
	if want := "cannot decrypt the state in " + dir + ": wrong SECRET_CODESCALERS?"; err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
}

func TestGeneratedSecret(t *testing.T) {
	dir := t.TempDir()
	var logs logBuffer
	s, err := Open(Options{Dir: dir, Logger: logs.logger()})
	if err != nil {
		t.Fatal(err)
	}
	storetest.Put(t, s, "k", "v")
	s.Close()

	path := filepath.Join(dir, secretFileName)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", path, fi.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	secret := strings.TrimSpace(string(b))
	if raw, err := hex.DecodeString(secret); err != nil || len(raw) != keyLen {
		t.Errorf("secret file holds %d bytes of hex (%v), want %d", len(raw), err, keyLen)
	}
	if out := logs.String(); !strings.Contains(out, path) || strings.Contains(out, secret) {
		t.Errorf("log must name %s and never show the secret:\n%s", path, out)
	}

	// Later starts reuse it, quietly; and it is the secret to give the
	// other nodes.
	var again logBuffer
	s, err = Open(Options{Dir: dir, Logger: again.logger()})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := storetest.Get(t, s, "k"); v != "v" {
		t.Errorf("k = %q after reopening with the generated secret", v)
	}
	s.Close()
	if b2, _ := os.ReadFile(path); !bytes.Equal(b, b2) {
		t.Errorf("the secret file changed on the second start")
	}
	if strings.Contains(again.String(), "generated") {
		t.Errorf("second start claims to have generated a secret:\n%s", again.String())
	}
	openAt(t, dir, secret)
}

func TestConfiguredSecretWritesNoFile(t *testing.T) {
	dir := t.TempDir()
	openAt(t, dir, testSecret)
	if _, err := os.Stat(filepath.Join(dir, secretFileName)); !os.IsNotExist(err) {
		t.Fatalf("a secret file was written although SECRET_CODESCALERS was set: %v", err)
	}
}

func TestKDFFile(t *testing.T) {
	salts := map[string]bool{}
	for range 2 {
		dir := t.TempDir()
		openAt(t, dir, testSecret)
		path := filepath.Join(dir, kdfFileName)
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", path, fi.Mode().Perm())
		}
		b, _ := os.ReadFile(path)
		var p kdfParams
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatal(err)
		}
		if len(p.Salt) != saltLen || p.Time != defaultKDF.Time || p.MemoryKiB != defaultKDF.MemoryKiB || p.Threads != defaultKDF.Threads {
			t.Errorf("kdf.json = %s", b)
		}
		salts[string(p.Salt)] = true
	}
	if len(salts) != 2 {
		t.Errorf("two databases got the same salt")
	}
}

// TestMissingKeyMaterial: losing the salt or the generated secret of an
// existing database is explained, not met with a fresh key and a mismatch.
func TestMissingKeyMaterial(t *testing.T) {
	cases := []struct{ remove, want string }{
		{kdfFileName, "kdf.json is missing"},
		{secretFileName, "no secret is available"},
	}
	for _, c := range cases {
		t.Run(c.remove, func(t *testing.T) {
			dir := t.TempDir()
			openAt(t, dir, "").Close()
			if err := os.Remove(filepath.Join(dir, c.remove)); err != nil {
				t.Fatal(err)
			}
			_, err := Open(Options{Dir: dir})
			if !core.IsCode(err, core.FailedPrecondition) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want FailedPrecondition with %q", err, c.want)
			}
			if _, err := os.Stat(filepath.Join(dir, c.remove)); !os.IsNotExist(err) {
				t.Errorf("%s was recreated for an existing database", c.remove)
			}
		})
	}
}
