// Package fsutil is the fence every hero_codescalers plugin uses for files,
// built-in or third-party. A root plugin is started by anyone allowed to
// start it (the driver account, through its sudoers rule), so it must never
// trust the paths and owners its caller sends: it judges them itself, by
// the root-owned policy (sdk/policy) and the account files as they are now.
//
// Two layers:
//
//   - Opening without following links. OpenBeneath resolves a path beneath
//     a root with openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|
//     RESOLVE_NO_MAGICLINKS), or an equivalent walk of O_NOFOLLOW opens
//     where the kernel lacks openat2; WriteFileAtomic, EnsureDir,
//     ReadFileNoFollow and SyncPaths build on it, and change owners and
//     modes through the descriptors they opened, never through a path.
//     The *Beneath forms take the root; the plain forms resolve from "/"
//     (for the account files under /etc).
//
//   - The Fence of one plugin (LoadFence): the roots the policy gives it
//     (the home roots and its own extra roots), and the owners it may give
//     (managed uids and gids only, never root except for a group's shared
//     directory; no setuid, no setgid but on a directory). Path refuses a
//     path outside the roots before anything is touched; Owner refuses an
//     owner or mode; the Fence's file methods do both and then open
//     beneath the root. FenceVolumes, FenceACL and FenceSSHKeys wrap an
//     implementation of a contract so every argument of every call is
//     judged before the implementation runs.
//
// A refusal is sdkerr.PermissionDenied naming the path or owner and the
// rule; malformed input is InvalidArgument; a symlink met on the way is
// FailedPrecondition, as it always was.
package fsutil
