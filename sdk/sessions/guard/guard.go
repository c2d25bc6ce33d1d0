// Package guard is a sessions plugin's own fence: whose sessions and
// processes a call may touch. A sessions plugin runs as root, and whoever
// may start it (the driver, through its sudoers rule) may also call it
// directly, so it must not take its caller's word for who is managed: it
// judges every user by the root-owned policy (sdk/policy) and the machine's
// account files itself. Only managed accounts — members of the policy's
// marker group with a uid in its range — are listed or signalled; root,
// system accounts and people's own accounts never are.
package guard

import (
	"slices"

	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/policy"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// Guard answers whether a call may touch a user.
type Guard struct {
	w   *policy.Watch
	err error // the policy could not be loaded: every call is refused
}

// Load reads the machine's policy (policy.Load) and watches /etc's account
// files. A policy that cannot be used (not root-owned, unparsable) is not
// an error here: the guard then refuses every call with it, and Err says
// why, so the plugin still starts and its Probe can tell the host.
func Load() *Guard {
	p, err := policy.Load()
	if err != nil {
		return &Guard{err: err}
	}
	return New(p, "/etc")
}

// New judges by p and etcDir's account files (tests use a scratch etc).
func New(p policy.Policy, etcDir string) *Guard { return &Guard{w: policy.NewWatch(p, etcDir)} }

// Err is why the guard refuses every call, or nil.
func (g *Guard) Err() error {
	if g.err != nil {
		return sdkerr.Wrap(g.err, sdkerr.FailedPrecondition, "the sessions plugin refuses every call: %v", g.err)
	}
	return nil
}

func (g *Guard) machine() (*policy.Machine, error) {
	if err := g.Err(); err != nil {
		return nil, err
	}
	m, err := g.w.Machine()
	if err != nil {
		return nil, sdkerr.Wrap(err, sdkerr.Unavailable, "cannot read the account files: %v", err)
	}
	return m, nil
}

// User admits a call on user's sessions: nil for a managed account,
// NotFound when no account has the name (it has no sessions to end), and
// PermissionDenied naming the user for every other account.
func (g *Guard) User(user string) error {
	m, err := g.machine()
	if err != nil {
		return err
	}
	return admit(m, user)
}

func admit(m *policy.Machine, user string) error {
	if _, ok := m.UserID(user); !ok {
		return sdkerr.Errorf(sdkerr.NotFound, "no account %q", user)
	}
	if !m.UserManaged(user) {
		return sdkerr.Errorf(sdkerr.PermissionDenied,
			"%q is not a managed account (a member of %s with a uid in %d..%d); its sessions and processes are not this plugin's to touch",
			user, m.Policy().MarkerGroup, m.Policy().UIDMin, m.Policy().UIDMax)
	}
	return nil
}

// UID admits a call that signals every process of user's uid, and returns
// the uid. Besides what User checks, the uid must be the managed
// account's alone: signalling a uid that an unmanaged account shares would
// reach that account's processes too.
func (g *Guard) UID(user string) (int, error) {
	m, err := g.machine()
	if err != nil {
		return 0, err
	}
	if err := admit(m, user); err != nil {
		return 0, err
	}
	uid, _ := m.UserID(user)
	if !m.UIDManaged(uid) {
		others := slices.DeleteFunc(m.UsersOf(uid), func(n string) bool { return n == user })
		return 0, sdkerr.Errorf(sdkerr.PermissionDenied,
			"uid %d of %q is shared with %v, which are not all managed accounts; refusing to signal its processes", uid, user, others)
	}
	return int(uid), nil
}

// Managed returns the test a listing filters by: whether a session of
// user may be shown. It reads the account files once for the whole list.
func (g *Guard) Managed() (func(user string) bool, error) {
	m, err := g.machine()
	if err != nil {
		return nil, err
	}
	return m.UserManaged, nil
}

// Forgettable admits a Forget of u: a managed account whose uid is u.UID,
// or a name no account has any more (deleted before the host could
// forget it, after a crash: what is left of it is stale). An unmanaged
// account of that name, or a uid that does not match, is
// PermissionDenied.
func (g *Guard) Forgettable(u lifecycle.User) error {
	m, err := g.machine()
	if err != nil {
		return err
	}
	uid, ok := m.UserID(u.Name)
	if !ok {
		return nil
	}
	if err := admit(m, u.Name); err != nil {
		return err
	}
	if uid != u.UID {
		return sdkerr.Errorf(sdkerr.PermissionDenied, "account %q has uid %d, not %d; refused", u.Name, uid, u.UID)
	}
	return nil
}
