// Package btrfs is the hero_codescalers volumes plugin for btrfs home
// roots: each home is a subvolume with a qgroup limit. It drives the btrfs
// ioctls directly; HERO_CODESCALERS_BTRFS_BACKEND=tool makes it run
// btrfs-progs instead. It reads the policy at start and acts only beneath
// its roots, for managed owners only (sdk/fsutil); while it runs, a
// watcher keeps the subvolumes users make inside their homes within the
// homes' limits, beneath the policy's home roots.
package btrfs

import (
	"context"
	"os"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/threefoldtech/hero_codescalers/plugins/btrfs/internal/btrfsvol"
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/fsutil"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
)

// wrapBackend lets a build with the faultinject tag put failures in the
// backend for the integration tests; it is the identity otherwise.
var wrapBackend = func(b btrfsvol.Backend) btrfsvol.Backend { return b }

// Main serves the plugin and never returns: the multi-call binary
// (plugins/hero_codescalers_plugins) calls it when run by this plugin's
// name, with the version stamped into it at build.
func Main(version string) {
	fence := fsutil.LoadFence("btrfs")
	b, berr := btrfsvol.ForName(os.Getenv(btrfsvol.BackendEnv))
	vols := btrfsvol.New(wrapBackend(b), fence)
	vols.Warn = func(msg string, args ...any) { hclog.Default().Warn(msg, args...) }
	if len(os.Args) == 1 { // serving, not "describe"
		watch(b, fence)
	}
	sdk.Serve(sdk.Config{
		Name:     "btrfs",
		Version:  version,
		Supports: identity.Supports{FSTypes: []string{"btrfs"}, Generic: true},
		Probe:    fence.Probe(btrfsvol.Probe(b, berr)),
		Volumes:  fsutil.FenceVolumes(fence, vols),
	})
}

// watch starts the watcher on the policy's home roots; without a usable
// policy it does not run (the plugin's fence refuses to serve then).
func watch(b btrfsvol.Backend, fence *fsutil.Fence) {
	if err := fence.Err(); err != nil {
		hclog.Default().Warn("no policy, so no watcher of the subvolumes made inside homes", "error", err)
		return
	}
	w := btrfsvol.NewWatcher(b, fence.HomeRoots())
	w.Warn = func(msg string, args ...any) { hclog.Default().Warn(msg, args...) }
	w.Info = func(msg string, args ...any) { hclog.Default().Info(msg, args...) }
	go w.Run(context.Background())
}
