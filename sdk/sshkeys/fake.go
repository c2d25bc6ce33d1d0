package sshkeys

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"path"
	"slices"
	"sync"

	"github.com/threefoldtech/hero_codescalers/sdk/check"
)

// Fake is an in-memory SSHKeys for unit tests: authorized keys per home and
// keypairs per directory, with the contract's checks and idempotency. Its
// generated "keys" are well-formed ssh-ed25519 public key lines with random
// key bytes and no private half.
type Fake struct {
	mu         sync.Mutex
	authorized map[string][]AuthorizedKey // by home
	pairs      map[string]Keypair         // by dir
}

var _ SSHKeys = (*Fake)(nil)

// NewFake returns an empty Fake.
func NewFake() *Fake {
	return &Fake{authorized: map[string][]AuthorizedKey{}, pairs: map[string]Keypair{}}
}

// Wrote reports whether the Fake holds a file at p: a keypair's private
// or public half, or a home's .ssh/authorized_keys.
func (f *Fake) Wrote(p string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, kp := range f.pairs {
		if p == kp.PrivatePath || p == kp.PublicPath {
			return true
		}
	}
	_, ok := f.authorized[path.Dir(path.Dir(p))]
	return ok && path.Base(p) == "authorized_keys" && path.Base(path.Dir(p)) == ".ssh"
}

func (f *Fake) GenerateKeypair(_ context.Context, spec KeypairSpec) (Keypair, error) {
	if err := ValidateKeypairSpec(spec); err != nil {
		return Keypair{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if kp, ok := f.pairs[spec.Dir]; ok && !spec.Overwrite {
		return kp, nil
	}
	line := FakePublicKey(spec.Comment)
	k, err := ParseAuthorizedKey(line)
	if err != nil {
		return Keypair{}, err
	}
	kp := Keypair{PublicKey: k.Line, Fingerprint: k.Fingerprint,
		PrivatePath: path.Join(spec.Dir, "id_ed25519"), PublicPath: path.Join(spec.Dir, "id_ed25519.pub")}
	f.pairs[spec.Dir] = kp
	return kp, nil
}

func (f *Fake) AddAuthorizedKeys(_ context.Context, home string, _, _ uint32, keys []string) (int, error) {
	if err := check.AbsPath("home", home); err != nil {
		return 0, err
	}
	if err := ValidateKeys(keys); err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.authorized[home]; !ok {
		f.authorized[home] = nil // the file exists, empty, as a plugin leaves it
	}
	added := 0
	for _, line := range keys {
		k, _ := ParseAuthorizedKey(line)
		if slices.ContainsFunc(f.authorized[home], func(o AuthorizedKey) bool { return o.Fingerprint == k.Fingerprint }) {
			continue
		}
		f.authorized[home] = append(f.authorized[home], k)
		added++
	}
	return added, nil
}

func (f *Fake) RemoveAuthorizedKey(_ context.Context, home, fingerprint string) (int, error) {
	if err := check.AbsPath("home", home); err != nil {
		return 0, err
	}
	if err := ValidateFingerprint(fingerprint); err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	before := len(f.authorized[home])
	f.authorized[home] = slices.DeleteFunc(f.authorized[home], func(k AuthorizedKey) bool { return k.Fingerprint == fingerprint })
	return before - len(f.authorized[home]), nil
}

func (f *Fake) ListAuthorizedKeys(_ context.Context, home string) ([]AuthorizedKey, error) {
	if err := check.AbsPath("home", home); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.authorized[home]), nil
}

// FakePublicKey returns a well-formed ssh-ed25519 authorized_keys line with
// random key bytes, for tests that need distinct valid keys.
func FakePublicKey(comment string) string {
	const typ = "ssh-ed25519"
	blob := make([]byte, 0, 4+len(typ)+4+32)
	blob = binary.BigEndian.AppendUint32(blob, uint32(len(typ)))
	blob = append(blob, typ...)
	blob = binary.BigEndian.AppendUint32(blob, 32)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	blob = append(blob, key...)
	line := typ + " " + base64.StdEncoding.EncodeToString(blob)
	if comment != "" {
		line += " " + comment
	}
	return line
}
