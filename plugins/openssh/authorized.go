package openssh

import (
	"context"
	"path/filepath"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/sshfiles"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

func authorizedPath(home string) string { return filepath.Join(home, ".ssh", authorizedName) }

// AddAuthorizedKeys appends the keys whose fingerprint the user's
// ~/.ssh/authorized_keys lacks, as given (options and comment kept); a key
// already there stays as it is, options included. Every key is checked
// before the file is touched; an invalid one is InvalidArgument naming
// it. Under DeferSync the file is written without its fsyncs and named in
// Unsynced: it lies in the home, where the host's Sync reaches.
func (o *OpenSSH) AddAuthorizedKeys(ctx context.Context, u lifecycle.User, keys []string) (sshkeys.Added, error) {
	if err := u.ValidateWithHome(); err != nil {
		return sshkeys.Added{}, err
	}
	home, uid, gid := u.Home, u.UID, u.GID
	parsed, err := sshfiles.ParseKeys(keys)
	if err != nil {
		return sshkeys.Added{}, err
	}
	defer o.dirs.Lock(filepath.Join(home, ".ssh"))()
	if err := o.Fence.EnsureDir(filepath.Join(home, ".ssh"), uid, gid, 0o700); err != nil {
		return sshkeys.Added{}, err
	}
	path := authorizedPath(home)
	data, st, err := o.Fence.ReadFile(path, sshfiles.MaxAuthorizedKeys)
	exists := err == nil
	if err != nil && !sdkerr.Is(err, sdkerr.NotFound) {
		return sshkeys.Added{}, err
	}
	lines, added := sshfiles.Add(sshfiles.Parse(data), parsed)
	if added == 0 && exists && st.Uid == uid && st.Gid == gid && st.Mode&0o7777 == 0o600 {
		return sshkeys.Added{}, nil
	}
	deferred := volumes.SyncDeferred(ctx)
	if err := o.Fence.WriteFile(path, sshfiles.Render(lines), uid, gid, 0o600, !deferred); err != nil {
		return sshkeys.Added{}, err
	}
	out := sshkeys.Added{Added: added}
	if deferred {
		out.Unsynced = []string{path}
	}
	return out, nil
}

// RemoveAuthorizedKey drops every line with that fingerprint, keeping the
// file's owner. A missing home, ~/.ssh or file has nothing to remove.
func (o *OpenSSH) RemoveAuthorizedKey(ctx context.Context, u lifecycle.User, fingerprint string) (int, error) {
	if err := u.ValidateWithHome(); err != nil {
		return 0, err
	}
	home := u.Home
	if err := sshkeys.ValidateFingerprint(fingerprint); err != nil {
		return 0, err
	}
	defer o.dirs.Lock(filepath.Join(home, ".ssh"))()
	path := authorizedPath(home)
	data, st, err := o.Fence.ReadFile(path, sshfiles.MaxAuthorizedKeys)
	if sdkerr.Is(err, sdkerr.NotFound) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	kept, removed := sshfiles.Remove(sshfiles.Parse(data), fingerprint)
	if removed == 0 {
		return 0, nil
	}
	return removed, o.Fence.WriteFile(path, sshfiles.Render(kept), st.Uid, st.Gid, 0o600, !volumes.SyncDeferred(ctx))
}

// ListAuthorizedKeys returns the key lines of the file, in order; comments
// and lines that are not keys are left out. A missing file lists nothing.
func (o *OpenSSH) ListAuthorizedKeys(_ context.Context, u lifecycle.User) ([]sshkeys.AuthorizedKey, error) {
	if err := u.ValidateWithHome(); err != nil {
		return nil, err
	}
	data, _, err := o.Fence.ReadFile(authorizedPath(u.Home), sshfiles.MaxAuthorizedKeys)
	if sdkerr.Is(err, sdkerr.NotFound) {
		return []sshkeys.AuthorizedKey{}, nil
	} else if err != nil {
		return nil, err
	}
	return sshfiles.Keys(sshfiles.Parse(data)), nil
}

// Forget has nothing to drop: openssh keeps a user's keys and keypair in
// its home alone, which the host's volume delete removes whole.
func (o *OpenSSH) Forget(_ context.Context, u lifecycle.User) (lifecycle.Forgotten, error) {
	return lifecycle.Forgotten{}, u.Validate()
}
