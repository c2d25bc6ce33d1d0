//go:build faultinject

package btrfs

import (
	"context"
	"errors"
	"os"

	"github.com/threefoldtech/hero_codescalers/plugins/btrfs/internal/btrfsvol"
)

// faultEnv names the backend step that fails in a faultinject build:
// "limit" fails SetLimit, "info" fails SubvolInfo after a create. Only the
// integration tests build with this tag.
const faultEnv = "HERO_CODESCALERS_BTRFS_FAULT"

func init() {
	fault := os.Getenv(faultEnv)
	if fault == "" {
		return
	}
	wrapBackend = func(b btrfsvol.Backend) btrfsvol.Backend { return &faulty{Backend: b, fault: fault} }
}

var errInjected = errors.New("injected fault")

type faulty struct {
	btrfsvol.Backend
	fault   string
	created bool
}

func (f *faulty) CreateSubvolume(ctx context.Context, dirfd int, name string) error {
	err := f.Backend.CreateSubvolume(ctx, dirfd, name)
	f.created = err == nil
	return err
}

func (f *faulty) SetLimit(ctx context.Context, fd int, id, bytes uint64) error {
	if f.fault == "limit" {
		return errInjected
	}
	return f.Backend.SetLimit(ctx, fd, id, bytes)
}

func (f *faulty) SubvolInfo(ctx context.Context, fd int) (btrfsvol.SubvolInfo, error) {
	if f.fault == "info" && f.created {
		f.created = false
		return btrfsvol.SubvolInfo{}, errInjected
	}
	return f.Backend.SubvolInfo(ctx, fd)
}
