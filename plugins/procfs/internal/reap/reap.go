// Package reap ends a group of processes that may grow while it works:
// SIGHUP, then SIGTERM, then SIGKILL, each round re-reading the group so
// a child forked in the meantime is not left behind. Each signal goes
// through a pidfd opened and then checked against the process's start
// time, so a pid the kernel reused is never signalled; exits are awaited
// by polling the pidfds (kernel 5.3+), or /proc with a short backoff where
// pidfds are missing.
package reap

import (
	"context"
	"errors"
	"time"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/plugins/procfs/internal/proc"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// Source returns the group's live members now.
type Source func() ([]proc.Ref, error)

// Reaper sends the signals.
type Reaper struct {
	Proc proc.FS
	// KillWait is how long processes get to vanish after SIGKILL; 5s when 0.
	KillWait time.Duration
	// noPidfd forces the /proc fallback, for tests.
	noPidfd bool
}

// End signals the group until it is empty: SIGHUP and SIGCONT, up to
// grace/2 for the members to exit, SIGTERM and SIGCONT, up to the rest of
// grace, then SIGKILL. It returns when the group is empty, and fails when
// members outlive SIGKILL by KillWait or ctx ends first.
func (r *Reaper) End(ctx context.Context, src Source, grace time.Duration) error {
	killWait := r.KillWait
	if killWait <= 0 {
		killWait = 5 * time.Second
	}
	phases := []struct {
		sig  unix.Signal
		wait time.Duration
	}{{unix.SIGHUP, grace / 2}, {unix.SIGTERM, grace - grace/2}, {unix.SIGKILL, killWait}}
	for _, ph := range phases {
		done, err := r.phase(ctx, src, ph.sig, ph.wait)
		if err != nil || done {
			return err
		}
	}
	left, err := src()
	if err != nil || len(left) == 0 {
		return err
	}
	return sdkerr.Errorf(sdkerr.Internal, "%d processes outlived SIGKILL by %s: %v", len(left), killWait, pids(left))
}

// phase sends sig to every member, re-reading the group whenever all the
// signalled ones have exited, until the group is empty (done) or the
// phase's time is up.
func (r *Reaper) phase(ctx context.Context, src Source, sig unix.Signal, wait time.Duration) (bool, error) {
	deadline := time.Now().Add(wait)
	handles := map[proc.Ref]*handle{}
	defer func() {
		for _, h := range handles {
			h.close()
		}
	}()
	for {
		members, err := src()
		if err != nil || len(members) == 0 {
			return err == nil, err
		}
		if time.Now().After(deadline) && len(handles) > 0 {
			return false, nil
		}
		var fresh []*handle
		for _, m := range members {
			if _, ok := handles[m]; ok {
				continue
			}
			h, err := r.signal(m, sig)
			if err != nil {
				return false, err
			}
			if h != nil {
				handles[m] = h
				fresh = append(fresh, h)
			}
		}
		if len(fresh) == 0 && time.Now().After(deadline) {
			return false, nil
		}
		pending := live(handles)
		if len(fresh) == 0 && len(pending) == 0 {
			// Listed yet seen to exit: give /proc a moment to catch up
			// rather than spin.
			if err := sleep(ctx, 10*time.Millisecond); err != nil {
				return false, err
			}
		}
		if err := r.wait(ctx, pending, deadline); err != nil {
			return false, err
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

func live(hs map[proc.Ref]*handle) []*handle {
	out := make([]*handle, 0, len(hs))
	for _, h := range hs {
		if !h.exited {
			out = append(out, h)
		}
	}
	return out
}

func pids(refs []proc.Ref) []int {
	out := make([]int, len(refs))
	for i, r := range refs {
		out[i] = r.PID
	}
	return out
}

func permission(ref proc.Ref, sig unix.Signal, err error) error {
	if errors.Is(err, unix.EPERM) {
		return sdkerr.Wrap(err, sdkerr.PermissionDenied, "not allowed to send %s to pid %d", unix.SignalName(sig), ref.PID)
	}
	return sdkerr.Wrap(err, sdkerr.Internal, "send %s to pid %d: %v", unix.SignalName(sig), ref.PID, err)
}
