package acltest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/conformance"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// life drives the plugin through a user's life as the host does
// (conformance.RunLifecycle): create gives the user a file in its home
// and an entry on it, read back finds the entry, and Forget must leave
// nothing of the user outside the home.
func life(ctx context.Context, env *conformance.Env, impl any) error {
	a := impl.(acl.ACL)
	return env.RunLifecycle(ctx, conformance.Lifecycle{
		Create: func(ctx context.Context, u lifecycle.User, _ int) ([]string, error) {
			file := filepath.Join(u.Home, "granted")
			if err := os.WriteFile(file, []byte("x"), 0o640); err != nil {
				return nil, err
			}
			if err := a.SetOwnership(ctx, file, u.UID, u.GID, 0o640); err != nil {
				return nil, fmt.Errorf("SetOwnership: %w", err)
			}
			if err := grant(ctx, a, file, u); err != nil {
				return nil, fmt.Errorf("Grant: %w", err)
			}
			return nil, nil
		},
		ReadBack: func(ctx context.Context, u lifecycle.User, _ int) error {
			l, err := a.Get(ctx, filepath.Join(u.Home, "granted"))
			if err != nil {
				return err
			}
			if len(l.Access) == 0 {
				return fmt.Errorf("Get of %s shows no access entries", u.Home)
			}
			return nil
		},
		Forget: a.Forget,
	})
}

// grant adds a named entry for the user, or an "other" entry where the
// plugin has no named ones (mode bits).
func grant(ctx context.Context, a acl.ACL, file string, u lifecycle.User) error {
	err := a.Grant(ctx, file, []acl.Entry{{Tag: acl.TagUser, Qualifier: strconv.FormatUint(uint64(u.UID), 10), Perms: "r"}}, false)
	if sdkerr.Is(err, sdkerr.FailedPrecondition) || sdkerr.Is(err, sdkerr.Unimplemented) {
		err = a.Grant(ctx, file, []acl.Entry{{Tag: acl.TagOther, Perms: "r"}}, false)
	}
	return err
}
