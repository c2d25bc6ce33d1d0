package procfs

import (
	"context"
	"errors"
	"fmt"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/plugins/procfs/internal/discover"
	"github.com/threefoldtech/hero_codescalers/plugins/procfs/internal/proc"
	"github.com/threefoldtech/hero_codescalers/plugins/procfs/internal/reap"
	"github.com/threefoldtech/hero_codescalers/plugins/procfs/internal/utmp"
	"github.com/threefoldtech/hero_codescalers/sdk/check"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions/guard"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions/uidkill"
)

// Procfs serves the sessions concern from /proc and utmp, for the managed
// accounts its guard admits and no one else.
type Procfs struct {
	finder *discover.Finder
	reaper *reap.Reaper
	guard  *guard.Guard
	killer uidkill.Killer
	euid   func() int
}

var _ sessions.Sessions = (*Procfs)(nil)

// New reads utmp at utmpPath, or at /var/run/utmp when it is "", and acts
// only on the users g admits.
func New(utmpPath string, g *guard.Guard) *Procfs {
	if utmpPath == "" {
		utmpPath = utmp.DefaultPath
	}
	fs := proc.FS{Root: "/proc"}
	return &Procfs{
		finder: &discover.Finder{Proc: fs, Utmp: utmpPath, Dev: "/dev", Users: discover.System{},
			Now: time.Now, Self: os.Getpid()},
		reaper: &reap.Reaper{Proc: fs},
		guard:  g,
		euid:   os.Geteuid,
	}
}

// Probe is ready where /proc is a procfs, the plugin runs as root (ending
// other users' processes needs it) and its policy could be read; the
// reason says when sessions can only be found from /proc because utmp is
// missing.
func (p *Procfs) Probe(context.Context) identity.ProbeResult {
	if err := p.guard.Err(); err != nil {
		return identity.ProbeResult{Reason: err.Error()}
	}
	var st unix.Statfs_t
	if err := unix.Statfs(p.finder.Proc.Root, &st); err != nil || st.Type != unix.PROC_SUPER_MAGIC {
		return identity.ProbeResult{Reason: "no procfs mounted at " + p.finder.Proc.Root}
	}
	if p.euid() != 0 {
		return identity.ProbeResult{Reason: "not root: other users' sessions can be seen only in part and not ended"}
	}
	if !utmp.Supported() {
		return identity.ProbeResult{Ready: true, Reason: utmp.ErrLayout.Error() + "; sessions are found from /proc only"}
	}
	if _, err := os.Lstat(p.finder.Utmp); err != nil {
		return identity.ProbeResult{Ready: true,
			Reason: fmt.Sprintf("no utmp at %s: sessions are found from /proc only (sshd connections, audit sessions)", p.finder.Utmp)}
	}
	return identity.ProbeResult{Ready: true}
}

// ListSessions lists user's sessions, or every managed user's when user
// is "". Another account's are refused (PermissionDenied), and a name
// without an account has none.
func (p *Procfs) ListSessions(ctx context.Context, user string) ([]sessions.Session, error) {
	if err := check.OptionalName("user", user); err != nil {
		return nil, err
	}
	managed, err := p.admitList(user)
	if err != nil || managed == nil {
		return nil, err
	}
	found, err := p.find(user)
	if err != nil {
		return nil, err
	}
	out := make([]sessions.Session, 0, len(found))
	for _, s := range found {
		if managed(s.User) {
			out = append(out, toSDK(s))
		}
	}
	return out, ctx.Err()
}

// admitList returns the filter of a listing: nil (and no error) when user
// has no account, so there is nothing to list.
func (p *Procfs) admitList(user string) (func(string) bool, error) {
	if user != "" {
		if err := p.guard.User(user); sdkerr.Is(err, sdkerr.NotFound) {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
	}
	return p.guard.Managed()
}

// find returns the sessions of user (all when ""), ignoring a utmp it
// cannot read: the sessions /proc shows are still right.
func (p *Procfs) find(user string) ([]discover.Session, error) {
	all, _, _, err := p.finder.Find()
	if err != nil {
		return nil, sdkerr.Wrap(err, sdkerr.Internal, "cannot read processes: %v", err)
	}
	out := all[:0]
	for _, s := range all {
		if user == "" || s.User == user {
			out = append(out, s)
		}
	}
	return out, nil
}

func toSDK(s discover.Session) sessions.Session {
	pids := make([]int, len(s.Members))
	for i, m := range s.Members {
		pids[i] = m.PID
	}
	return sessions.Session{ID: s.ID, User: s.User, TTY: s.TTY, RemoteHost: s.RemoteHost,
		Started: s.Started, Idle: s.Idle, PIDs: pids}
}

// KillSession ends session id; a session that is not there is already
// ended. A session of an account the guard does not admit is refused.
func (p *Procfs) KillSession(ctx context.Context, id string, grace time.Duration) error {
	if err := sessions.ValidateID(id); err != nil {
		return err
	}
	if err := p.guard.Err(); err != nil {
		return err
	}
	all, err := p.find("")
	if err != nil {
		return err
	}
	for _, s := range all {
		if s.ID == id {
			if err := p.guard.User(s.User); err != nil {
				return sdkerr.Wrap(err, sdkerr.PermissionDenied, "session %s is %s's: %v", id, s.User, err)
			}
			_, err := p.end(ctx, []discover.Session{s}, "", grace)
			return err
		}
	}
	return nil
}

// KillUserSessions ends every session of user, counting those opened while
// it worked. A user without sessions, or without an account, has none.
func (p *Procfs) KillUserSessions(ctx context.Context, user string, grace time.Duration) (int, error) {
	if err := sessions.ValidateUser(user); err != nil {
		return 0, err
	}
	if err := p.guard.User(user); sdkerr.Is(err, sdkerr.NotFound) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	return p.killSessions(ctx, user, grace)
}

func (p *Procfs) killSessions(ctx context.Context, user string, grace time.Duration) (int, error) {
	found, err := p.find(user)
	if err != nil || len(found) == 0 {
		return 0, err
	}
	return p.end(ctx, found, user, grace)
}

// KillUser ends user's sessions, then every other process of its uid
// (uidkill: race-free against a process that forks in a loop). A user
// without an account has nothing to end.
func (p *Procfs) KillUser(ctx context.Context, user string, grace time.Duration) (sessions.Ended, error) {
	if err := sessions.ValidateUser(user); err != nil {
		return sessions.Ended{}, err
	}
	if err := sessions.ValidateGrace(grace); err != nil {
		return sessions.Ended{}, err
	}
	uid, err := p.guard.UID(user)
	if sdkerr.Is(err, sdkerr.NotFound) {
		return sessions.Ended{}, nil
	} else if err != nil {
		return sessions.Ended{}, err
	}
	var e sessions.Ended
	if e.Sessions, err = p.killSessions(ctx, user, grace); err != nil {
		return e, err
	}
	e.Processes, err = p.killer.End(ctx, uid, grace)
	return e, err
}

// end signals the sessions' processes until none is left. Each round
// re-reads /proc and follows what the sessions' processes forked; with
// user set it also takes in sessions of that user opened meanwhile.
// It returns how many sessions it ended.
func (p *Procfs) end(ctx context.Context, ss []discover.Session, user string, grace time.Duration) (int, error) {
	f := newFollower(p.finder, ss, user)
	err := p.reaper.End(ctx, f.members, grace)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return len(f.targets), sdkerr.Wrap(err, sdkerr.Unavailable, "ending %d session(s) was interrupted: %v", len(f.targets), err)
	}
	return len(f.targets), err
}

// Forget has nothing to drop: procfs keeps no state of its own, and the
// utmp records it reads are the login history of the machine, not the
// user's (KillUser ended the user's processes).
func (p *Procfs) Forget(_ context.Context, u lifecycle.User) (lifecycle.Forgotten, error) {
	return lifecycle.Forgotten{}, p.guard.Forgettable(u)
}
