package main

import (
	"context"
	"errors"
	"fmt"
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
)

// Procfs serves the sessions concern from /proc and utmp.
type Procfs struct {
	finder *discover.Finder
	reaper *reap.Reaper
	euid   func() int
}

var _ sessions.Sessions = (*Procfs)(nil)

// New reads utmp at utmpPath, or at /var/run/utmp when it is "".
func New(utmpPath string) *Procfs {
	if utmpPath == "" {
		utmpPath = utmp.DefaultPath
	}
	fs := proc.FS{Root: "/proc"}
	return &Procfs{
		finder: &discover.Finder{Proc: fs, Utmp: utmpPath, Dev: "/dev", Users: discover.System{},
			Now: time.Now, Self: os.Getpid()},
		reaper: &reap.Reaper{Proc: fs},
		euid:   os.Geteuid,
	}
}

// Probe is ready where /proc is a procfs and the plugin runs as root
// (ending other users' processes needs it); the reason says when sessions
// can only be found from /proc because utmp is missing.
func (p *Procfs) Probe(context.Context) identity.ProbeResult {
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

// ListSessions lists user's sessions, or everyone's when user is "".
func (p *Procfs) ListSessions(ctx context.Context, user string) ([]sessions.Session, error) {
	if err := check.OptionalName("user", user); err != nil {
		return nil, err
	}
	found, err := p.find(user)
	if err != nil {
		return nil, err
	}
	out := make([]sessions.Session, 0, len(found))
	for _, s := range found {
		out = append(out, toSDK(s))
	}
	return out, ctx.Err()
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
// ended.
func (p *Procfs) KillSession(ctx context.Context, id string, grace time.Duration) error {
	if err := sessions.ValidateID(id); err != nil {
		return err
	}
	all, err := p.find("")
	if err != nil {
		return err
	}
	for _, s := range all {
		if s.ID == id {
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
	found, err := p.find(user)
	if err != nil || len(found) == 0 {
		return 0, err
	}
	return p.end(ctx, found, user, grace)
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
