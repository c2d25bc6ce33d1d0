package btrfsvol

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// errnoCodes maps what the kernel (or btrfs-progs quoting it) said to the
// sdk's codes; anything else is Internal.
var errnoCodes = []struct {
	errno unix.Errno
	code  sdkerr.Code
	why   string
}{
	{unix.EEXIST, sdkerr.AlreadyExists, ""},
	{unix.ENOENT, sdkerr.NotFound, ""},
	{unix.EXDEV, sdkerr.FailedPrecondition, "not on the same btrfs filesystem"},
	{unix.ENOTEMPTY, sdkerr.FailedPrecondition, "it holds nested subvolumes"},
	{unix.ENOTTY, sdkerr.FailedPrecondition, "not on btrfs, or the kernel lacks this btrfs ioctl"},
	{unix.EPERM, sdkerr.PermissionDenied, ""},
	{unix.EACCES, sdkerr.PermissionDenied, ""},
	{unix.EROFS, sdkerr.FailedPrecondition, "the filesystem is read-only"},
	{unix.ENOSPC, sdkerr.FailedPrecondition, "the filesystem is full"},
	{unix.EDQUOT, sdkerr.FailedPrecondition, "over quota"},
	{unix.EBUSY, sdkerr.Unavailable, "busy"},
}

// fail turns a backend or system-call error into an sdk error that says
// what was being done to which path, keeping a tool's command, exit code
// and stderr when there is one.
func fail(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	what := fmt.Sprintf(format, args...)
	code, why := sdkerr.Internal, ""
	for _, m := range errnoCodes {
		if errors.Is(err, m.errno) {
			code, why = m.code, m.why
			break
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		code = sdkerr.Unavailable
	}
	if why != "" {
		what += " (" + why + ")"
	}
	var e *sdkerr.Error
	if errors.As(err, &e) && len(e.Command) > 0 {
		c := e.WithCode(code)
		c.Message = what + ": " + e.Message
		return c
	}
	if errors.As(err, &e) && code == sdkerr.Internal {
		code = e.Code // already typed (an osutil path error): keep its code
	}
	return sdkerr.Wrap(err, code, "%s: %v", what, err)
}
