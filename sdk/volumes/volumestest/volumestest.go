// Package volumestest holds the conformance checks of the volumes concern,
// which the kit (sdk/plugintest) runs against every volumes plugin: bad
// paths and modes refused, create, placement and delete idempotent and
// never through a symlink, nothing done outside the policy's roots, and
// Sync taking what was written under volumes.DeferSync.
package volumestest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/threefoldtech/hero_codescalers/sdk/conformance"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// Checks are the volumes concern's conformance checks.
var Checks = []conformance.Check{
	{Name: "invalid-input", Run: invalidInput},
	{Name: "idempotency", Run: idempotency},
	{Name: "fence", Run: fence},
	{Name: "sync", Run: syncDeferred},
}

// Probe is a harmless call with bad input.
func Probe(ctx context.Context, impl any) error {
	_, err := impl.(volumes.Volumes).GetUsage(ctx, "")
	return err
}

// invalidInput: bad paths for every path-taking call, and bad modes. A
// plugin that wrongly accepts one acts inside the scratch directory (its
// working directory there too), never elsewhere.
func invalidInput(ctx context.Context, env *conformance.Env, impl any) error {
	v := impl.(volumes.Volumes)
	scratch, err := env.InvalidDir()
	if err != nil {
		return err
	}
	owner := volumes.Owner{UID: env.Owner.UID, GID: env.Owner.GID, Mode: 0o755}
	var cases []conformance.BadCase
	for _, p := range conformance.BadPaths(scratch) {
		cases = append(cases,
			conformance.BadCase{What: fmt.Sprintf("GetUsage(%q)", p), Call: func(ctx context.Context) error { _, err := v.GetUsage(ctx, p); return err }},
			conformance.BadCase{What: fmt.Sprintf("ListSnapshots(%q)", p), Call: func(ctx context.Context) error { _, err := v.ListSnapshots(ctx, p); return err }},
			conformance.BadCase{What: fmt.Sprintf("CreateVolume(%q)", p), Call: func(ctx context.Context) error {
				_, err := v.CreateVolume(ctx, volumes.VolumeSpec{Path: p, Owner: owner})
				return err
			}},
			conformance.BadCase{What: fmt.Sprintf("WriteFile(%q)", p), Call: func(ctx context.Context) error {
				return v.WriteFile(ctx, p, []byte("x"), volumes.Owner{UID: owner.UID, GID: owner.GID, Mode: 0o600})
			}},
			conformance.BadCase{What: fmt.Sprintf("EnsureDir(%q)", p), Call: func(ctx context.Context) error { return v.EnsureDir(ctx, p, owner) }},
			conformance.BadCase{What: fmt.Sprintf("Sync(%q)", p), Call: func(ctx context.Context) error { return v.Sync(ctx, []string{scratch, p}) }})
	}
	good := filepath.Join(scratch, "mode")
	cases = append(cases, conformance.BadCase{What: "EnsureDir(mode 010000)", Call: func(ctx context.Context) error {
		return v.EnsureDir(ctx, good, volumes.Owner{UID: owner.UID, GID: owner.GID, Mode: 0o10000})
	}}, conformance.BadCase{What: "Snapshot(dest relative)", Call: func(ctx context.Context) error {
		_, err := v.Snapshot(ctx, volumes.SnapshotSpec{Source: good, Dest: "snap"})
		return err
	}}, conformance.BadCase{What: fmt.Sprintf("Sync(%d paths)", volumes.MaxSyncPaths+1), Call: func(ctx context.Context) error {
		return v.Sync(ctx, slices.Repeat([]string{scratch}, volumes.MaxSyncPaths+1))
	}})
	return env.ExpectInvalid(ctx, cases)
}

func idempotency(ctx context.Context, env *conformance.Env, impl any) error {
	v := impl.(volumes.Volumes)
	s := env.Steps(ctx)
	path := filepath.Join(env.Dir, "vol")
	owner := volumes.Owner{UID: env.Owner.UID, GID: env.Owner.GID, Mode: 0o755}
	spec := volumes.VolumeSpec{Path: path, Owner: owner}
	s.Do("CreateVolume twice", func(ctx context.Context) error {
		return conformance.Twice(func() error { _, err := v.CreateVolume(ctx, spec); return err })
	})
	s.Do("GetUsage reports the owner", func(ctx context.Context) error {
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
	s.Do("EnsureDir twice", func(ctx context.Context) error {
		return conformance.Twice(func() error { return v.EnsureDir(ctx, sub, owner) })
	})
	file := filepath.Join(sub, "file")
	data := []byte("plugintest\n")
	fileOwner := volumes.Owner{UID: owner.UID, GID: owner.GID, Mode: 0o600}
	s.Do("WriteFile twice", func(ctx context.Context) error {
		return conformance.Twice(func() error { return v.WriteFile(ctx, file, data, fileOwner) })
	})
	s.Do("WriteFile refuses a symlink", func(ctx context.Context) error { return refusesSymlink(ctx, v, sub, fileOwner) })
	s.Do("DeleteVolume twice", func(ctx context.Context) error {
		return conformance.Twice(func() error { return v.DeleteVolume(ctx, path) })
	})
	s.Do("GetUsage after delete", func(ctx context.Context) error {
		_, err := v.GetUsage(ctx, path)
		return conformance.WantNotFound(err)
	})
	return s.Verdict()
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

func fence(ctx context.Context, env *conformance.Env, impl any) error {
	v := impl.(volumes.Volumes)
	dir := volumes.Owner{UID: env.Owner.UID, GID: env.Owner.GID, Mode: 0o755}
	file := volumes.Owner{UID: env.Owner.UID, GID: env.Owner.GID, Mode: 0o600}
	return env.Fence(ctx, func(outside string) []conformance.BadCase {
		return []conformance.BadCase{
			{What: "WriteFile outside", Call: func(ctx context.Context) error {
				return v.WriteFile(ctx, filepath.Join(outside, "written"), []byte("x"), file)
			}},
			{What: "WriteFile over a file outside", Call: func(ctx context.Context) error {
				return v.WriteFile(ctx, filepath.Join(outside, "target"), []byte("x"), file)
			}},
			{What: "EnsureDir outside", Call: func(ctx context.Context) error { return v.EnsureDir(ctx, filepath.Join(outside, "dir"), dir) }},
			{What: "EnsureDir of a directory outside", Call: func(ctx context.Context) error { return v.EnsureDir(ctx, outside, dir) }},
			{What: "CreateVolume outside", Call: func(ctx context.Context) error {
				_, err := v.CreateVolume(ctx, volumes.VolumeSpec{Path: filepath.Join(outside, "vol"), Owner: dir})
				return err
			}},
		}
	})
}
