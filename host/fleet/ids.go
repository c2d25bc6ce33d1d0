package fleet

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/sdk/policy"
)

// One uid (and gid) for the whole fleet: an id is reserved by creating the
// key uid.N (gid.N) in the ids bucket, which only one caller can do — a
// compare-and-set in the store. A reservation is one call's own, never
// shared with another call of the same name: the call that loses the race
// to write the name's record gives back its own id, which no record in
// flight can hold (a shared one could be the winner's, whose record is
// not yet readable when the loser looks). The candidates skip the ids
// reserved already and those any node reports in use in its own account files
// (inuse.NODE), and stay within every node's policy range. Uids and gids
// are one space: a user's own group takes the gid equal to its uid, so an
// id reserved as either is skipped for both. A node that
// creates a local account in the seconds before its next report can still
// take an id the fleet gives meanwhile: that node reports the clash.

// idRecord is who holds an id.
type idRecord struct {
	Owner string `json:"owner"`
}

// inUse is a node's report of the ids its account files use.
type inUse struct {
	UIDs []int `json:"uids"`
	GIDs []int `json:"gids"`
}

// An allocation goes down from the top of the range, skipping the ids its
// read of the ids bucket shows taken; each compare-and-set it loses means
// another call took that id meanwhile. The read may come from a replica a
// step behind (during a burst of creates, by many ids), so it is read
// again every rereadEvery lost tries, and the allocation gives up, as a
// conflict to retry rather than a full range, after maxIDAttempts.
const (
	maxIDAttempts = 1024
	rereadEvery   = 32
)

// AllocID reserves an id of kind ("uid" or "gid") for owner. It brings
// this node's view of the ids bucket up to date (both kinds' reservations
// and every node's report: idsView) while the nodes' announcements are
// read beside it: over a WAN each read is a round trip.
func (f *Fleet) AllocID(ctx context.Context, kind, owner string, want int) (int, error) {
	if kind != "uid" && kind != "gid" {
		return 0, core.InvalidField("kind", "must be uid or gid")
	}
	rt, err := f.running()
	if err != nil {
		return 0, err
	}
	pol := f.policy()
	var ann map[string]core.NodeAnnounce
	var annErr error
	read := make(chan struct{})
	if kind == "uid" {
		go func() { defer close(read); ann, annErr = f.Announcements(ctx) }()
	} else {
		close(read)
	}
	err = rt.ids.refresh(ctx, rt.st)
	<-read
	if err != nil {
		return 0, err
	}
	if id, ok := rt.ids.holder(kind, owner); ok && (want == 0 || want == id) && f.adoptOrphan(ctx, rt, kind, id, owner) {
		return id, nil
	}
	// This node's own ids in use are read now (its report may be seconds
	// old).
	own := map[int]bool{}
	if r, err := f.readInUseWith(pol); err == nil {
		for _, id := range map[bool][]int{true: r.UIDs, false: r.GIDs}[kind == "uid"] {
			own[id] = true
		}
	}
	taken := func(id int) bool { return own[id] || rt.ids.taken(kind, id) }
	lo, hi := idRange(pol, kind)
	if kind == "uid" && annErr == nil {
		for _, a := range ann {
			if a.UIDMin > 0 && a.UIDMax >= a.UIDMin {
				lo, hi = max(lo, a.UIDMin), min(hi, a.UIDMax)
			}
		}
	}
	if want != 0 {
		if want < lo || want > hi {
			return 0, core.InvalidField(kind, "%d is outside the fleet's range %d..%d", want, lo, hi)
		}
		if taken(want) {
			return 0, &core.Error{Code: core.AlreadyExists, Field: kind, Message: kind + " " + strconv.Itoa(want) + " is taken in the fleet"}
		}
		return want, f.reserve(ctx, rt, kind, want, owner)
	}
	// From the top of the range down: the local tools (useradd) give ids
	// from the bottom up, so a node's own accounts and the fleet's meet
	// only when the range is nearly full.
	tries := 0
	for id := hi; id >= lo; id-- {
		if taken(id) {
			continue
		}
		if tries == maxIDAttempts {
			return 0, core.Errorf(core.FailedPrecondition, "could not reserve a %s: %d tries lost to concurrent calls; try again", kind, tries)
		}
		tries++
		err := f.reserve(ctx, rt, kind, id, owner)
		if err == nil {
			return id, nil
		}
		if !core.IsCode(err, core.AlreadyExists) {
			return 0, err
		}
		if tries%rereadEvery == 0 {
			// Read whole: a view this far behind may follow a bucket that
			// was made anew. taken reads the view as it is now.
			rt.ids.forget()
			_ = rt.ids.refresh(ctx, rt.st)
		}
	}
	return 0, core.Errorf(core.FailedPrecondition, "no free %s left in the fleet's range %d..%d", kind, lo, hi)
}

// reserve takes id of kind for owner by creating its key, which only one
// caller can do.
//
// Uids and gids are one space, but uid.N and gid.N are two keys: a user's
// create and a group's, at the same moment, could each win its own. So a
// reservation that won its key then asks the stream's leader for the
// other kind's key of the same number. Each of two such calls wrote its
// key before it asked, and the leader applies writes and reads in one
// order, so at least one of them sees the other's key; whoever sees it
// gives its own back and goes on to another id. (Both may: then both try
// again, and neither keeps a shared number.)
func (f *Fleet) reserve(ctx context.Context, rt *runtime, kind string, id int, owner string) error {
	key := kind + "." + strconv.Itoa(id)
	rev, err := rt.st.put(ctx, bucketIDs, key, idRecord{Owner: owner}, newKey)
	if err != nil {
		return err
	}
	other := map[string]string{"uid": "gid", "gid": "uid"}[kind]
	var rec idRecord
	_, err = rt.st.get(ctx, bucketIDs, other+"."+strconv.Itoa(id), &rec)
	switch {
	case core.IsCode(err, core.NotFound):
		rt.ids.note(kind, id, owner)
		return nil
	case err == nil:
		// Not noted in the view: the other key may be given back (its
		// call saw this one) before a note landed, and a note after the
		// view read that delete would hold the id there for good. The
		// view learns of it from the stream, in order.
		err = &core.Error{Code: core.AlreadyExists, Field: kind, Message: strconv.Itoa(id) + " is taken in the fleet as a " + other}
	}
	// Taken as the other kind meanwhile, or the check did not answer:
	// the key just written is this call's own, and goes back.
	if derr := rt.st.delAt(ctx, bucketIDs, key, rev); derr != nil {
		f.log.Warn("fleet: could not give back an id reserved by a call that then failed; it stays held, and its owner's next call takes it over once it is an orphan", "id", key, "owner", owner, "err", derr)
	}
	return err
}

// ReleaseID frees owner's id: the key goes if it still holds the value
// just read, so a reservation made again meanwhile stays.
func (f *Fleet) ReleaseID(ctx context.Context, kind string, id int, owner string) error {
	rt, err := f.running()
	if err != nil {
		return err
	}
	key := kind + "." + strconv.Itoa(id)
	var rec idRecord
	rev, err := rt.st.get(ctx, bucketIDs, key, &rec)
	if core.IsCode(err, core.NotFound) || (err == nil && rec.Owner != owner) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := rt.st.delAt(ctx, bucketIDs, key, rev); err != nil {
		if core.IsCode(err, core.FailedPrecondition) {
			return nil
		}
		return err
	}
	rt.ids.note(kind, id, "")
	return nil
}

// orphanAfter is how old a reservation no record holds must be before a
// new call of its owner takes it over: far longer than a call holds its
// reservation before it writes its record (a few store operations, each
// retried for writeRetry), so the call that made it has ended, with room
// for the nodes' clocks to differ (the age is the leader's time of the
// reservation against this node's clock).
var orphanAfter = time.Hour

// adoptOrphan takes over owner's reservation of id for a new call, when it is
// an orphan: made by a call that ended without a record and could not give
// it back (the store did not answer then). The takeover is a
// compare-and-set, so two calls cannot both adopt it.
func (f *Fleet) adoptOrphan(ctx context.Context, rt *runtime, kind string, id int, owner string) bool {
	key := kind + "." + strconv.Itoa(id)
	var rec idRecord
	rev, at, err := rt.st.getAt(ctx, bucketIDs, key, &rec)
	if err != nil || rec.Owner != owner || time.Since(at) < orphanAfter {
		return false
	}
	if held, live, err := core.RecordID(ctx, f, kind, owner); (err != nil && !core.IsCode(err, core.NotFound)) || (live && held == id) {
		return false
	}
	// The view holds id as owner's already: that is how it was found.
	_, err = rt.st.put(ctx, bucketIDs, key, rec, rev)
	return err == nil
}

// policy is this node's policy, or its defaults when it does not load.
func (f *Fleet) policy() policy.Policy {
	p, err := policy.Load()
	if err != nil {
		f.log.Warn("fleet: the policy does not load; using its defaults for the id range", "err", err)
		p = policy.Defaults("/etc")
	}
	return p
}

// idRange is pol's range of kind.
func idRange(pol policy.Policy, kind string) (int, int) {
	if kind == "gid" {
		return int(pol.GIDMin), int(pol.GIDMax)
	}
	return int(pol.UIDMin), int(pol.UIDMax)
}

// localRange is this node's policy's range of kind.
func (f *Fleet) localRange(kind string) (int, int) { return idRange(f.policy(), kind) }

// readInUse reads the ids this node's account files use, within the
// policy's ranges: every account and group, managed or not, since a fleet
// id must be free on every node.
func (f *Fleet) readInUse() (inUse, error) { return f.readInUseWith(f.policy()) }

func (f *Fleet) readInUseWith(pol policy.Policy) (inUse, error) {
	var r inUse
	var err error
	lo, hi := idRange(pol, "uid")
	if r.UIDs, err = idsOf(filepath.Join(f.opts.EtcDir, "passwd"), lo, hi); err != nil {
		return r, err
	}
	lo, hi = idRange(pol, "gid")
	r.GIDs, err = idsOf(filepath.Join(f.opts.EtcDir, "group"), lo, hi)
	return r, err
}

// idsOf reads the third field (the id) of every line of an account file.
func idsOf(path string, lo, hi int) ([]int, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	var out []int
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		fields := strings.SplitN(sc.Text(), ":", 4)
		if len(fields) < 3 {
			continue
		}
		if id, err := strconv.Atoi(fields[2]); err == nil && id >= lo && id <= hi {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), sc.Err()
}
