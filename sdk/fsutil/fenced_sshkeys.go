package fsutil

import (
	"context"
	"path/filepath"

	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
)

// FenceSSHKeys wraps an sshkeys implementation so every call is judged
// before it runs: the user's home, when given, and a key directory
// strictly beneath a root, and the keys' owner — the user's uid and gid —
// a managed account and group (never root). Where the keys then live is
// the implementation's: in the home, or beneath one of its extra roots
// with the Fence's own-file methods.
func FenceSSHKeys(f *Fence, next sshkeys.SSHKeys) sshkeys.SSHKeys {
	return fencedKeys{f: f, next: next}
}

type fencedKeys struct {
	f    *Fence
	next sshkeys.SSHKeys
}

func (k fencedKeys) GenerateKeypair(ctx context.Context, spec sshkeys.KeypairSpec) (sshkeys.Keypair, error) {
	if err := sshkeys.ValidateKeypairSpec(spec); err != nil {
		return sshkeys.Keypair{}, err
	}
	dir := spec.KeyDir()
	if _, err := k.f.Below("dir", dir); err != nil {
		return sshkeys.Keypair{}, err
	}
	if err := k.f.Owner(filepath.Join(dir, "id_ed25519"), spec.User.UID, spec.User.GID, 0o600, false); err != nil {
		return sshkeys.Keypair{}, err
	}
	return k.next.GenerateKeypair(ctx, spec)
}

func (k fencedKeys) AddAuthorizedKeys(ctx context.Context, u lifecycle.User, keys []string) (sshkeys.Added, error) {
	if err := k.home(u, true); err != nil {
		return sshkeys.Added{}, err
	}
	if err := k.f.Owner(u.Home, u.UID, u.GID, 0o600, false); err != nil {
		return sshkeys.Added{}, err
	}
	return k.next.AddAuthorizedKeys(ctx, u, keys)
}

func (k fencedKeys) RemoveAuthorizedKey(ctx context.Context, u lifecycle.User, fingerprint string) (int, error) {
	if err := k.home(u, false); err != nil {
		return 0, err
	}
	return k.next.RemoveAuthorizedKey(ctx, u, fingerprint)
}

func (k fencedKeys) ListAuthorizedKeys(ctx context.Context, u lifecycle.User) ([]sshkeys.AuthorizedKey, error) {
	if err := k.home(u, false); err != nil {
		return nil, err
	}
	return k.next.ListAuthorizedKeys(ctx, u)
}

func (k fencedKeys) Forget(ctx context.Context, u lifecycle.User) (lifecycle.Forgotten, error) {
	if err := k.home(u, false); err != nil {
		return lifecycle.Forgotten{}, err
	}
	return k.next.Forget(ctx, u)
}

// home checks the user and its home (required or not) beneath a root.
func (k fencedKeys) home(u lifecycle.User, required bool) error {
	check := u.Validate
	if required {
		check = u.ValidateWithHome
	}
	if err := check(); err != nil {
		return err
	}
	if u.Home == "" {
		return nil
	}
	_, err := k.f.Below("home", u.Home)
	return err
}
