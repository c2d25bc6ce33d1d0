package fsutil

import (
	"context"
	"path/filepath"

	"github.com/threefoldtech/hero_codescalers/sdk/check"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
)

// FenceSSHKeys wraps an sshkeys implementation so every call is judged
// before it runs: a home or key directory strictly beneath a root, and
// the keys' owner a managed account and group (never root: key files are
// files).
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
	if _, err := k.f.Below("dir", spec.Dir); err != nil {
		return sshkeys.Keypair{}, err
	}
	if err := k.f.Owner(filepath.Join(spec.Dir, "id_ed25519"), spec.UID, spec.GID, 0o600, false); err != nil {
		return sshkeys.Keypair{}, err
	}
	return k.next.GenerateKeypair(ctx, spec)
}

func (k fencedKeys) AddAuthorizedKeys(ctx context.Context, home string, uid, gid uint32, keys []string) (int, error) {
	if err := k.home(home); err != nil {
		return 0, err
	}
	if err := k.f.Owner(filepath.Join(home, ".ssh", "authorized_keys"), uid, gid, 0o600, false); err != nil {
		return 0, err
	}
	return k.next.AddAuthorizedKeys(ctx, home, uid, gid, keys)
}

func (k fencedKeys) RemoveAuthorizedKey(ctx context.Context, home, fingerprint string) (int, error) {
	if err := k.home(home); err != nil {
		return 0, err
	}
	return k.next.RemoveAuthorizedKey(ctx, home, fingerprint)
}

func (k fencedKeys) ListAuthorizedKeys(ctx context.Context, home string) ([]sshkeys.AuthorizedKey, error) {
	if err := k.home(home); err != nil {
		return nil, err
	}
	return k.next.ListAuthorizedKeys(ctx, home)
}

func (k fencedKeys) home(home string) error {
	if err := check.AbsPath("home", home); err != nil {
		return err
	}
	_, err := k.f.Below("home", home)
	return err
}
