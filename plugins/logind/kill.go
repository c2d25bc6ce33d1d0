package logind

import (
	"context"
	"sync"
	"syscall"
	"time"

	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
)

// KillSession ends session id: SIGHUP to all its processes, SIGTERM after
// grace/2, then TerminateSession and SIGKILL after the rest of grace. A
// session logind does not know is already ended; a session of an account
// the guard does not admit is refused.
func (l *Logind) KillSession(ctx context.Context, id string, grace time.Duration) error {
	if err := sessions.ValidateID(id); err != nil {
		return err
	}
	if err := l.guard.Err(); err != nil {
		return err
	}
	return l.with(ctx, func(b bus) error {
		s, err := b.Session(ctx, id)
		if sdkerr.Is(err, sdkerr.NotFound) {
			return nil
		} else if err != nil {
			return err
		}
		if err := l.guard.User(s.User); err != nil {
			return sdkerr.Wrap(err, sdkerr.PermissionDenied, "session %s is %s's: %v", id, s.User, err)
		}
		return l.end(ctx, b, id, grace)
	})
}

// KillUserSessions ends all of user's sessions at once and returns how
// many there were. A user without an account has none.
func (l *Logind) KillUserSessions(ctx context.Context, user string, grace time.Duration) (int, error) {
	if err := sessions.ValidateUser(user); err != nil {
		return 0, err
	}
	if err := l.guard.User(user); sdkerr.Is(err, sdkerr.NotFound) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	return l.killSessions(ctx, user, grace)
}

// KillUser ends user's sessions through logind, then every other process
// of its uid (uidkill: race-free against a process that forks in a loop),
// which logind does not track: a daemon, a cron job, a process started
// without a login session. A user without an account has nothing to end.
func (l *Logind) KillUser(ctx context.Context, user string, grace time.Duration) (sessions.Ended, error) {
	if err := sessions.ValidateUser(user); err != nil {
		return sessions.Ended{}, err
	}
	if err := sessions.ValidateGrace(grace); err != nil {
		return sessions.Ended{}, err
	}
	uid, err := l.guard.UID(user)
	if sdkerr.Is(err, sdkerr.NotFound) {
		return sessions.Ended{}, nil
	} else if err != nil {
		return sessions.Ended{}, err
	}
	var e sessions.Ended
	if e.Sessions, err = l.killSessions(ctx, user, grace); err != nil {
		return e, err
	}
	e.Processes, err = l.killer.End(ctx, uid, grace)
	return e, err
}

func (l *Logind) killSessions(ctx context.Context, user string, grace time.Duration) (int, error) {
	var n int
	err := l.with(ctx, func(b bus) error {
		refs, err := b.ListSessions(ctx)
		if err != nil {
			return err
		}
		var ids []string
		for _, r := range refs {
			if r.User == user {
				ids = append(ids, r.ID)
			}
		}
		n = len(ids)
		return l.endAll(ctx, b, ids, grace)
	})
	return n, err
}

// endAll ends the sessions concurrently, so they share one grace period,
// and returns the first error.
func (l *Logind) endAll(ctx context.Context, b bus, ids []string, grace time.Duration) error {
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = l.end(ctx, b, id, grace)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// end signals one session until logind reports it gone or without
// processes. It refuses the session the plugin itself runs in: ending it
// would end the host that asked.
func (l *Logind) end(ctx context.Context, b bus, id string, grace time.Duration) error {
	if own, err := b.SessionOfPID(ctx, uint32(l.self)); err == nil && own == id {
		return sdkerr.Errorf(sdkerr.FailedPrecondition, "the plugin runs inside session %s; refusing to end it", id)
	} else if err != nil && !sdkerr.Is(err, sdkerr.NotFound) {
		return err
	}
	phases := []struct {
		sig  syscall.Signal
		wait time.Duration
	}{{syscall.SIGHUP, grace / 2}, {syscall.SIGTERM, grace - grace/2}, {syscall.SIGKILL, l.killWait}}
	for _, ph := range phases {
		if err := l.signal(ctx, b, id, ph.sig); sdkerr.Is(err, sdkerr.NotFound) {
			return nil
		} else if err != nil {
			return err
		}
		if gone, err := l.waitGone(ctx, b, id, ph.wait); gone || err != nil {
			return err
		}
	}
	return sdkerr.Errorf(sdkerr.Internal, "session %s still has processes %s after SIGKILL", id, l.killWait)
}

// signal sends sig to every process of the session, then SIGCONT so a
// stopped one acts on it. Before SIGKILL logind is also told to stop the
// session's scope, which unregisters the session once it is empty.
func (l *Logind) signal(ctx context.Context, b bus, id string, sig syscall.Signal) error {
	if sig == syscall.SIGKILL {
		if err := b.TerminateSession(ctx, id); err != nil {
			return err
		}
	}
	if err := b.KillSession(ctx, id, "all", sig); err != nil || sig == syscall.SIGKILL {
		return err
	}
	return b.KillSession(ctx, id, "all", syscall.SIGCONT)
}

// waitGone polls logind, backing off from 10ms to 200ms, until the session
// is gone or holds no process, or wait has passed.
func (l *Logind) waitGone(ctx context.Context, b bus, id string, wait time.Duration) (bool, error) {
	deadline := time.Now().Add(wait)
	step := 10 * time.Millisecond
	for {
		s, err := b.Session(ctx, id)
		if sdkerr.Is(err, sdkerr.NotFound) {
			return true, nil
		} else if err != nil {
			return false, err
		}
		pids, err := l.pids(ctx, b, s)
		if err != nil {
			return false, err
		}
		if len(pids) == 0 {
			return true, nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, sdkerr.Wrap(ctx.Err(), sdkerr.Unavailable, "ending session %s was interrupted: %v", id, ctx.Err())
		case <-time.After(min(step, left)):
		}
		step = min(step*2, 200*time.Millisecond)
	}
}
