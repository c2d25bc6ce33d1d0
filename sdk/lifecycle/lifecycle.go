// Package lifecycle is what every concern that keeps per-user state shares:
// the User a call is about (name, ids and home, never a path alone), and
// the end of a user — Forget, which the host calls when it deletes a user,
// when it rolls back a create, and when it recovers either after a crash.
// A concern's plugin may keep a user's state wherever it likes (keys in
// /etc/ssh/authorized_keys.d, a linger file, a cgroup); what it keeps
// outside the home it must drop at Forget, since the host removes only the
// home. A user re-created under the same name must find nothing of the
// old one.
//
// The package holds types and checks only, so the core and the CLI link no
// gRPC through it.
package lifecycle

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/sdk/check"
)

// User names the account a call is about. The host sends all of it; a
// plugin trusts none of it (the driver may call a plugin directly) and
// judges the name and ids against the machine's account files through its
// policy (sdk/policy), acting only on managed accounts.
type User struct {
	Name string
	UID  uint32
	GID  uint32
	// Home is the user's home directory as the host made it; empty where
	// a call needs none.
	Home string
}

// Validate checks the name, and the home when given: the floor every
// server adapter applies before a plugin sees the user.
func (u User) Validate() error {
	if err := check.Name("user.name", u.Name); err != nil {
		return err
	}
	if u.Home == "" {
		return nil
	}
	return check.AbsPath("user.home", u.Home)
}

// ValidateWithHome is Validate for calls that need the home.
func (u User) ValidateWithHome() error {
	if err := check.AbsPath("user.home", u.Home); err != nil {
		return err
	}
	return u.Validate()
}

// Forgotten says what Forget removed, for the host's log and audit: paths
// or other things by name ("/etc/ssh/authorized_keys.d/alice", "linger").
// Empty when there was nothing to remove.
type Forgotten struct {
	Removed []string
}

// Forgetter is implemented by every concern that may keep per-user state
// outside the home (sshkeys, acl, sessions, and later ones). Forget removes
// all of it for u and is idempotent: a user with nothing kept, or already
// forgotten, succeeds with nothing removed. The host calls it while the
// account still exists when it can (delete, rollback), but after a crash
// the account may be gone already: a plugin then acts only on state that
// no existing unmanaged account owns.
type Forgetter interface {
	Forget(ctx context.Context, u User) (Forgotten, error)
}
