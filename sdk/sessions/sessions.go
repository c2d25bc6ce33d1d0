// Package sessions is the plugin contract for login sessions: list them,
// end one, end all of a user's. It holds the Go interface, its types and
// checks, and a map-backed fake; the go-plugin glue and the gRPC client and
// server adapters are in sessions/sessionsgrpc. Ending a session that is
// already gone succeeds, and "all users" is never a target: KillUserSessions
// refuses an empty user.
package sessions

import (
	"context"
	"time"

	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// Name is the concern's name: the go-plugin plugin-map key.
const Name = "sessions"

// APIVersion is the contract version this package speaks.
const APIVersion = "sessions.v1"

// Sessions is implemented by a sessions plugin.
type Sessions interface {
	// ListSessions lists user's sessions, or everyone's when user is "".
	ListSessions(ctx context.Context, user string) ([]Session, error)
	// KillSession ends one session: SIGHUP, then SIGTERM, then SIGKILL
	// after grace.
	KillSession(ctx context.Context, id string, grace time.Duration) error
	// KillUserSessions ends all of user's sessions and returns how many.
	KillUserSessions(ctx context.Context, user string, grace time.Duration) (int, error)
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
