// Package uidkill ends every process of one uid, however fast they fork —
// what a sessions plugin's KillUser needs before an account is deleted or
// locked: userdel refuses an account that still runs a process, and a
// process outside any login session (a daemon, a cron job, something
// started with setpriv) is no session's.
//
// One pass over /proc that signals what it found loses to a process that
// forks in a loop: the child is born after the scan. kill(2) with pid -1
// does not. The kernel signals every process the caller may signal in one
// walk of the task list under the lock that fork needs to add a child, and
// a parent with SIGKILL pending fails its fork; so after one such kill no
// process of the uid is left that has not been signalled. End sends its
// signals that way, from an OS thread that has set all three of its uids
// to the target's: kill(2)'s permission rule then reaches exactly the
// processes whose real or saved uid is that uid, and nothing else. The
// thread dies with its goroutine (it is never unlocked), so no other
// goroutine ever runs with its credentials. /proc is read only to count
// what is left and to wait for it to go.
package uidkill

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// DefaultKillWait is how long processes get to vanish after SIGKILL, and
// their zombies to be reaped by their parents.
const DefaultKillWait = 5 * time.Second

// Killer ends the processes of a uid. The zero value reads /proc and
// waits DefaultKillWait after SIGKILL.
type Killer struct {
	// Proc is where processes are read ("/proc" when empty).
	Proc string
	// KillWait bounds the wait after SIGKILL; DefaultKillWait when 0.
	KillWait time.Duration
}

// End ends every process of uid: SIGTERM and SIGCONT to all of them, up
// to grace for them to exit, then SIGKILL until none is left and their
// zombies are reaped (userdel counts a zombie as a process of its uid).
// It returns how many processes of uid it found running. uid 0 and this
// process's own uids are refused: kill(-1) as those would reach the whole
// machine, or the plugin's own host.
func (k Killer) End(ctx context.Context, uid int, grace time.Duration) (int, error) {
	if err := safeTarget(uid); err != nil {
		return 0, err
	}
	live, zombies, err := scan(k.proc(), uid)
	if err != nil {
		return 0, sdkerr.Wrap(err, sdkerr.Internal, "cannot read processes: %v", err)
	}
	if len(live)+len(zombies) == 0 {
		return 0, nil // the common case: one read of /proc
	}
	seen := map[int]bool{}
	for _, p := range live {
		seen[p.pid] = true
	}
	if len(live) > 0 {
		if err := k.end(ctx, uid, seen, grace); err != nil {
			return len(seen), err
		}
	}
	return len(seen), k.waitReaped(ctx, uid)
}

// end signals until no live process of uid is left: SIGTERM first when
// there is a grace period, then SIGKILL.
func (k Killer) end(ctx context.Context, uid int, seen map[int]bool, grace time.Duration) error {
	if grace > 0 {
		if _, err := k.round(uid, seen, unix.SIGTERM); err != nil {
			return err
		}
		if err := k.waitLive(ctx, uid, seen, grace, 0); err != nil {
			return err
		}
	}
	return k.waitLive(ctx, uid, seen, k.killWait(), unix.SIGKILL)
}

func (k Killer) killWait() time.Duration {
	if k.KillWait > 0 {
		return k.KillWait
	}
	return DefaultKillWait
}

func (k Killer) proc() string {
	if k.Proc != "" {
		return k.Proc
	}
	return "/proc"
}

func safeTarget(uid int) error {
	switch {
	case uid <= 0:
		return sdkerr.Errorf(sdkerr.InvalidArgument, "uid %d: ending every process of root or of an invalid uid is never done", uid)
	case uid == os.Getuid() || uid == os.Geteuid():
		return sdkerr.Errorf(sdkerr.InvalidArgument, "uid %d is this plugin's own: ending its processes would end the plugin's host", uid)
	}
	return nil
}

// round scans for uid's live processes, noting them in seen, and when sig
// is set and any are left sends it (and SIGCONT after SIGTERM, so a
// stopped process acts on it). It returns the live processes it found.
func (k Killer) round(uid int, seen map[int]bool, sig unix.Signal) ([]process, error) {
	live, _, err := scan(k.proc(), uid)
	if err != nil {
		return nil, sdkerr.Wrap(err, sdkerr.Internal, "cannot read processes: %v", err)
	}
	for _, p := range live {
		seen[p.pid] = true
	}
	if sig == 0 || len(live) == 0 {
		return live, nil
	}
	sigs := []unix.Signal{sig}
	if sig == unix.SIGTERM {
		sigs = append(sigs, unix.SIGCONT)
	}
	for _, s := range sigs {
		if err := killAll(uid, s); err != nil {
			return live, err
		}
		// A process whose effective (or fs) uid alone is uid is out of
		// kill(-1)'s reach as uid, yet userdel counts it: signal it as
		// root, through a pidfd checked to be still of uid.
		for _, p := range live {
			if !p.reachable {
				signalOne(p.pid, uid, s, k.proc())
			}
		}
	}
	return live, nil
}

// waitLive waits, up to wait, until uid has no live process. With sig
// set it sends sig again each round, so what a process started after the
// last signal (a login racing the delete) is ended too.
func (k Killer) waitLive(ctx context.Context, uid int, seen map[int]bool, wait time.Duration, sig unix.Signal) error {
	deadline := time.Now().Add(wait)
	step := 5 * time.Millisecond
	for {
		live, err := k.round(uid, seen, sig)
		if err != nil {
			return err
		}
		if len(live) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			if sig == 0 {
				return nil // the grace is over: on to SIGKILL
			}
			return sdkerr.Errorf(sdkerr.Internal, "%d processes of uid %d outlived SIGKILL by %s: %v", len(live), uid, wait, pids(live))
		}
		if err := sleep(ctx, step); err != nil {
			return sdkerr.Wrap(err, sdkerr.Unavailable, "ending the processes of uid %d was interrupted: %v", uid, err)
		}
		step = min(step*2, 100*time.Millisecond)
	}
}

// waitReaped waits until the zombies of uid are reaped by their parents.
// A zombie is not signalled — it has exited — but userdel still counts it.
func (k Killer) waitReaped(ctx context.Context, uid int) error {
	deadline := time.Now().Add(k.killWait())
	step := 10 * time.Millisecond
	for {
		live, zombies, err := scan(k.proc(), uid)
		if err != nil {
			return sdkerr.Wrap(err, sdkerr.Internal, "cannot read processes: %v", err)
		}
		if len(live)+len(zombies) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			if len(live) > 0 {
				return sdkerr.Errorf(sdkerr.Internal, "uid %d started processes again after SIGKILL: %v", uid, pids(live))
			}
			z := zombies[0]
			return sdkerr.Errorf(sdkerr.FailedPrecondition,
				"%d processes of uid %d have exited but are not reaped yet (pid %d, whose parent is pid %d): the account counts as in use until they are",
				len(zombies), uid, z.pid, z.ppid)
		}
		if err := sleep(ctx, step); err != nil {
			return sdkerr.Wrap(err, sdkerr.Unavailable, "waiting for the processes of uid %d was interrupted: %v", uid, err)
		}
		step = min(step*2, 200*time.Millisecond)
	}
}

// killAll sends sig to every process of uid at once: kill(-1, sig) from a
// thread whose real, effective and saved uids are all uid. The goroutine
// never unlocks its thread, so the runtime ends the thread with it.
func killAll(uid int, sig unix.Signal) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if unix.Gettid() == unix.Getpid() {
			// The main thread is never ended by the runtime, and
			// /proc/PID/status shows its credentials as the process's:
			// it must never take the uid. Holding it locked here, the
			// work goes to a goroutine that cannot land on it.
			errc <- killAll(uid, sig)
			runtime.UnlockOSThread()
			return
		}
		// Only this thread changes: the raw syscall, not the
		// process-wide setresuid of the Go runtime.
		if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(uid), uintptr(uid), uintptr(uid)); e != 0 {
			errc <- e
			return
		}
		_, _, e := unix.RawSyscall(unix.SYS_KILL, uintptr(^uint(0)), uintptr(sig), 0) // pid -1
		if e == unix.ESRCH {
			e = 0 // nothing of uid was left to signal
		}
		if e != 0 {
			errc <- e
			return
		}
		errc <- nil
	}()
	return signalError(<-errc, uid, sig)
}

func signalError(err error, uid int, sig unix.Signal) error {
	var se *sdkerr.Error
	switch {
	case err == nil, errors.As(err, &se):
		return err
	case errors.Is(err, unix.EPERM):
		return sdkerr.Wrap(err, sdkerr.PermissionDenied, "cannot act as uid %d to signal its processes (the plugin must run as root)", uid)
	}
	return sdkerr.Wrap(err, sdkerr.Internal, "kill(-1, %s) as uid %d: %v", unix.SignalName(sig), uid, err)
}

// signalOne sends sig to pid through a pidfd, once the pidfd has pinned a
// process that still runs with uid as one of its uids. Failures are left
// to the next round's scan.
func signalOne(pid, uid int, sig unix.Signal, procDir string) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	if p, ok := readProcess(procDir, pid, uid); !ok || p.zombie {
		return
	}
	_ = unix.PidfdSendSignal(fd, sig, nil, 0)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func pids(ps []process) []int {
	out := make([]int, len(ps))
	for i, p := range ps {
		out[i] = p.pid
	}
	return out
}

// String names a process in errors.
func (p process) String() string { return fmt.Sprintf("pid %d", p.pid) }
