package volumestest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/threefoldtech/hero_codescalers/sdk/conformance"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// syncDeferred checks volumes.Sync as the host uses it: the probe
// Sync(nil) succeeds (a plugin without Sync passes with a note, as the
// host then never defers its fsyncs); a volume, a directory and a file
// made under DeferSync are whole once Sync took them; a missing path is
// NotFound; a symlink, at the path or on the way, is refused.
func syncDeferred(ctx context.Context, env *conformance.Env, impl any) error {
	v := impl.(volumes.Volumes)
	cctx, cancel := env.Call(ctx)
	err := v.Sync(cctx, nil)
	cancel()
	switch {
	case sdkerr.Is(err, sdkerr.Unimplemented):
		return conformance.Note("no Sync: the host keeps the plugin's own fsyncs")
	case err != nil:
		return fmt.Errorf("Sync(nil), the host's probe: %w", err)
	}
	s := env.Steps(ctx)
	dir := env.Dir
	path := filepath.Join(dir, "vol")
	sub := filepath.Join(path, "cfg")
	file := filepath.Join(sub, "file")
	data := []byte("plugintest sync\n")
	dirOwner := volumes.Owner{UID: env.Owner.UID, GID: env.Owner.GID, Mode: 0o755}
	fileOwner := volumes.Owner{UID: env.Owner.UID, GID: env.Owner.GID, Mode: 0o600}
	s.Do("CreateVolume under DeferSync", func(ctx context.Context) error {
		_, err := v.CreateVolume(volumes.DeferSync(ctx), volumes.VolumeSpec{Path: path, Owner: dirOwner})
		return err
	})
	s.Do("EnsureDir", func(ctx context.Context) error { return v.EnsureDir(ctx, sub, dirOwner) })
	s.Do("WriteFile under DeferSync", func(ctx context.Context) error {
		return v.WriteFile(volumes.DeferSync(ctx), file, data, fileOwner)
	})
	s.Do("Sync of the file, its directories and the volume's parent", func(ctx context.Context) error {
		return v.Sync(ctx, []string{file, sub, path, dir})
	})
	s.Do("the file after Sync", func(context.Context) error { return sameFile(path, file, data, 0o600) })
	s.Do("Sync of a missing path", func(ctx context.Context) error {
		return conformance.WantNotFound(v.Sync(ctx, []string{filepath.Join(sub, "missing")}))
	})
	s.Do("Sync refuses a symlink", func(ctx context.Context) error { return syncRefusesSymlinks(ctx, v, path, file) })
	s.Do("DeleteVolume", func(ctx context.Context) error { return v.DeleteVolume(ctx, path) })
	return s.Verdict()
}

// sameFile checks file's data and mode when the plugin placed it on this
// machine's disk (the volume exists here); a plugin whose volumes live
// elsewhere is taken at its word.
func sameFile(volume, file string, data []byte, mode os.FileMode) error {
	if _, err := os.Stat(volume); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	got, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	st, err := os.Lstat(file)
	if err != nil {
		return err
	}
	if string(got) != string(data) || st.Mode() != mode {
		return fmt.Errorf("%s holds %q with mode %v, want %q with %v", file, got, st.Mode(), data, mode)
	}
	return nil
}

// syncRefusesSymlinks plants a symlink to the file beside it and one to
// the volume inside it: Sync of the first is InvalidArgument (neither a
// regular file nor a directory), Sync through the second
// FailedPrecondition. A volume not on this machine's disk has nothing to
// plant.
func syncRefusesSymlinks(ctx context.Context, v volumes.Volumes, volume, file string) error {
	fileLink := filepath.Join(filepath.Dir(file), "link")
	dirLink := filepath.Join(volume, "dirlink")
	for link, target := range map[string]string{fileLink: file, dirLink: filepath.Dir(file)} {
		if err := os.Symlink(target, link); err != nil {
			if errors.Is(err, os.ErrPermission) || errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return err
		}
	}
	if err := v.Sync(ctx, []string{fileLink}); !sdkerr.Is(err, sdkerr.InvalidArgument) {
		return fmt.Errorf("Sync of a symlink to a file: want invalid_argument, got %s", conformance.Describe(err))
	}
	through := filepath.Join(dirLink, filepath.Base(file))
	if err := v.Sync(ctx, []string{through}); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		return fmt.Errorf("Sync through a symlinked directory: want failed_precondition, got %s", conformance.Describe(err))
	}
	return nil
}
