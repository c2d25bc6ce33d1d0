package volumes

import (
	"github.com/threefoldtech/hero_codescalers/sdk/check"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// maxFile bounds WriteFile's data: it places small config and key files,
// not bulk data, and a gRPC message has limits anyway.
const maxFile = 1 << 20

// ValidateVolumeSpec checks a volume request.
func ValidateVolumeSpec(s VolumeSpec) error {
	if err := check.AbsPath("path", s.Path); err != nil {
		return err
	}
	return check.Mode("mode", s.Owner.Mode)
}

// ValidateSnapshotSpec checks a snapshot request.
func ValidateSnapshotSpec(s SnapshotSpec) error {
	if err := check.AbsPath("path", s.Source); err != nil {
		return err
	}
	return check.AbsPath("dest", s.Dest)
}

// ValidatePlacement checks EnsureDir and WriteFile requests.
func ValidatePlacement(path string, data []byte, owner Owner) error {
	if err := check.AbsPath("path", path); err != nil {
		return err
	}
	if len(data) > maxFile {
		return invalidSize(len(data))
	}
	return check.Mode("mode", owner.Mode)
}

// MaxSyncPaths bounds one Sync call: a user's few files and directories
// fit many times over, and the list still fits a gRPC message.
const MaxSyncPaths = 1000

// ValidateSync checks a Sync request: at most MaxSyncPaths paths, each
// absolute and clean. An empty list is valid (the probe).
func ValidateSync(paths []string) error {
	if len(paths) > MaxSyncPaths {
		return sdkerr.Invalid("paths", "%d paths is more than the %d one Sync takes", len(paths), MaxSyncPaths)
	}
	for _, p := range paths {
		if err := check.AbsPath("paths", p); err != nil {
			return err
		}
	}
	return nil
}

func invalidSize(n int) error {
	return sdkerr.Invalid("data", "%d bytes is more than the %d WriteFile places", n, maxFile)
}
