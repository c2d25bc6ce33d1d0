// Command btrfs is the hero_codescalers volumes plugin for btrfs home
// roots: each home is a subvolume with a qgroup limit. It drives the btrfs
// ioctls directly; HERO_CODESCALERS_BTRFS_BACKEND=tool makes it run
// btrfs-progs instead.
package main

import (
	"os"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/threefoldtech/hero_codescalers/plugins/btrfs/internal/btrfsvol"
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
)

// wrapBackend lets a build with the faultinject tag put failures in the
// backend for the integration tests; it is the identity otherwise.
var wrapBackend = func(b btrfsvol.Backend) btrfsvol.Backend { return b }

func main() {
	b, berr := btrfsvol.ForName(os.Getenv(btrfsvol.BackendEnv))
	vols := btrfsvol.New(wrapBackend(b))
	vols.Warn = func(msg string, args ...any) { hclog.Default().Warn(msg, args...) }
	sdk.Serve(sdk.Config{
		Name:     "btrfs",
		Version:  "0.1.0",
		Supports: identity.Supports{FSTypes: []string{"btrfs"}, Generic: true},
		Probe:    btrfsvol.Probe(b, berr),
		Volumes:  vols,
	})
}
