package plugintest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// syncVolumes checks volumes.Sync as the host uses it: the probe
// Sync(nil) succeeds (a plugin without Sync passes with a note, as the
// host then never defers its fsyncs); a volume, a directory and a file
// made under DeferSync are whole once Sync took them; a missing path is
// NotFound; a symlink, at the path or on the way, is refused.
func (k *kit) syncVolumes(ctx context.Context) error {
	raw, err := k.rpc.Dispense(sdk.ConcernVolumes)
	if err != nil {
		return err
	}
	v := raw.(volumes.Volumes)
	cctx, cancel := k.call(ctx)
	err = v.Sync(cctx, nil)
	cancel()
	switch {
	case sdkerr.Is(err, sdkerr.Unimplemented):
		return passNote("no Sync: the host keeps the plugin's own fsyncs")
	case err != nil:
		return fmt.Errorf("Sync(nil), the host's probe: %w", err)
	}
	dir, err := os.MkdirTemp(k.opts.ScratchDir, "sync-")
	if err != nil {
		return err
	}
	s := &steps{k: k, ctx: ctx}
	syncDeferredWrites(s, v, dir)
	return s.verdict()
}

func syncDeferredWrites(s *steps, v volumes.Volumes, dir string) {
	path := filepath.Join(dir, "vol")
	sub := filepath.Join(path, "cfg")
	file := filepath.Join(sub, "file")
	data := []byte("plugintest sync\n")
	o := s.k.owner
	dirOwner := volumes.Owner{UID: o.uid, GID: o.gid, Mode: 0o755}
	fileOwner := volumes.Owner{UID: o.uid, GID: o.gid, Mode: 0o600}
	s.do("CreateVolume under DeferSync", func(ctx context.Context) error {
		_, err := v.CreateVolume(volumes.DeferSync(ctx), volumes.VolumeSpec{Path: path, Owner: dirOwner})
		return err
	})
	s.do("EnsureDir", func(ctx context.Context) error { return v.EnsureDir(ctx, sub, dirOwner) })
	s.do("WriteFile under DeferSync", func(ctx context.Context) error {
		return v.WriteFile(volumes.DeferSync(ctx), file, data, fileOwner)
	})
	s.do("Sync of the file, its directories and the volume's parent", func(ctx context.Context) error {
		return v.Sync(ctx, []string{file, sub, path, dir})
	})
	s.do("the file after Sync", func(context.Context) error { return sameFile(path, file, data, 0o600) })
	s.do("Sync of a missing path", func(ctx context.Context) error {
		return wantNotFound(v.Sync(ctx, []string{filepath.Join(sub, "missing")}))
	})
	s.do("Sync refuses a symlink", func(ctx context.Context) error { return syncRefusesSymlinks(ctx, v, path, file) })
	s.do("DeleteVolume", func(ctx context.Context) error { return v.DeleteVolume(ctx, path) })
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

func wantNotFound(err error) error {
	if sdkerr.Is(err, sdkerr.NotFound) {
		return nil
	}
	return fmt.Errorf("want not_found, got %s", describe(err))
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
		return fmt.Errorf("Sync of a symlink to a file: want invalid_argument, got %s", describe(err))
	}
	through := filepath.Join(dirLink, filepath.Base(file))
	if err := v.Sync(ctx, []string{through}); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		return fmt.Errorf("Sync through a symlinked directory: want failed_precondition, got %s", describe(err))
	}
	return nil
}
