package discover

import (
	"sort"

	"github.com/threefoldtech/hero_codescalers/plugins/procfs/internal/proc"
)

// Snapshot is every process at one moment, indexed the ways session
// membership is computed: by parent, by POSIX session and by audit
// session.
type Snapshot struct {
	procs    map[int]*proc.Process
	children map[int][]int
	bySID    map[int][]int
	byAudit  map[uint32][]int
	// exclude holds what is never a member: pid 1, this process and its
	// ancestors (ending the host that waits for our answer would only
	// kill us too).
	exclude map[int]bool
}

// NewSnapshot indexes procs; self is this process's pid.
func NewSnapshot(procs []*proc.Process, self int) *Snapshot {
	s := &Snapshot{procs: map[int]*proc.Process{}, children: map[int][]int{},
		bySID: map[int][]int{}, byAudit: map[uint32][]int{}, exclude: map[int]bool{1: true}}
	sort.Slice(procs, func(i, j int) bool { return procs[i].PID < procs[j].PID })
	for _, p := range procs {
		s.procs[p.PID] = p
		if p.Kernel || p.Dead() {
			continue
		}
		s.children[p.PPID] = append(s.children[p.PPID], p.PID)
		s.bySID[p.SID] = append(s.bySID[p.SID], p.PID)
		if p.AuditSession != proc.Unset {
			s.byAudit[p.AuditSession] = append(s.byAudit[p.AuditSession], p.PID)
		}
	}
	for pid, n := self, 0; pid > 1 && n < 4096; n++ {
		s.exclude[pid] = true
		p, ok := s.procs[pid]
		if !ok {
			break
		}
		pid = p.PPID
	}
	return s
}

// Alive returns the process r names if it still runs: same pid, same
// start time, not a zombie.
func (s *Snapshot) Alive(r proc.Ref) (*proc.Process, bool) {
	p, ok := s.procs[r.PID]
	if !ok || p.Start != r.Start || p.Dead() || p.Kernel {
		return nil, false
	}
	return p, true
}

// Target says which processes make up a session (or several): the seeds
// and everything below them, the members of the POSIX sessions they lead,
// and the members of the audit sessions named; of those, the ones whose
// real uid is UID.
type Target struct {
	Seeds []proc.Ref
	Audit []uint32
	UID   int
	// Skip holds pids of other sessions: an audit session that began
	// above an sshd (started by hand from someone's login) must not take
	// in that sshd's connections.
	Skip map[int]bool
}

// Members returns the processes of t, sorted by pid. Descendants are
// followed through processes of other users (sshd's root-owned monitor
// above the user's processes) but only the user's own are returned: those
// are what a kill signals.
func (s *Snapshot) Members(t Target) []proc.Ref {
	seen := map[int]bool{}
	var queue []int
	for _, r := range t.Seeds {
		if _, ok := s.Alive(r); ok {
			queue = append(queue, r.PID)
		}
	}
	for _, a := range t.Audit {
		if a != proc.Unset {
			queue = append(queue, s.byAudit[a]...)
		}
	}
	for ; len(queue) > 0; queue = queue[1:] {
		pid := queue[0]
		if seen[pid] || t.Skip[pid] {
			continue
		}
		seen[pid] = true
		queue = append(queue, s.children[pid]...)
		if p := s.procs[pid]; p != nil && p.SID == pid {
			queue = append(queue, s.bySID[pid]...)
		}
	}
	out := make([]proc.Ref, 0, len(seen))
	for pid := range seen {
		p := s.procs[pid]
		if p == nil || p.Kernel || p.Dead() || s.exclude[pid] || p.UID != t.UID {
			continue
		}
		out = append(out, p.Ref)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out
}

// tree returns root and its descendants.
func (s *Snapshot) tree(root int) []int {
	var out []int
	seen := map[int]bool{}
	for queue := []int{root}; len(queue) > 0; queue = queue[1:] {
		if pid := queue[0]; !seen[pid] {
			seen[pid] = true
			out = append(out, pid)
			queue = append(queue, s.children[pid]...)
		}
	}
	return out
}

// sorted returns the live user-space processes in pid order.
func (s *Snapshot) sorted() []*proc.Process {
	out := make([]*proc.Process, 0, len(s.procs))
	for _, p := range s.procs {
		if !p.Kernel && !p.Dead() {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out
}
