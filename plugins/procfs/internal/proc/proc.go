// Package proc reads what the sessions plugin needs to know about
// processes from /proc: parent, POSIX session, real uid, controlling tty,
// start time, the audit login uid and session id, and for sshd processes
// their title and peer address. A process is named by its pid together
// with its start time, so a pid the kernel reused is never taken for the
// process it once was.
package proc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Unset is the value of loginuid and sessionid before pam_loginuid (or
// any login program) set them: (uint32)-1.
const Unset = ^uint32(0)

// ClockTicks is USER_HZ, the unit of a start time in /proc/PID/stat: 100
// on every architecture Go runs Linux on.
const ClockTicks = 100

// pfKthread is PF_KTHREAD in the flags field of /proc/PID/stat.
const pfKthread = 0x00200000

// Ref names one process: its pid and its start time in clock ticks since
// boot. Two processes never share both.
type Ref struct {
	PID   int
	Start uint64
}

// Process is one process as the sessions plugin sees it.
type Process struct {
	Ref
	Comm         string
	State        byte // R, S, D, Z, X, T...
	PPID         int
	SID          int    // POSIX session id (getsid)
	TTY          uint64 // tty_nr: the controlling tty's device number, 0 if none
	UID          int    // real uid
	LoginUID     uint32 // /proc/PID/loginuid: the audit login uid
	AuditSession uint32 // /proc/PID/sessionid: the audit session id
	Threads      int    // live threads
	Kernel       bool   // a kernel thread
}

// Dead reports a process that has exited and awaits its parent (zombie)
// or is being removed: nothing of it runs. A zombie leader whose other
// threads still run (the main thread called pthread_exit) is not dead.
func (p *Process) Dead() bool {
	return (p.State == 'Z' || p.State == 'X' || p.State == 'x') && p.Threads <= 1
}

// FS reads a procfs mounted at Root ("/proc").
type FS struct{ Root string }

func (f FS) path(pid int, name string) string {
	return filepath.Join(f.Root, strconv.Itoa(pid), name)
}

// Scan reads every process. Processes that exit while being read are left
// out; kernel threads are included and marked.
func (f FS) Scan() ([]*Process, error) {
	d, err := os.Open(f.Root)
	if err != nil {
		return nil, err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, err
	}
	out := make([]*Process, 0, len(names))
	for _, n := range names {
		pid, err := strconv.Atoi(n)
		if err != nil || pid <= 0 {
			continue
		}
		if p, err := f.Process(pid); err == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// Process reads one process; an error means it is gone (or unreadable).
func (f FS) Process(pid int) (*Process, error) {
	p, err := f.stat(pid)
	if err != nil {
		return nil, err
	}
	if p.Kernel {
		return p, nil
	}
	if p.UID, err = f.realUID(pid); err != nil {
		return nil, err
	}
	p.AuditSession, p.LoginUID = Unset, Unset
	if v, err := f.readUint32(pid, "sessionid"); err == nil {
		p.AuditSession = v
	}
	if p.AuditSession != Unset {
		if v, err := f.readUint32(pid, "loginuid"); err == nil {
			p.LoginUID = v
		}
	}
	return p, nil
}

// stat parses /proc/PID/stat. The command name is between the first "("
// and the last ")", since it may hold either.
func (f FS) stat(pid int) (*Process, error) {
	b, err := os.ReadFile(f.path(pid, "stat"))
	if err != nil {
		return nil, err
	}
	return ParseStat(pid, b)
}

// ParseStat decodes the contents of /proc/PID/stat.
func ParseStat(pid int, b []byte) (*Process, error) {
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return nil, fmt.Errorf("proc %d: malformed stat", pid)
	}
	fields := strings.Fields(string(b[end+1:]))
	// fields[0] is field 3 of proc(5): state.
	if len(fields) < 20 || len(fields[0]) != 1 {
		return nil, fmt.Errorf("proc %d: short stat", pid)
	}
	num := func(i int) uint64 { v, _ := strconv.ParseUint(fields[i], 10, 64); return v }
	ppid, _ := strconv.Atoi(fields[1])
	sid, _ := strconv.Atoi(fields[3])
	p := &Process{Ref: Ref{PID: pid, Start: num(19)}, Comm: string(b[open+1 : end]), State: fields[0][0],
		PPID: ppid, SID: sid, TTY: num(4), Threads: int(num(17))}
	p.Kernel = num(6)&pfKthread != 0 || pid == 2 || ppid == 2
	return p, nil
}

func (f FS) realUID(pid int) (int, error) {
	fh, err := os.Open(f.path(pid, "status"))
	if err != nil {
		return 0, err
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "Uid:"); ok {
			fs := strings.Fields(rest)
			if len(fs) == 0 {
				break
			}
			return strconv.Atoi(fs[0])
		}
	}
	return 0, fmt.Errorf("proc %d: no Uid line in status", pid)
}

func (f FS) readUint32(pid int, name string) (uint32, error) {
	b, err := os.ReadFile(f.path(pid, name))
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32)
	return uint32(v), err
}

// Cmdline returns the process's argv joined by spaces, trailing NULs and
// spaces trimmed (a setproctitle title is padded with them).
func (f FS) Cmdline(pid int) (string, error) {
	b, err := os.ReadFile(f.path(pid, "cmdline"))
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(bytes.ReplaceAll(b, []byte{0}, []byte{' '})), " "), nil
}

// ExeBase returns the base name of the process's executable. Unlike the
// title, a process cannot choose it.
func (f FS) ExeBase(pid int) (string, error) {
	target, err := os.Readlink(f.path(pid, "exe"))
	if err != nil {
		return "", err
	}
	return filepath.Base(strings.TrimSuffix(target, " (deleted)")), nil
}

// BootTime reads the boot time from /proc/stat, to turn a start time in
// ticks since boot into wall-clock time.
func (f FS) BootTime() (time.Time, error) {
	b, err := os.ReadFile(filepath.Join(f.Root, "stat"))
	if err != nil {
		return time.Time{}, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "btime "); ok {
			s, err := strconv.ParseInt(strings.TrimSpace(rest), 10, 64)
			if err != nil {
				return time.Time{}, err
			}
			return time.Unix(s, 0), nil
		}
	}
	return time.Time{}, errors.New("proc: no btime in stat")
}

// StartTime converts a start time in ticks to wall-clock time.
func StartTime(boot time.Time, ticks uint64) time.Time {
	return boot.Add(time.Duration(ticks) * time.Second / ClockTicks)
}

// Current reports whether r still names a running process: the same pid
// with the same start time, not yet a zombie.
func (f FS) Current(r Ref) bool {
	p, err := f.stat(r.PID)
	return err == nil && p.Start == r.Start && !p.Dead()
}
