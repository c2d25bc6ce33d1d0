package logind

import (
	"context"
	"errors"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// lingerDir is where logind keeps one empty file per user whose manager
// runs without a session (loginctl enable-linger).
const lingerDir = "/var/lib/systemd/linger"

// Forget drops the one thing logind keeps of a user beyond its sessions:
// the linger flag, which would start the user's manager at every boot and
// which a user re-created under the same name would inherit. Through
// logind (SetUserLinger) while the account exists; when it is already
// gone logind cannot look it up, and the plugin unlinks the flag itself.
func (l *Logind) Forget(ctx context.Context, u lifecycle.User) (lifecycle.Forgotten, error) {
	if err := l.guard.Forgettable(u); err != nil {
		return lifecycle.Forgotten{}, err
	}
	flag := filepath.Join(l.lingerDir, u.Name)
	if _, err := os.Lstat(flag); errors.Is(err, os.ErrNotExist) {
		return lifecycle.Forgotten{}, nil
	}
	b, err := l.dial(ctx)
	if err != nil {
		return lifecycle.Forgotten{}, err
	}
	defer b.Close()
	err = b.SetUserLinger(ctx, u.UID, false)
	if err != nil && l.guard.User(u.Name) == nil {
		return lifecycle.Forgotten{}, err // the account is there: logind's answer stands
	}
	if err := unix.Unlink(flag); err != nil && !errors.Is(err, unix.ENOENT) {
		return lifecycle.Forgotten{}, sdkerr.Wrap(err, sdkerr.Internal, "remove %s: %v", flag, err)
	}
	return lifecycle.Forgotten{Removed: []string{"linger of " + u.Name + " (" + flag + ")"}}, nil
}
