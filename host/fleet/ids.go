package fleet

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/sdk/policy"
)

// One uid (and gid) for the whole fleet: an id is reserved by creating the
// key uid.N (gid.N) in the ids bucket, which only one caller can do — a
// compare-and-set in the store. The candidates skip the ids reserved
// already and those any node reports in use in its own account files
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

// maxIDAttempts bounds the compare-and-set tries of one allocation: each
// lost try means another caller took that id, so the next is tried.
const maxIDAttempts = 64

// AllocID reserves an id of kind ("uid" or "gid") for owner.
func (f *Fleet) AllocID(ctx context.Context, kind, owner string, want int) (int, error) {
	if kind != "uid" && kind != "gid" {
		return 0, core.InvalidField("kind", "must be uid or gid")
	}
	rt, err := f.running()
	if err != nil {
		return 0, err
	}
	held, err := f.reserved(ctx, rt, kind)
	if err != nil {
		return 0, err
	}
	for id, o := range held {
		if o == owner && (want == 0 || want == id) {
			return id, nil
		}
	}
	other, err := f.reserved(ctx, rt, map[string]string{"uid": "gid", "gid": "uid"}[kind])
	if err != nil {
		return 0, err
	}
	for id, o := range other {
		if _, ok := held[id]; !ok {
			held[id] = o
		}
	}
	used, err := f.usedOnNodes(ctx, rt, kind)
	if err != nil {
		return 0, err
	}
	lo, hi := f.idRange(ctx, kind)
	if want != 0 {
		if want < lo || want > hi {
			return 0, core.InvalidField(kind, "%d is outside the fleet's range %d..%d", want, lo, hi)
		}
		if _, taken := held[want]; taken || used[want] {
			return 0, &core.Error{Code: core.AlreadyExists, Field: kind, Message: kind + " " + strconv.Itoa(want) + " is taken in the fleet"}
		}
		return want, f.reserve(ctx, rt, kind, want, owner)
	}
	// From the top of the range down: the local tools (useradd) give ids
	// from the bottom up, so a node's own accounts and the fleet's meet
	// only when the range is nearly full.
	tries := 0
	for id := hi; id >= lo && tries < maxIDAttempts; id-- {
		if _, taken := held[id]; taken || used[id] {
			continue
		}
		tries++
		err := f.reserve(ctx, rt, kind, id, owner)
		if err == nil {
			return id, nil
		}
		if !core.IsCode(err, core.AlreadyExists) {
			return 0, err
		}
	}
	return 0, core.Errorf(core.FailedPrecondition, "no free %s left in the fleet's range %d..%d", kind, lo, hi)
}

func (f *Fleet) reserve(ctx context.Context, rt *runtime, kind string, id int, owner string) error {
	_, err := rt.st.put(ctx, bucketIDs, kind+"."+strconv.Itoa(id), idRecord{Owner: owner}, newKey)
	return err
}

// ReleaseID frees owner's id.
func (f *Fleet) ReleaseID(ctx context.Context, kind string, id int, owner string) error {
	rt, err := f.running()
	if err != nil {
		return err
	}
	key := kind + "." + strconv.Itoa(id)
	var rec idRecord
	if _, err := rt.st.get(ctx, bucketIDs, key, &rec); err != nil {
		return nil
	}
	if rec.Owner != owner {
		return nil
	}
	return rt.st.del(ctx, bucketIDs, key)
}

// reserved maps the reserved ids of kind to their holders.
func (f *Fleet) reserved(ctx context.Context, rt *runtime, kind string) (map[int]string, error) {
	entries, err := rt.st.list(ctx, bucketIDs, kind+".*")
	if err != nil {
		return nil, err
	}
	out := make(map[int]string, len(entries))
	for _, e := range entries {
		id, err := strconv.Atoi(strings.TrimPrefix(e.Key, kind+"."))
		var rec idRecord
		if err == nil && rt.st.open(bucketIDs, e.Key, e.Value, &rec) == nil {
			out[id] = rec.Owner
		}
	}
	return out, nil
}

// usedOnNodes is the union of the ids of kind the nodes report in use,
// and of this node's own, read now (its report may be seconds old).
func (f *Fleet) usedOnNodes(ctx context.Context, rt *runtime, kind string) (map[int]bool, error) {
	entries, err := rt.st.list(ctx, bucketIDs, "inuse.*")
	if err != nil {
		return nil, err
	}
	used := map[int]bool{}
	if own, err := f.readInUse(); err == nil {
		for _, id := range map[bool][]int{true: own.UIDs, false: own.GIDs}[kind == "uid"] {
			used[id] = true
		}
	}
	for _, e := range entries {
		var r inUse
		if rt.st.open(bucketIDs, e.Key, e.Value, &r) != nil {
			continue
		}
		ids := r.UIDs
		if kind == "gid" {
			ids = r.GIDs
		}
		for _, id := range ids {
			used[id] = true
		}
	}
	return used, nil
}

// idRange is the range every node allows: this node's policy's,
// narrowed by the ranges the nodes announce.
func (f *Fleet) idRange(ctx context.Context, kind string) (int, int) {
	lo, hi := f.localRange(kind)
	if kind != "uid" {
		return lo, hi
	}
	ann, err := f.Announcements(ctx)
	if err != nil {
		return lo, hi
	}
	for _, a := range ann {
		if a.UIDMin > 0 && a.UIDMax >= a.UIDMin {
			lo, hi = max(lo, a.UIDMin), min(hi, a.UIDMax)
		}
	}
	return lo, hi
}

// localRange is this node's policy's range of kind.
func (f *Fleet) localRange(kind string) (int, int) {
	p, err := policy.Load()
	if err != nil {
		f.log.Warn("fleet: the policy does not load; using its defaults for the id range", "err", err)
		p = policy.Defaults("/etc")
	}
	if kind == "gid" {
		return int(p.GIDMin), int(p.GIDMax)
	}
	return int(p.UIDMin), int(p.UIDMax)
}

// readInUse reads the ids this node's account files use, within the
// policy's ranges: every account and group, managed or not, since a fleet
// id must be free on every node.
func (f *Fleet) readInUse() (inUse, error) {
	var r inUse
	var err error
	lo, hi := f.localRange("uid")
	if r.UIDs, err = idsOf(filepath.Join(f.opts.EtcDir, "passwd"), lo, hi); err != nil {
		return r, err
	}
	lo, hi = f.localRange("gid")
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
