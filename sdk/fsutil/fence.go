package fsutil

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	hclog "github.com/hashicorp/go-hclog"
	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/sdk/check"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
	"github.com/threefoldtech/hero_codescalers/sdk/policy"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// Fence is one plugin's fence: the roots it may act beneath and the
// owners it may give, from the policy, judged against the account files
// as they are now. It is safe for concurrent use.
type Fence struct {
	plugin string
	p      policy.Policy
	roots  []string
	cache  *policy.Cache
	err    error
	logged sync.Once
}

// LoadFence reads the machine's policy (policy.Load: the root-owned
// /etc/hero_codescalers/policy.toml, or the built-in defaults when there
// is none) for the named plugin, at the plugin's start. A policy file that
// is insecure or invalid does not stop the plugin: it gives a closed Fence
// (Err says why) that refuses every path with FailedPrecondition, and
// whose Probe answers not ready with the reason and logs it once, so the
// host reports the problem instead of restarting a crashing plugin.
// The extra roots are those the policy's [roots] gives the plugin's name
// or one of concerns, the concerns it serves.
func LoadFence(plugin string, concerns ...string) *Fence {
	p, err := policy.Load()
	if err != nil {
		return &Fence{plugin: plugin, err: err}
	}
	return NewFence(plugin, p, "/etc", concerns...)
}

// NewFence is the Fence of plugin (serving concerns) under p, judging
// owners by etcDir's account files. Tests build one over a temporary etc
// dir.
func NewFence(plugin string, p policy.Policy, etcDir string, concerns ...string) *Fence {
	if err := p.Validate(); err != nil {
		return &Fence{plugin: plugin, err: err}
	}
	return &Fence{plugin: plugin, p: p, roots: p.RootsFor(append([]string{plugin}, concerns...)...), cache: policy.NewCache(p, etcDir)}
}

// Err is why the fence is closed, or nil.
func (f *Fence) Err() error { return f.err }

// Policy is the policy the fence judges by.
func (f *Fence) Policy() policy.Policy { return f.p }

// Roots are the directories the plugin may act beneath: the home roots,
// then its own extra roots.
func (f *Fence) Roots() []string { return f.roots }

// HomeRoots are the policy's home roots: their direct subdirectories are
// homes.
func (f *Fence) HomeRoots() []string { return f.p.HomeRoots }

// Machine is the account files' view now (re-read when they changed).
func (f *Fence) Machine() (*policy.Machine, error) {
	if f.err != nil {
		return nil, f.closed()
	}
	m, err := f.cache.Machine()
	if err != nil {
		return nil, sdkerr.Wrap(err, sdkerr.Unavailable, "plugin %s cannot read the account files it judges owners by: %v", f.plugin, err)
	}
	return m, nil
}

func (f *Fence) closed() error {
	return sdkerr.Errorf(sdkerr.FailedPrecondition, "plugin %s refuses to serve: its policy %s cannot be used: %v (fix or remove it; only root can)",
		f.plugin, policy.Path, f.err)
}

// Probe wraps a plugin's Probe: a closed fence is not ready, with the
// policy's problem as the reason (logged once); an open one answers as
// inner does (ready when inner is nil).
func (f *Fence) Probe(inner func(context.Context) identity.ProbeResult) func(context.Context) identity.ProbeResult {
	return func(ctx context.Context) identity.ProbeResult {
		if f.err != nil {
			reason := f.closed().Error()
			f.logged.Do(func() { hclog.Default().Error("refusing to serve", "reason", reason) })
			return identity.ProbeResult{Reason: reason}
		}
		if inner == nil {
			return identity.ProbeResult{Ready: true}
		}
		return inner(ctx)
	}
}

// Path checks a path argument: absolute and clean (else InvalidArgument),
// and a root of the plugin or beneath one (else PermissionDenied). It
// returns the root. Only string operations: nothing is touched.
func (f *Fence) Path(field, path string) (string, error) {
	if err := check.AbsPath(field, path); err != nil {
		return "", err
	}
	if f.err != nil {
		return "", f.closed()
	}
	if root, ok := policy.Beneath(f.roots, path); ok {
		return root, nil
	}
	return "", sdkerr.Errorf(sdkerr.PermissionDenied, "%s %s is outside the roots the policy gives plugin %s (%s); refused",
		field, path, f.plugin, strings.Join(f.roots, ", "))
}

// Below is Path for what changes or removes the path itself: it must lie
// strictly beneath a root, never be one (a root is the policy's, not a
// user's).
func (f *Fence) Below(field, path string) (string, error) {
	root, err := f.Path(field, path)
	if err == nil && path == root {
		err = sdkerr.Errorf(sdkerr.PermissionDenied, "%s %s is a root the policy gives plugin %s, not a path beneath it; refused", field, path, f.plugin)
	}
	return root, err
}

// Owner checks an owner and mode the plugin is asked to give path. The
// mode may hold only permission bits, setgid and sticky (type bits are
// InvalidArgument); setuid is refused always, setgid on anything but a
// directory. uid must be a managed account's (UIDManaged) and gid a
// managed group's (GIDManaged), never 0 — with one exception for
// directories, the groups' shared volumes <home root>/groups/NAME and
// the directory holding them: a directory may be root's when its group is
// a managed group (or one no one outside the fence holds yet, see
// policy.Machine.GIDUnclaimed), or root's group too when nobody but root
// may write it.
func (f *Fence) Owner(path string, uid, gid, mode uint32, isDir bool) error {
	if err := check.Mode("mode", mode); err != nil {
		return err
	}
	if f.err != nil {
		return f.closed()
	}
	deny := func(rule string, args ...any) error {
		return sdkerr.Errorf(sdkerr.PermissionDenied, "%s: owner %d:%d mode %#o refused: %s", path, uid, gid, mode, fmt.Sprintf(rule, args...))
	}
	switch {
	case mode&unix.S_ISUID != 0:
		return deny("a plugin never sets setuid")
	case mode&unix.S_ISGID != 0 && !isDir:
		return deny("setgid only on a directory")
	}
	m, err := f.Machine()
	if err != nil {
		return err
	}
	if uid == 0 {
		switch {
		case !isDir:
			return deny("no file is given to root")
		case gid == 0 && mode&0o7022 == 0, gid != 0 && groupOK(m, gid):
			return nil
		}
		return deny("a directory is root's only with a managed group, or root's group and writable by root alone")
	}
	if !m.UIDManaged(uid) {
		return deny("uid %d is not a managed account's (in marker group %s, uid %d..%d)", uid, f.p.MarkerGroup, f.p.UIDMin, f.p.UIDMax)
	}
	if !m.GIDManaged(gid) {
		return deny("gid %d is not a managed group's (a managed user's own group or one hero_codescalers made, gid %d..%d)", gid, f.p.GIDMin, f.p.GIDMax)
	}
	return nil
}

// Changeable checks an existing inode (st, at path) before its owner,
// mode or ACL is changed: only a regular file or a directory, never a
// device, FIFO, socket or symlink; and not a regular file with more than
// one hard link unless a managed account owns it, since another link may
// be outside the fence (a hard link to /etc/shadow in a home).
func (f *Fence) Changeable(path string, st *unix.Stat_t) error {
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return nil
	case unix.S_IFREG:
	default:
		return sdkerr.Errorf(sdkerr.PermissionDenied, "%s is neither a regular file nor a directory; a plugin never changes one", path)
	}
	if st.Nlink <= 1 {
		return nil
	}
	m, err := f.Machine()
	if err != nil {
		return err
	}
	if !m.UIDManaged(st.Uid) {
		return sdkerr.Errorf(sdkerr.PermissionDenied,
			"%s has %d hard links and is owned by uid %d, not a managed account: another link may be outside the fence; refused", path, st.Nlink, st.Uid)
	}
	return nil
}

// groupOK reports whether a group may own a shared directory or be named
// by an ACL entry: a managed group, or one nobody outside the fence holds.
func groupOK(m *policy.Machine, gid uint32) bool { return m.GIDManaged(gid) || m.GIDUnclaimed(gid) }

// IsRoot reports whether path is one of the fence's roots.
func (f *Fence) IsRoot(path string) bool { return slices.Contains(f.roots, path) }
