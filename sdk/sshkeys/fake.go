package sshkeys

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"path"
	"slices"
	"sync"

	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// Fake is an in-memory SSHKeys for unit tests: authorized keys per user
// and keypairs per directory, with the contract's checks and idempotency.
// Store says where it pretends the keys live: "" for ~/.ssh/
// authorized_keys (as openssh), or a directory outside the homes holding
// one file per user (as authorizedkeysd with /etc/ssh/authorized_keys.d).
// Under volumes.DeferSync it reports the files it "wrote" inside the home
// as unsynced. Forget drops everything of the user — the home's files
// too, which the Fake cannot see deleted with the home — and names the
// files outside the home. Its generated "keys" are well-formed ssh-ed25519
// public key lines with random key bytes and no private half.
type Fake struct {
	// Store is the directory of per-user key files; "" means the home's
	// .ssh/authorized_keys.
	Store string
	// Synced makes the Fake answer as a plugin that fsyncs what it writes
	// even under DeferSync: nothing unsynced. For a Fake served where the
	// files it names would be looked for on disk (the kit's test plugin).
	Synced bool

	mu         sync.Mutex
	authorized map[string][]AuthorizedKey // by user name
	files      map[string]string          // the keys file of each user with keys
	pairs      map[string]Keypair         // by dir
	owners     map[string]string          // dir → user name
	// held counts the keys files and keypair halves at each path, so
	// Wrote (which a volumes Fake asks at each Sync) walks none of them.
	held map[string]int
}

var _ SSHKeys = (*Fake)(nil)

// NewFake returns an empty Fake keeping keys in ~/.ssh/authorized_keys.
func NewFake() *Fake {
	return &Fake{authorized: map[string][]AuthorizedKey{}, files: map[string]string{},
		pairs: map[string]Keypair{}, owners: map[string]string{}, held: map[string]int{}}
}

// keysFile is where u's keys "live".
func (f *Fake) keysFile(u lifecycle.User) string {
	if f.Store != "" {
		return path.Join(f.Store, u.Name)
	}
	return path.Join(u.Home, ".ssh", "authorized_keys")
}

// Wrote reports whether the Fake holds a file at p: a keypair's private
// or public half, or a user's keys file.
func (f *Fake) Wrote(p string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.held[p] > 0
}

// hold counts a file the Fake now holds at each of paths; release undoes
// that.
func (f *Fake) hold(paths ...string) {
	for _, p := range paths {
		f.held[p]++
	}
}

func (f *Fake) release(paths ...string) {
	for _, p := range paths {
		if f.held[p]--; f.held[p] <= 0 {
			delete(f.held, p)
		}
	}
}

// Keys lists the keys the Fake holds for the user name, whoever asks.
func (f *Fake) Keys(name string) []AuthorizedKey {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.authorized[name])
}

func (f *Fake) GenerateKeypair(ctx context.Context, spec KeypairSpec) (Keypair, error) {
	if err := ValidateKeypairSpec(spec); err != nil {
		return Keypair{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	dir := spec.KeyDir()
	if kp, ok := f.pairs[dir]; ok && !spec.Overwrite {
		kp.Unsynced = nil
		return kp, nil
	}
	line := FakePublicKey(spec.Comment)
	k, err := ParseAuthorizedKey(line)
	if err != nil {
		return Keypair{}, err
	}
	kp := Keypair{PublicKey: k.Line, Fingerprint: k.Fingerprint,
		PrivatePath: path.Join(dir, "id_ed25519"), PublicPath: path.Join(dir, "id_ed25519.pub")}
	if old, ok := f.pairs[dir]; ok {
		f.release(old.PrivatePath, old.PublicPath)
	}
	f.hold(kp.PrivatePath, kp.PublicPath)
	f.pairs[dir], f.owners[dir] = kp, spec.User.Name
	if volumes.SyncDeferred(ctx) && !f.Synced {
		kp.Unsynced = []string{kp.PrivatePath, kp.PublicPath}
	}
	return kp, nil
}

func (f *Fake) AddAuthorizedKeys(ctx context.Context, u lifecycle.User, keys []string) (Added, error) {
	if err := u.ValidateWithHome(); err != nil {
		return Added{}, err
	}
	if err := ValidateKeys(keys); err != nil {
		return Added{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	file := f.keysFile(u)
	old, existed := f.files[u.Name]
	if existed {
		f.release(old)
	}
	f.hold(file)
	f.files[u.Name] = file // the file exists, maybe empty, as a plugin leaves it
	added := 0
	for _, line := range keys {
		k, _ := ParseAuthorizedKey(line)
		if slices.ContainsFunc(f.authorized[u.Name], func(o AuthorizedKey) bool { return o.Fingerprint == k.Fingerprint }) {
			continue
		}
		f.authorized[u.Name] = append(f.authorized[u.Name], k)
		added++
	}
	out := Added{Added: added}
	if (added > 0 || !existed) && f.Store == "" && volumes.SyncDeferred(ctx) && !f.Synced {
		out.Unsynced = []string{file}
	}
	return out, nil
}

func (f *Fake) RemoveAuthorizedKey(_ context.Context, u lifecycle.User, fingerprint string) (int, error) {
	if err := u.Validate(); err != nil {
		return 0, err
	}
	if err := ValidateFingerprint(fingerprint); err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	before := len(f.authorized[u.Name])
	f.authorized[u.Name] = slices.DeleteFunc(f.authorized[u.Name], func(k AuthorizedKey) bool { return k.Fingerprint == fingerprint })
	return before - len(f.authorized[u.Name]), nil
}

func (f *Fake) ListAuthorizedKeys(_ context.Context, u lifecycle.User) ([]AuthorizedKey, error) {
	if err := u.Validate(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]AuthorizedKey{}, f.authorized[u.Name]...), nil
}

// Forget drops the user's keys, keys file and keypairs.
func (f *Fake) Forget(_ context.Context, u lifecycle.User) (lifecycle.Forgotten, error) {
	if err := u.Validate(); err != nil {
		return lifecycle.Forgotten{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out lifecycle.Forgotten
	if file, ok := f.files[u.Name]; ok {
		if f.Store != "" {
			out.Removed = append(out.Removed, file)
		}
		f.release(file)
	}
	delete(f.authorized, u.Name)
	delete(f.files, u.Name)
	for dir, owner := range f.owners {
		if owner == u.Name {
			f.release(f.pairs[dir].PrivatePath, f.pairs[dir].PublicPath)
			delete(f.pairs, dir)
			delete(f.owners, dir)
		}
	}
	return out, nil
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
