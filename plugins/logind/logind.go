package logind

import (
	"context"
	"os"
	"sort"
	"syscall"
	"time"

	"github.com/threefoldtech/hero_codescalers/plugins/logind/internal/login1"
	"github.com/threefoldtech/hero_codescalers/sdk/check"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions/guard"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions/uidkill"
)

// bus is what the plugin needs of logind; *login1.Client is the real one,
// and unit tests put a map-backed fake in its place.
type bus interface {
	Running(ctx context.Context) (bool, error)
	ListSessions(ctx context.Context) ([]login1.SessionRef, error)
	Session(ctx context.Context, id string) (login1.Session, error)
	SessionOfPID(ctx context.Context, pid uint32) (string, error)
	UnitPIDs(ctx context.Context, unit string) ([]int, error)
	KillSession(ctx context.Context, id, who string, sig syscall.Signal) error
	TerminateSession(ctx context.Context, id string) error
	SetUserLinger(ctx context.Context, uid uint32, enable bool) error
	Close() error
}

var _ bus = (*login1.Client)(nil)

// Logind serves the sessions concern through systemd-logind, for the
// managed accounts its guard admits and no one else.
type Logind struct {
	dial  func(ctx context.Context) (bus, error)
	now   func() time.Time
	self  int
	guard *guard.Guard
	// killWait is how long a session gets to vanish after SIGKILL.
	killWait time.Duration
	// killer ends what is left of a user outside its sessions.
	killer uidkill.Killer
	// lingerDir holds logind's linger flags (linger.go).
	lingerDir string
}

var _ sessions.Sessions = (*Logind)(nil)

// New talks to logind on the system bus, one connection per call: calls
// are rare, and a restarted logind or bus is picked up without state.
// It acts only on the users g admits.
func New(g *guard.Guard) *Logind {
	return &Logind{
		dial:      func(ctx context.Context) (bus, error) { return login1.Dial(ctx) },
		now:       time.Now,
		self:      os.Getpid(),
		guard:     g,
		killWait:  5 * time.Second,
		lingerDir: lingerDir,
	}
}

// Probe is ready when logind owns its name on the system bus and the
// plugin's policy could be read.
func (l *Logind) Probe(ctx context.Context) identity.ProbeResult {
	if err := l.guard.Err(); err != nil {
		return identity.ProbeResult{Reason: err.Error()}
	}
	b, err := l.dial(ctx)
	if err != nil {
		return identity.ProbeResult{Reason: login1.NotRunning + " (no system bus)"}
	}
	defer b.Close()
	running, err := b.Running(ctx)
	switch {
	case err != nil:
		return identity.ProbeResult{Reason: login1.NotRunning + ": " + err.Error()}
	case !running:
		return identity.ProbeResult{Reason: login1.NotRunning + " (org.freedesktop.login1 has no owner on the system bus)"}
	}
	return identity.ProbeResult{Ready: true}
}

// with runs fn on a fresh connection.
func (l *Logind) with(ctx context.Context, fn func(b bus) error) error {
	b, err := l.dial(ctx)
	if err != nil {
		return err
	}
	defer b.Close()
	return fn(b)
}

// ListSessions lists user's sessions, or every managed user's when user
// is "". Another account's are refused (PermissionDenied), and a name
// without an account has none.
func (l *Logind) ListSessions(ctx context.Context, user string) ([]sessions.Session, error) {
	if err := check.OptionalName("user", user); err != nil {
		return nil, err
	}
	if user != "" {
		if err := l.guard.User(user); sdkerr.Is(err, sdkerr.NotFound) {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
	}
	managed, err := l.guard.Managed()
	if err != nil {
		return nil, err
	}
	var out []sessions.Session
	err = l.with(ctx, func(b bus) error {
		refs, err := b.ListSessions(ctx)
		if err != nil {
			return err
		}
		for _, r := range refs {
			if (user != "" && r.User != user) || !managed(r.User) {
				continue
			}
			s, err := l.session(ctx, b, r.ID)
			if sdkerr.Is(err, sdkerr.NotFound) {
				continue // ended between the two calls
			} else if err != nil {
				return err
			}
			out = append(out, s)
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.User != b.User {
			return a.User < b.User
		}
		if !a.Started.Equal(b.Started) {
			return a.Started.Before(b.Started)
		}
		return a.ID < b.ID
	})
	return out, err
}

// session reads one session and the processes of its scope.
func (l *Logind) session(ctx context.Context, b bus, id string) (sessions.Session, error) {
	p, err := b.Session(ctx, id)
	if err != nil {
		return sessions.Session{}, err
	}
	pids, err := l.pids(ctx, b, p)
	if err != nil {
		return sessions.Session{}, err
	}
	return toSDK(p, pids, l.now()), nil
}

// pids lists the session's scope; without a scope (or systemd's answer)
// only the leader is known.
func (l *Logind) pids(ctx context.Context, b bus, p login1.Session) ([]int, error) {
	if p.Scope != "" {
		pids, err := b.UnitPIDs(ctx, p.Scope)
		if err == nil || sdkerr.Is(err, sdkerr.NotFound) {
			sort.Ints(pids)
			return pids, nil
		}
		if sdkerr.Is(err, sdkerr.Unavailable) {
			return nil, err
		}
	}
	if p.Leader > 0 && p.State != "closing" {
		return []int{int(p.Leader)}, nil
	}
	return nil, nil
}

// toSDK maps logind's view of a session to the contract's. Idle time is
// measured from IdleSinceHint, which logind derives for terminal sessions
// from the terminal's atime, as who(1) does.
func toSDK(p login1.Session, pids []int, now time.Time) sessions.Session {
	s := sessions.Session{ID: p.ID, User: p.User, TTY: p.TTY, RemoteHost: p.RemoteHost,
		Started: p.Started, PIDs: pids}
	if !p.IdleSince.IsZero() && now.After(p.IdleSince) {
		s.Idle = now.Sub(p.IdleSince)
	}
	return s
}
