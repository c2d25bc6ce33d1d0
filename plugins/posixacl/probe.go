package posixacl

import (
	"context"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/sdk/identity"
)

// Probe is ready when the policy's first home root keeps POSIX ACLs and /proc is mounted (the plugin reaches attributes of
// the descriptors it holds through /proc/self/fd). A Probe cannot know the
// paths it will be asked about; the home root is where they live.
func (p *PosixACL) Probe(context.Context) identity.ProbeResult {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		return identity.ProbeResult{Reason: fmt.Sprintf("/proc/self/fd is not usable: %v", err)}
	}
	roots := p.Guard.Fence.HomeRoots()
	if len(roots) == 0 { // a closed fence: its Probe says why
		return identity.ProbeResult{Reason: "no home root: the policy cannot be used"}
	}
	root := roots[0]
	ok, err := xattrSupported(root)
	switch {
	case err != nil:
		return identity.ProbeResult{Reason: fmt.Sprintf("cannot read the ACL of the home root %s: %v", root, err)}
	case !ok:
		return identity.ProbeResult{Reason: fmt.Sprintf("the filesystem of the home root %s has no POSIX ACLs; use the mode plugin", root)}
	}
	return identity.ProbeResult{Ready: true, Reason: "POSIX ACLs on " + root}
}

// xattrSupported reports whether the filesystem at path keeps POSIX ACLs:
// reading the access attribute of a directory without one answers ENODATA
// there, EOPNOTSUPP elsewhere.
func xattrSupported(path string) (bool, error) {
	_, err := unix.Getxattr(path, xattrAccess, nil)
	switch {
	case err == nil, err == unix.ENODATA:
		return true, nil
	case err == unix.EOPNOTSUPP:
		return false, nil
	}
	return false, err
}
