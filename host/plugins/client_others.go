package plugins

import (
	"context"
	"time"

	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// Volumes returns the volumes client core uses; see Accounts.
func (m *Manager) Volumes() volumes.Volumes { return volumesClient{m} }

// ACL returns the acl client core uses; see Accounts.
func (m *Manager) ACL() acl.ACL { return aclClient{m} }

// SSHKeys returns the sshkeys client core uses; see Accounts.
func (m *Manager) SSHKeys() sshkeys.SSHKeys { return sshkeysClient{m} }

// Sessions returns the sessions client core uses; see Accounts.
func (m *Manager) Sessions() sessions.Sessions { return sessionsClient{m} }

type (
	volumesClient  struct{ m *Manager }
	aclClient      struct{ m *Manager }
	sshkeysClient  struct{ m *Manager }
	sessionsClient struct{ m *Manager }
)

var (
	_ volumes.Volumes   = volumesClient{}
	_ acl.ACL           = aclClient{}
	_ sshkeys.SSHKeys   = sshkeysClient{}
	_ sessions.Sessions = sessionsClient{}
)

func (c volumesClient) CreateVolume(ctx context.Context, spec volumes.VolumeSpec) (out volumes.Volume, err error) {
	err = call(c.m, ctx, volumes.Name, func(ctx context.Context, p volumes.Volumes) (err error) {
		out, err = p.CreateVolume(ctx, spec)
		return err
	})
	return out, err
}

func (c volumesClient) DeleteVolume(ctx context.Context, path string) error {
	return call(c.m, ctx, volumes.Name, func(ctx context.Context, p volumes.Volumes) error {
		return p.DeleteVolume(ctx, path)
	})
}

func (c volumesClient) SetQuota(ctx context.Context, path string, quotaBytes uint64) (out volumes.Volume, err error) {
	err = call(c.m, ctx, volumes.Name, func(ctx context.Context, p volumes.Volumes) (err error) {
		out, err = p.SetQuota(ctx, path, quotaBytes)
		return err
	})
	return out, err
}

func (c volumesClient) GetUsage(ctx context.Context, path string) (out volumes.Volume, err error) {
	err = call(c.m, ctx, volumes.Name, func(ctx context.Context, p volumes.Volumes) (err error) {
		out, err = p.GetUsage(ctx, path)
		return err
	})
	return out, err
}

func (c volumesClient) Snapshot(ctx context.Context, spec volumes.SnapshotSpec) (out volumes.Snapshot, err error) {
	err = call(c.m, ctx, volumes.Name, func(ctx context.Context, p volumes.Volumes) (err error) {
		out, err = p.Snapshot(ctx, spec)
		return err
	})
	return out, err
}

func (c volumesClient) ListSnapshots(ctx context.Context, path string) (out []volumes.Snapshot, err error) {
	err = call(c.m, ctx, volumes.Name, func(ctx context.Context, p volumes.Volumes) (err error) {
		out, err = p.ListSnapshots(ctx, path)
		return err
	})
	return out, err
}

func (c volumesClient) DeleteSnapshot(ctx context.Context, path string) error {
	return call(c.m, ctx, volumes.Name, func(ctx context.Context, p volumes.Volumes) error {
		return p.DeleteSnapshot(ctx, path)
	})
}

func (c volumesClient) EnsureDir(ctx context.Context, path string, owner volumes.Owner) error {
	return call(c.m, ctx, volumes.Name, func(ctx context.Context, p volumes.Volumes) error {
		return p.EnsureDir(ctx, path, owner)
	})
}

func (c volumesClient) WriteFile(ctx context.Context, path string, data []byte, owner volumes.Owner) error {
	return call(c.m, ctx, volumes.Name, func(ctx context.Context, p volumes.Volumes) error {
		return p.WriteFile(ctx, path, data, owner)
	})
}

func (c volumesClient) Sync(ctx context.Context, paths []string) error {
	return call(c.m, ctx, volumes.Name, func(ctx context.Context, p volumes.Volumes) error {
		return p.Sync(ctx, paths)
	})
}

func (c aclClient) Grant(ctx context.Context, path string, entries []acl.Entry, recursive bool) error {
	return call(c.m, ctx, acl.Name, func(ctx context.Context, p acl.ACL) error {
		return p.Grant(ctx, path, entries, recursive)
	})
}

func (c aclClient) Revoke(ctx context.Context, path string, entries []acl.Entry) error {
	return call(c.m, ctx, acl.Name, func(ctx context.Context, p acl.ACL) error {
		return p.Revoke(ctx, path, entries)
	})
}

func (c aclClient) Get(ctx context.Context, path string) (out acl.List, err error) {
	err = call(c.m, ctx, acl.Name, func(ctx context.Context, p acl.ACL) (err error) {
		out, err = p.Get(ctx, path)
		return err
	})
	return out, err
}

func (c aclClient) SetOwnership(ctx context.Context, path string, uid, gid, mode uint32) error {
	return call(c.m, ctx, acl.Name, func(ctx context.Context, p acl.ACL) error {
		return p.SetOwnership(ctx, path, uid, gid, mode)
	})
}

func (c sshkeysClient) GenerateKeypair(ctx context.Context, spec sshkeys.KeypairSpec) (out sshkeys.Keypair, err error) {
	err = call(c.m, ctx, sshkeys.Name, func(ctx context.Context, p sshkeys.SSHKeys) (err error) {
		out, err = p.GenerateKeypair(ctx, spec)
		return err
	})
	return out, err
}

func (c sshkeysClient) AddAuthorizedKeys(ctx context.Context, home string, uid, gid uint32, keys []string) (out int, err error) {
	err = call(c.m, ctx, sshkeys.Name, func(ctx context.Context, p sshkeys.SSHKeys) (err error) {
		out, err = p.AddAuthorizedKeys(ctx, home, uid, gid, keys)
		return err
	})
	return out, err
}

func (c sshkeysClient) RemoveAuthorizedKey(ctx context.Context, home, fingerprint string) (out int, err error) {
	err = call(c.m, ctx, sshkeys.Name, func(ctx context.Context, p sshkeys.SSHKeys) (err error) {
		out, err = p.RemoveAuthorizedKey(ctx, home, fingerprint)
		return err
	})
	return out, err
}

func (c sshkeysClient) ListAuthorizedKeys(ctx context.Context, home string) (out []sshkeys.AuthorizedKey, err error) {
	err = call(c.m, ctx, sshkeys.Name, func(ctx context.Context, p sshkeys.SSHKeys) (err error) {
		out, err = p.ListAuthorizedKeys(ctx, home)
		return err
	})
	return out, err
}

func (c sessionsClient) ListSessions(ctx context.Context, user string) (out []sessions.Session, err error) {
	err = call(c.m, ctx, sessions.Name, func(ctx context.Context, p sessions.Sessions) (err error) {
		out, err = p.ListSessions(ctx, user)
		return err
	})
	return out, err
}

func (c sessionsClient) KillSession(ctx context.Context, id string, grace time.Duration) error {
	return call(c.m, ctx, sessions.Name, func(ctx context.Context, p sessions.Sessions) error {
		return p.KillSession(ctx, id, grace)
	})
}

func (c sessionsClient) KillUserSessions(ctx context.Context, user string, grace time.Duration) (out int, err error) {
	err = call(c.m, ctx, sessions.Name, func(ctx context.Context, p sessions.Sessions) (err error) {
		out, err = p.KillUserSessions(ctx, user, grace)
		return err
	})
	return out, err
}

func (c sessionsClient) KillUser(ctx context.Context, user string, grace time.Duration) (out sessions.Ended, err error) {
	err = call(c.m, ctx, sessions.Name, func(ctx context.Context, p sessions.Sessions) (err error) {
		out, err = p.KillUser(ctx, user, grace)
		return err
	})
	return out, err
}
