package procfs

import (
	"sort"

	"github.com/threefoldtech/hero_codescalers/plugins/procfs/internal/discover"
	"github.com/threefoldtech/hero_codescalers/plugins/procfs/internal/proc"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// follower is the moving target of a kill: the sessions' roots and every
// process of theirs seen so far, so a process stays a target after the
// sshd above it exited and it was reparented to init.
type follower struct {
	finder  *discover.Finder
	user    string // when set, new sessions of this user join
	targets map[string]discover.Target
}

func newFollower(f *discover.Finder, ss []discover.Session, user string) *follower {
	fw := &follower{finder: f, user: user, targets: map[string]discover.Target{}}
	for _, s := range ss {
		fw.targets[s.ID] = s.Target()
	}
	return fw
}

// members re-reads /proc and returns the targets' live processes.
func (fw *follower) members() ([]proc.Ref, error) {
	var snap *discover.Snapshot
	var err error
	if fw.user != "" {
		var ss []discover.Session
		ss, snap, _, err = fw.finder.Find()
		for _, s := range ss {
			if _, known := fw.targets[s.ID]; !known && err == nil && s.User == fw.user {
				fw.targets[s.ID] = s.Target()
			}
		}
	} else {
		snap, err = fw.finder.Snapshot()
	}
	if err != nil {
		return nil, sdkerr.Wrap(err, sdkerr.Internal, "cannot read processes: %v", err)
	}
	all := map[proc.Ref]bool{}
	for id, t := range fw.targets {
		m := snap.Members(t)
		for _, r := range m {
			all[r] = true
		}
		t.Seeds = keepAlive(snap, append(t.Seeds, m...))
		fw.targets[id] = t
	}
	out := make([]proc.Ref, 0, len(all))
	for r := range all {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out, nil
}

// keepAlive drops the seeds that are gone and the duplicates.
func keepAlive(snap *discover.Snapshot, seeds []proc.Ref) []proc.Ref {
	seen := map[proc.Ref]bool{}
	out := seeds[:0]
	for _, r := range seeds {
		if _, ok := snap.Alive(r); ok && !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}
