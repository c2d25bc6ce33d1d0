package discover

import (
	"regexp"
	"sort"
	"time"

	"github.com/threefoldtech/hero_codescalers/plugins/procfs/internal/proc"
	"github.com/threefoldtech/hero_codescalers/plugins/procfs/internal/utmp"
)

// titleRE matches sshd's process titles after authentication: the
// monitor "sshd: alice [priv]" and the user's "sshd: alice@pts/0" or
// "sshd: alice@notty" (OpenSSH 9.8+ names the binary sshd-session).
var titleRE = regexp.MustCompile(`^(?:sshd|sshd-session): ([A-Za-z_][A-Za-z0-9._-]{0,31})(?: \[priv\]|@(\S+))$`)

type sshdProc struct {
	p    *proc.Process
	user string
	priv bool
}

func (f *Finder) sshdRoots(snap *Snapshot) []*root {
	cands := map[int]sshdProc{}
	for _, p := range snap.sorted() {
		if p.Comm != "sshd" && p.Comm != "sshd-session" {
			continue
		}
		title, err := f.Proc.Cmdline(p.PID)
		m := titleRE.FindStringSubmatch(title)
		if err != nil || m == nil {
			continue
		}
		if exe, err := f.Proc.ExeBase(p.PID); err != nil || (exe != "sshd" && exe != "sshd-session") {
			continue
		}
		cands[p.PID] = sshdProc{p: p, user: m[1], priv: m[2] == ""}
	}
	var out []*root
	for _, c := range sortedCands(cands) {
		if parent, ok := cands[c.p.PPID]; ok && parent.user == c.user {
			continue // the user's half below its monitor
		}
		uid, ok := f.Users.UID(c.user)
		if !ok {
			uid, ok = childUID(snap, cands, c)
		}
		// The monitor runs as root; a lone user half as the user. Anything
		// else is a process that borrowed the title.
		if !ok || (c.priv && c.p.UID != 0) || (!c.priv && c.p.UID != uid) {
			continue
		}
		out = append(out, &root{p: c.p, user: c.user, uid: uid, sshd: true})
	}
	return out
}

// childUID is the uid of the user half below a monitor, for a user that
// was deleted while logged in.
func childUID(snap *Snapshot, cands map[int]sshdProc, c sshdProc) (int, bool) {
	for _, pid := range snap.children[c.p.PID] {
		if k, ok := cands[pid]; ok && !k.priv && k.user == c.user {
			return k.p.UID, true
		}
	}
	return 0, false
}

func sortedCands(m map[int]sshdProc) []sshdProc {
	out := make([]sshdProc, 0, len(m))
	for _, c := range m {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].p.PID < out[j].p.PID })
	return out
}

// utmpSlack allows for the tick rounding of a start time.
const utmpSlack = 2 * time.Second

// utmpRoots attaches live utmp records to the sshd sessions they lie in
// and makes roots of the others. A record is live when its process runs
// and started before the record was written (a reused pid started after).
func (f *Finder) utmpRoots(snap *Snapshot, recs []utmp.Record, owner map[int]*root, boot time.Time) []*root {
	var out []*root
	for i := range recs {
		rec := &recs[i]
		if rec.Type != utmp.UserProcess || rec.PID <= 1 {
			continue
		}
		p, ok := snap.procs[rec.PID]
		if !ok || p.Dead() || p.Kernel || proc.StartTime(boot, p.Start).After(rec.Time.Add(utmpSlack)) {
			continue
		}
		if r, ok := owner[p.PID]; ok {
			if r.utmp == nil {
				r.utmp = rec
			}
			continue
		}
		uid, ok := f.Users.UID(rec.User)
		if !ok {
			continue
		}
		r := &root{p: p, user: rec.User, uid: uid, utmp: rec}
		for _, pid := range snap.tree(p.PID) {
			if _, taken := owner[pid]; !taken {
				owner[pid] = r
			}
		}
		out = append(out, r)
	}
	return out
}

// auditRoots marks the roots that began their own audit session and makes
// roots of the audit sessions no root began.
func (f *Finder) auditRoots(snap *Snapshot, roots []*root, owner map[int]*root) []*root {
	claimed := map[uint32]bool{}
	for _, r := range roots {
		r.audit = proc.Unset
		a := r.p.AuditSession
		if a == proc.Unset || r.p.LoginUID != uint32(r.uid) || claimed[a] {
			continue
		}
		if parent, ok := snap.procs[r.p.PPID]; ok && parent.AuditSession == a {
			continue // inherited: the audit session began above this login
		}
		r.audit, claimed[a] = a, true
	}
	owned := map[int]bool{}
	for pid := range owner {
		owned[pid] = true
	}
	var out []*root
	for _, a := range sortedAudits(snap) {
		if claimed[a] {
			continue
		}
		top := auditTop(snap, a)
		if top == nil || owner[top.PID] != nil || top.LoginUID == proc.Unset {
			continue
		}
		name, ok := f.Users.Name(int(top.LoginUID))
		if !ok {
			continue
		}
		out = append(out, &root{p: top, user: name, uid: int(top.LoginUID), audit: a, skip: owned})
	}
	return out
}

func sortedAudits(snap *Snapshot) []uint32 {
	out := make([]uint32, 0, len(snap.byAudit))
	for a := range snap.byAudit {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// auditTop is the oldest process of audit session a whose parent is not
// in it: where the session began.
func auditTop(snap *Snapshot, a uint32) *proc.Process {
	var top *proc.Process
	for _, pid := range snap.byAudit[a] {
		p := snap.procs[pid]
		if parent, ok := snap.procs[p.PPID]; ok && parent.AuditSession == a {
			continue
		}
		if top == nil || p.Start < top.Start {
			top = p
		}
	}
	return top
}
