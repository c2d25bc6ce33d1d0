// Package sessions is the plugin contract for login sessions: list them,
// end one, end all of a user's. It holds the Go interface, its types and
// checks, and a map-backed fake; the go-plugin glue and the gRPC client and
// server adapters are in sessions/sessionsgrpc, the conformance checks in
// sessions/sessionstest. Version 2 adds Forget, the end of a user; version
// 1 still runs through the host's adapter for one release. Ending a session that is
// already gone succeeds, and "all users" is never a target: KillUserSessions
// and KillUser refuse an empty user. A plugin acts only on the accounts its
// policy manages (sdk/policy): anything else is PermissionDenied, whatever
// the caller asks; sessions/uidkill is the race-free end of every process
// of a uid that KillUser needs.
package sessions

import (
	"context"
	"time"

	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// Name is the concern's name: the go-plugin plugin-map key.
const Name = "sessions"

// APIVersion is the contract version this package speaks.
const APIVersion = "sessions.v2"

// Sessions is implemented by a sessions plugin.
type Sessions interface {
	// ListSessions lists user's sessions, or everyone's when user is "".
	ListSessions(ctx context.Context, user string) ([]Session, error)
	// KillSession ends one session: SIGHUP, then SIGTERM, then SIGKILL
	// after grace.
	KillSession(ctx context.Context, id string, grace time.Duration) error
	// KillUserSessions ends all of user's sessions and returns how many.
	KillUserSessions(ctx context.Context, user string, grace time.Duration) (int, error)
	// KillUser ends every process of user, as a delete or a lock needs
	// before the account changes: its sessions first (as
	// KillUserSessions), then every other process running as its uid —
	// a daemon, a cron job, a process started without a login session,
	// and whatever they fork meanwhile — until none is left. A user
	// without an account has none: NotFound.
	KillUser(ctx context.Context, user string, grace time.Duration) (Ended, error)
	// Forget drops what the plugin keeps of a user beyond its processes
	// (lifecycle.Forgetter): a linger flag, a tmux socket directory. The
	// host ends the user's processes with KillUser first.
	Forget(ctx context.Context, u lifecycle.User) (lifecycle.Forgotten, error)
}

// Ended counts what KillUser ended: the user's sessions, and the
// processes outside them that were still running afterwards.
type Ended struct {
	Sessions  int
	Processes int
}

// Session is one login session.
type Session struct {
	ID         string
	User       string
	TTY        string
	RemoteHost string
	Started    time.Time
	Idle       time.Duration
	PIDs       []int
}

// Unimplemented answers every call with an Unimplemented error; embed it.
type Unimplemented struct{}

var _ Sessions = Unimplemented{}

func unimplemented(method string) error {
	return sdkerr.Errorf(sdkerr.Unimplemented, "sessions.%s is not implemented by this plugin", method)
}

func (Unimplemented) ListSessions(context.Context, string) ([]Session, error) {
	return nil, unimplemented("ListSessions")
}
func (Unimplemented) KillSession(context.Context, string, time.Duration) error {
	return unimplemented("KillSession")
}
func (Unimplemented) KillUserSessions(context.Context, string, time.Duration) (int, error) {
	return 0, unimplemented("KillUserSessions")
}
func (Unimplemented) KillUser(context.Context, string, time.Duration) (Ended, error) {
	return Ended{}, unimplemented("KillUser")
}
func (Unimplemented) Forget(context.Context, lifecycle.User) (lifecycle.Forgotten, error) {
	return lifecycle.Forgotten{}, unimplemented("Forget")
}
