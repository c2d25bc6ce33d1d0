package authorizedkeysd

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/sshfiles"
	"github.com/threefoldtech/hero_codescalers/sdk/fsutil"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
	"github.com/threefoldtech/hero_codescalers/sdk/keylock"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
)

// KeysDir is where the distributions that set
// AuthorizedKeysFile /etc/ssh/authorized_keys.d/%u keep users' keys.
const KeysDir = "/etc/ssh/authorized_keys.d"

// KeysD serves the sshkeys concern with each user's keys in one root-owned
// file, <Dir>/<user> (0644, in a root-owned 0755 directory, as sshd's
// StrictModes wants them): the user cannot change which keys log it in,
// and nothing of them lies in the home. Dir must be one of the extra roots
// the policy gives the plugin ([roots] authorizedkeysd or sshkeys); every
// call names a managed account whose uid the account files confirm, and a
// user's end (Forget) removes its file, so a user re-created under the
// same name finds no key. The user's own keypair goes into its ~/.ssh
// as openssh makes it.
type KeysD struct {
	Fence *fsutil.Fence
	Dir   string
	// users serializes the read-modify-write of one user's file.
	users keylock.Map
	pairs *sshfiles.Keypairs
}

var _ sshkeys.SSHKeys = (*KeysD)(nil)

// New returns a KeysD keeping keys in dir within fence.
func New(fence *fsutil.Fence, dir string) *KeysD {
	return &KeysD{Fence: fence, Dir: dir, pairs: &sshfiles.Keypairs{Fence: fence}}
}

// Probe is ready when the policy gives the plugin its keys directory.
func (k *KeysD) Probe(context.Context) identity.ProbeResult {
	if !slices.Contains(k.Fence.OwnRoots(), k.Dir) {
		return identity.ProbeResult{Reason: fmt.Sprintf("the policy gives this plugin no root %s: add authorizedkeysd = [%q] (or sshkeys = [...]) under [roots] of /etc/hero_codescalers/policy.toml", k.Dir, k.Dir)}
	}
	return identity.ProbeResult{Ready: true, Reason: "keys in " + k.Dir + "/<user>, root's"}
}

func (k *KeysD) file(u lifecycle.User) string { return filepath.Join(k.Dir, u.Name) }

// read returns the user's lines, and whether its file is there as it
// should be (root's, 0644); none when it has no file.
func (k *KeysD) read(u lifecycle.User) (lines []sshfiles.Line, sound bool, err error) {
	data, st, err := k.Fence.ReadFile(k.file(u), sshfiles.MaxAuthorizedKeys)
	if sdkerr.Is(err, sdkerr.NotFound) {
		return nil, false, nil
	}
	sound = err == nil && st.Uid == 0 && st.Gid == 0 && st.Mode&0o7777 == 0o644
	return sshfiles.Parse(data), sound, err
}

// AddAuthorizedKeys appends the keys the user's file lacks, and repairs
// its owner and mode; a user without keys has no file. The file lies
// outside the home, so it is always synced here: nothing is left for the
// host's Sync.
func (k *KeysD) AddAuthorizedKeys(_ context.Context, u lifecycle.User, keys []string) (sshkeys.Added, error) {
	parsed, err := sshfiles.ParseKeys(keys)
	if err != nil {
		return sshkeys.Added{}, err
	}
	if err := k.Fence.ManagedUser(u); err != nil {
		return sshkeys.Added{}, err
	}
	defer k.users.Lock(u.Name)()
	if err := k.Fence.EnsureOwnRoot(k.Dir); err != nil {
		return sshkeys.Added{}, err
	}
	lines, sound, err := k.read(u)
	if err != nil {
		return sshkeys.Added{}, err
	}
	had := len(lines) > 0
	lines, added := sshfiles.Add(lines, parsed)
	if added == 0 && (sound || !had) {
		return sshkeys.Added{}, nil
	}
	return sshkeys.Added{Added: added}, k.Fence.WriteOwnFile(k.file(u), sshfiles.Render(lines), 0o644, true)
}

// RemoveAuthorizedKey drops the key's lines from the user's file.
func (k *KeysD) RemoveAuthorizedKey(_ context.Context, u lifecycle.User, fingerprint string) (int, error) {
	if err := k.Fence.ManagedUser(u); err != nil {
		return 0, err
	}
	defer k.users.Lock(u.Name)()
	lines, _, err := k.read(u)
	if err != nil {
		return 0, err
	}
	kept, removed := sshfiles.Remove(lines, fingerprint)
	if removed == 0 {
		return 0, nil
	}
	return removed, k.Fence.WriteOwnFile(k.file(u), sshfiles.Render(kept), 0o644, true)
}

// ListAuthorizedKeys lists the keys sshd reads for the user.
func (k *KeysD) ListAuthorizedKeys(_ context.Context, u lifecycle.User) ([]sshkeys.AuthorizedKey, error) {
	if err := k.Fence.ManagedUser(u); err != nil {
		return nil, err
	}
	lines, _, err := k.read(u)
	if err != nil {
		return nil, err
	}
	return sshfiles.Keys(lines), nil
}

// Forget removes the user's file: the end of its logins. A name no
// account has any more (deleted before the host could forget it) has its
// stale file removed too; an unmanaged account's never is.
func (k *KeysD) Forget(_ context.Context, u lifecycle.User) (lifecycle.Forgotten, error) {
	if err := k.Fence.Forgettable(u); err != nil {
		return lifecycle.Forgotten{}, err
	}
	defer k.users.Lock(u.Name)()
	removed, err := k.Fence.RemoveOwnFile(k.file(u), true)
	if err != nil || !removed {
		return lifecycle.Forgotten{}, err
	}
	return lifecycle.Forgotten{Removed: []string{k.file(u)}}, nil
}

// GenerateKeypair makes or keeps the user's own keypair in ~/.ssh.
func (k *KeysD) GenerateKeypair(ctx context.Context, spec sshkeys.KeypairSpec) (sshkeys.Keypair, error) {
	if err := k.Fence.ManagedUser(spec.User); err != nil {
		return sshkeys.Keypair{}, err
	}
	return k.pairs.Generate(ctx, spec)
}
