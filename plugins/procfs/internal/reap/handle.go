package reap

import (
	"context"
	"errors"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/plugins/procfs/internal/proc"
)

// handle is a signalled process: its pidfd, or -1 where the kernel has
// none, and whether it was seen to exit.
type handle struct {
	ref    proc.Ref
	fd     int
	exited bool
}

func (h *handle) close() {
	if h.fd >= 0 {
		unix.Close(h.fd)
		h.fd = -1
	}
}

// signal opens a pidfd for ref, checks that it is still the same process,
// and sends sig (and SIGCONT after SIGHUP or SIGTERM, so a stopped
// process acts on it). nil, nil means the process is already gone.
func (r *Reaper) signal(ref proc.Ref, sig unix.Signal) (*handle, error) {
	if ref.PID <= 1 || ref.PID == os.Getpid() {
		return nil, nil // never init, never this plugin, whatever the caller computed
	}
	h := &handle{ref: ref, fd: -1}
	if !r.noPidfd {
		fd, err := unix.PidfdOpen(ref.PID, 0)
		switch {
		case errors.Is(err, unix.ESRCH):
			return nil, nil
		case err == nil:
			h.fd = fd
		case errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EMFILE), errors.Is(err, unix.ENFILE):
			// no pidfds here, or too many processes to hold one each:
			// kill(2) after the start-time check, and /proc to wait
		default:
			return nil, permission(ref, sig, err)
		}
	}
	// Checked after the pidfd pins the pid: if the start time matches now,
	// the pidfd names the process we mean.
	if !r.Proc.Current(ref) {
		h.close()
		return nil, nil
	}
	for _, s := range []unix.Signal{sig, unix.SIGCONT} {
		if err := h.send(s); errors.Is(err, unix.ESRCH) {
			h.exited = true
			return h, nil
		} else if err != nil {
			h.close()
			return nil, permission(ref, s, err)
		}
		if sig == unix.SIGKILL {
			break
		}
	}
	return h, nil
}

func (h *handle) send(sig unix.Signal) error {
	if h.fd >= 0 {
		return unix.PidfdSendSignal(h.fd, sig, nil, 0)
	}
	return unix.Kill(h.ref.PID, sig)
}

// wait returns when every handle has exited, ctx ends (its error) or the
// deadline passes (nil). Pidfds are polled; processes without one are
// looked up in /proc, with a backoff from 5ms to 100ms.
func (r *Reaper) wait(ctx context.Context, hs []*handle, deadline time.Time) error {
	step := 5 * time.Millisecond
	for {
		var fds []unix.PollFd
		var polled []*handle
		pending := 0
		for _, h := range hs {
			switch {
			case h.exited:
				continue
			case h.fd >= 0:
				fds = append(fds, unix.PollFd{Fd: int32(h.fd), Events: unix.POLLIN})
				polled = append(polled, h)
			case !r.Proc.Current(h.ref):
				h.exited = true
				continue
			}
			pending++
		}
		if pending == 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil
		}
		if _, err := unix.Poll(fds, int(min(step, left).Milliseconds())+1); err != nil && !errors.Is(err, unix.EINTR) {
			return err
		}
		for i, fd := range fds {
			if fd.Revents != 0 {
				polled[i].exited = true
			}
		}
		step = min(step*2, 100*time.Millisecond)
	}
}
