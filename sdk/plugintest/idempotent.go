package plugintest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// steps runs calls in order under one timeout each, stopping at the first
// failure; a call's error is named by its step.
type steps struct {
	k   *kit
	ctx context.Context
	err error
}

func (s *steps) do(what string, fn func(context.Context) error) {
	if s.err != nil {
		return
	}
	cctx, cancel := s.k.call(s.ctx)
	defer cancel()
	if err := fn(cctx); err != nil {
		s.err = fmt.Errorf("%s: %w", what, err)
	}
}

// verdict turns the first failure into the check's outcome: a plugin that
// cannot work here (wrong filesystem, not root, not ready) is skipped with
// its own reason, anything else fails.
func (s *steps) verdict() error {
	if s.err == nil {
		return nil
	}
	switch sdkerr.CodeOf(s.err) {
	case sdkerr.FailedPrecondition, sdkerr.PermissionDenied, sdkerr.Unavailable:
		return skipped("cannot run here: " + s.err.Error())
	}
	if !s.k.ready {
		return skipped("plugin not ready, and: " + s.err.Error())
	}
	return s.err
}

func (k *kit) idempotency(ctx context.Context, concern string) error {
	raw, err := k.rpc.Dispense(concern)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp(k.opts.ScratchDir, concern+"-")
	if err != nil {
		return err
	}
	s := &steps{k: k, ctx: ctx}
	switch concern {
	case sdk.ConcernAccounts:
		if !k.opts.Destructive {
			return skipped("creates a real account: run with Options.Destructive (--destructive)")
		}
		idemAccounts(s, raw.(accounts.Accounts), dir)
	case sdk.ConcernVolumes:
		idemVolumes(s, raw.(volumes.Volumes), dir)
	case sdk.ConcernACL:
		idemACL(s, raw, dir)
	case sdk.ConcernSSHKeys:
		idemSSHKeys(s, raw, dir)
	case sdk.ConcernSessions:
		idemSessions(s, raw.(sessions.Sessions))
	}
	return s.verdict()
}

func randomSuffix() string {
	const letters = "abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return string(b)
}

// idemAccounts creates, locks, unlocks and deletes a throwaway account
// twice each. Its home lies in dir, beneath the sandbox policy's home root
// (an accounts plugin refuses a home outside the policy's roots); nothing
// is made there (CreateHome is false).
func idemAccounts(s *steps, a accounts.Accounts, dir string) {
	name := "ptest-" + randomSuffix()
	spec := accounts.UserSpec{Name: name, Shell: "/bin/sh", Home: filepath.Join(dir, name), GECOS: "plugintest"}
	var first accounts.User
	s.do("CreateUser", func(ctx context.Context) (err error) { first, err = a.CreateUser(ctx, spec); return err })
	s.do("CreateUser again", func(ctx context.Context) error {
		again, err := a.CreateUser(ctx, spec)
		if err == nil && again.UID != first.UID {
			err = fmt.Errorf("uid %d, first create gave %d", again.UID, first.UID)
		}
		return err
	})
	s.do("LockUser twice", func(ctx context.Context) error { return twice(ctx, func() error { return a.LockUser(ctx, name, "") }) })
	s.do("GetUser locked", func(ctx context.Context) error {
		u, err := a.GetUser(ctx, name)
		if err == nil && !u.Locked {
			err = errors.New("user not locked after LockUser")
		}
		return err
	})
	s.do("UnlockUser twice", func(ctx context.Context) error {
		return twice(ctx, func() error { return a.UnlockUser(ctx, name, "") })
	})
	s.do("DeleteUser twice", func(ctx context.Context) error {
		return twice(ctx, func() error { return a.DeleteUser(ctx, name, accounts.DeleteOptions{}) })
	})
	s.do("GetUser after delete", func(ctx context.Context) error { return wantCode(a.GetUser(ctx, name)) })
	s.do("DeleteGroup of the user's group", func(ctx context.Context) error { return a.DeleteGroup(ctx, name) })
}

func twice(_ context.Context, fn func() error) error {
	if err := fn(); err != nil {
		return err
	}
	if err := fn(); err != nil {
		return fmt.Errorf("second call: %w", err)
	}
	return nil
}

// wantCode passes only a NotFound error.
func wantCode[T any](_ T, err error) error {
	if sdkerr.Is(err, sdkerr.NotFound) {
		return nil
	}
	return fmt.Errorf("want not_found, got %s", describe(err))
}

func idemVolumes(s *steps, v volumes.Volumes, dir string) {
	path := filepath.Join(dir, "vol")
	o := s.k.owner
	owner := volumes.Owner{UID: o.uid, GID: o.gid, Mode: 0o755}
	spec := volumes.VolumeSpec{Path: path, Owner: owner}
	s.do("CreateVolume twice", func(ctx context.Context) error {
		return twice(ctx, func() error { _, err := v.CreateVolume(ctx, spec); return err })
	})
	s.do("GetUsage reports the owner", func(ctx context.Context) error {
		vol, err := v.GetUsage(ctx, path)
		switch {
		case err != nil:
			return err
		case vol.Owner == nil:
			return fmt.Errorf("no owner reported: the host then refuses every existing home rather than adopt one")
		case *vol.Owner != owner:
			return fmt.Errorf("owner %+v, want %+v", *vol.Owner, owner)
		}
		return nil
	})
	sub := filepath.Join(path, "cfg")
	s.do("EnsureDir twice", func(ctx context.Context) error {
		return twice(ctx, func() error { return v.EnsureDir(ctx, sub, owner) })
	})
	file := filepath.Join(sub, "file")
	data := []byte("plugintest\n")
	fileOwner := volumes.Owner{UID: o.uid, GID: o.gid, Mode: 0o600}
	s.do("WriteFile twice", func(ctx context.Context) error {
		return twice(ctx, func() error { return v.WriteFile(ctx, file, data, fileOwner) })
	})
	s.do("WriteFile refuses a symlink", func(ctx context.Context) error { return refusesSymlink(ctx, v, sub, fileOwner) })
	s.do("DeleteVolume twice", func(ctx context.Context) error {
		return twice(ctx, func() error { return v.DeleteVolume(ctx, path) })
	})
	s.do("GetUsage after delete", func(ctx context.Context) error { return wantCode(v.GetUsage(ctx, path)) })
}

// refusesSymlink plants a symlink to a file outside the volume and checks
// WriteFile through it leaves the target alone.
func refusesSymlink(ctx context.Context, v volumes.Volumes, dir string, owner volumes.Owner) error {
	target := filepath.Join(filepath.Dir(filepath.Dir(dir)), "outside")
	if err := os.WriteFile(target, []byte("keep"), 0o600); err != nil {
		return err
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		if errors.Is(err, os.ErrPermission) || errors.Is(err, os.ErrNotExist) {
			return nil // dir is not ours to write, or not on disk: nothing to plant
		}
		return err
	}
	_ = v.WriteFile(ctx, link, []byte("overwritten"), owner)
	got, err := os.ReadFile(target)
	if err != nil {
		return err
	}
	if string(got) != "keep" {
		return errors.New("WriteFile followed a symlink and overwrote its target")
	}
	return nil
}
