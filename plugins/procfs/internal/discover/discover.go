// Package discover finds the login sessions of a Linux machine from /proc
// and utmp, without systemd. A session is rooted at one process:
//
//   - an sshd connection: the root-owned "sshd: USER [priv]" monitor, or a
//     "sshd: USER@TTY" process without one (the executable must be sshd or
//     sshd-session, so a title alone proves nothing). This finds the
//     sessions without a terminal (`ssh host cmd`) that utmp never records;
//   - a live USER_PROCESS record of utmp whose process is not inside an
//     sshd connection (console logins, login(1));
//   - an audit session (pam_loginuid) that neither of the above covers,
//     rooted at its topmost process.
//
// A session's processes are its root's descendants, the members of the
// POSIX sessions those lead (background jobs reparented to init keep
// their sid), and, when the root began an audit session, every process of
// that audit session (which catches what double-forked away) — of those,
// the ones whose real uid is the session's user.
//
// A session's id is its audit session id when it has one, the same number
// systemd-logind would show, and otherwise "p<pid>-<start ticks>" of its
// root, which no later process can share.
package discover

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/plugins/procfs/internal/proc"
	"github.com/threefoldtech/hero_codescalers/plugins/procfs/internal/utmp"
)

// Users resolves user names and uids (from the passwd database).
type Users interface {
	UID(name string) (int, bool)
	Name(uid int) (string, bool)
}

// Session is one login session and the processes a kill would signal.
type Session struct {
	ID         string
	User       string
	UID        int
	TTY        string
	RemoteHost string
	Started    time.Time
	Idle       time.Duration
	Root       proc.Ref
	Audit      uint32 // the audit session the root began, or proc.Unset
	Members    []proc.Ref
	skip       map[int]bool
}

// Target is what a kill of s re-scans for.
func (s Session) Target() Target {
	t := Target{Seeds: append([]proc.Ref{s.Root}, s.Members...), UID: s.UID, Skip: s.skip}
	if s.Audit != proc.Unset {
		t.Audit = []uint32{s.Audit}
	}
	return t
}

// Finder finds sessions. Its paths are fields so tests can use fixtures.
type Finder struct {
	Proc  proc.FS
	Utmp  string // utmp file
	Dev   string // where ut_line names a terminal: "/dev"
	Users Users
	Now   func() time.Time
	Self  int // this process's pid

	// peers caches the TCP tables of one Find, by network namespace.
	peers map[string]proc.Peers
}

// root is a session's root process and what is known of it so far.
type root struct {
	p     *proc.Process
	user  string
	uid   int
	sshd  bool
	utmp  *utmp.Record
	audit uint32
	// skip is set on the roots of audit sessions: the processes of the
	// sshd and utmp sessions, which belong to those.
	skip map[int]bool
}

// Snapshot scans /proc.
func (f *Finder) Snapshot() (*Snapshot, error) {
	procs, err := f.Proc.Scan()
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", f.Proc.Root, err)
	}
	return NewSnapshot(procs, f.Self), nil
}

// Find returns every session, sorted by user, start and id, and the
// snapshot it was computed from. A utmp that cannot be read is reported
// in warn and otherwise ignored: /proc alone still finds sshd sessions.
func (f *Finder) Find() (sessions []Session, snap *Snapshot, warn error, err error) {
	g := *f
	g.Users, g.peers = newMemo(f.Users), map[string]proc.Peers{}
	return g.find()
}

func (f *Finder) find() (sessions []Session, snap *Snapshot, warn error, err error) {
	snap, err = f.Snapshot()
	if err != nil {
		return nil, nil, nil, err
	}
	boot, err := f.Proc.BootTime()
	if err != nil {
		return nil, nil, nil, err
	}
	recs, warn := utmp.Read(f.Utmp)
	roots := f.sshdRoots(snap)
	owner := map[int]*root{}
	for _, r := range roots {
		for _, pid := range snap.tree(r.p.PID) {
			owner[pid] = r
		}
	}
	roots = append(roots, f.utmpRoots(snap, recs, owner, boot)...)
	roots = append(roots, f.auditRoots(snap, roots, owner)...)
	return f.build(snap, roots, boot), snap, warn, nil
}

// build turns roots into sessions, leaving out those without a process of
// their user (an sshd monitor still authenticating has none).
func (f *Finder) build(snap *Snapshot, roots []*root, boot time.Time) []Session {
	now := f.Now()
	var out []Session
	ids := map[string]bool{}
	for _, r := range roots {
		s := Session{User: r.user, UID: r.uid, Root: r.p.Ref, Audit: r.audit,
			Started: proc.StartTime(boot, r.p.Start), skip: r.skip}
		s.Members = snap.Members(s.Target())
		if len(s.Members) == 0 {
			continue
		}
		s.ID = "p" + strconv.Itoa(r.p.PID) + "-" + strconv.FormatUint(r.p.Start, 10)
		if r.audit != proc.Unset && !ids[strconv.FormatUint(uint64(r.audit), 10)] {
			s.ID = strconv.FormatUint(uint64(r.audit), 10)
		}
		ids[s.ID] = true
		f.describe(snap, r, &s, now)
		out = append(out, s)
	}
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
	return out
}

// describe fills the terminal, the remote host, the start and idle time:
// from utmp when it has a record, else from the processes.
func (f *Finder) describe(snap *Snapshot, r *root, s *Session, now time.Time) {
	if r.utmp != nil {
		s.TTY, s.RemoteHost, s.Started = r.utmp.Line, r.utmp.Host, r.utmp.Time
	}
	if s.TTY == "" {
		for _, m := range s.Members {
			if name := proc.TTYName(snap.procs[m.PID].TTY); name != "" {
				s.TTY = name
				break
			}
		}
	}
	if s.RemoteHost == "" && r.sshd {
		s.RemoteHost = f.Proc.PeerAddress(r.p.PID, f.tcpPeers(r.p.PID))
	}
	if s.TTY != "" {
		if at, err := f.ttyAtime(s.TTY); err == nil && now.After(at) {
			s.Idle = now.Sub(at)
		}
	}
}

// tcpPeers reads the TCP tables of pid's network namespace once per Find.
func (f *Finder) tcpPeers(pid int) proc.Peers {
	ns := f.Proc.NetNS(pid)
	if p, ok := f.peers[ns]; ok && ns != "" {
		return p
	}
	p := f.Proc.TCPPeers(pid)
	if ns != "" && f.peers != nil {
		f.peers[ns] = p
	}
	return p
}

// ttyAtime is when the terminal was last read from: who(1)'s idle time.
func (f *Finder) ttyAtime(line string) (time.Time, error) {
	if !filepath.IsLocal(line) {
		return time.Time{}, errors.New("ut_line is not a plain device name")
	}
	var st unix.Stat_t
	if err := unix.Fstatat(unix.AT_FDCWD, filepath.Join(f.Dev, line), &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return time.Time{}, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR {
		return time.Time{}, errors.New(line + " is not a character device")
	}
	return time.Unix(st.Atim.Unix()), nil
}
