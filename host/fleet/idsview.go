package fleet

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"
)

// idsView is this node's copy of the ids bucket, opened and indexed: who
// holds each uid and gid, the id each owner holds, and how many nodes
// report each id in use in their account files. An allocation brings it
// up to date by reading only the messages written since its last read (a
// stream's sequences only grow, and a key's new value or delete marker is
// a new message), so it costs a round trip however many ids the fleet
// holds, where reading the bucket whole took a request per 256 ids and
// opened every one. It is read whole at first and every idsReread, so a
// bucket made anew (an external cluster reset) is not followed for long;
// a view behind the store costs only lost tries, since a reservation is a
// compare-and-set in the store.
type idsView struct {
	mu     sync.Mutex
	loaded time.Time
	seq    uint64
	held   map[string]map[int]string // kind ("uid", "gid") -> id -> owner
	owned  map[string]map[string]int // kind -> owner -> id
	inuse  map[string]inUse          // node -> its report
	used   map[string]map[int]int    // kind -> id -> nodes reporting it
}

// idsReread is how often the view is read whole.
const idsReread = time.Minute

// refresh brings the view up to date with st: what was written after the
// last sequence it read, or the whole bucket (from sequence 1, on fresh
// maps) at first and every idsReread.
func (v *idsView) refresh(ctx context.Context, st *store) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	whole := v.loaded.IsZero() || time.Since(v.loaded) > idsReread
	from := v.seq + 1
	if whole {
		from = 1
	}
	var entries []entry
	var read uint64
	_, err := st.retry(ctx, func(octx context.Context) (uint64, error) {
		var err error
		entries, read, err = st.readFrom(octx, bucketIDs, ">", from, true)
		return 0, err
	})
	if err != nil {
		return err
	}
	if whole {
		v.held = map[string]map[int]string{"uid": {}, "gid": {}}
		v.owned = map[string]map[string]int{"uid": {}, "gid": {}}
		v.used = map[string]map[int]int{"uid": {}, "gid": {}}
		v.inuse = map[string]inUse{}
		v.seq, v.loaded = 0, time.Now()
	}
	for _, e := range entries {
		v.apply(st, e)
	}
	v.seq = max(v.seq, read)
	return nil
}

// forget makes the next refresh read the bucket whole.
func (v *idsView) forget() {
	v.mu.Lock()
	v.loaded = time.Time{}
	v.mu.Unlock()
}

// apply takes one message of the bucket into the view: a value that does
// not open counts as no value.
func (v *idsView) apply(st *store, e entry) {
	kind, rest, _ := strings.Cut(e.Key, ".")
	switch kind {
	case "uid", "gid":
		id, err := strconv.Atoi(rest)
		if err != nil {
			return
		}
		var rec idRecord
		if e.Deleted || st.open(bucketIDs, e.Key, e.Value, &rec) != nil {
			v.set(kind, id, "")
		} else {
			v.set(kind, id, rec.Owner)
		}
	case "inuse":
		v.report(rest, inUse{})
		var r inUse
		if !e.Deleted && st.open(bucketIDs, e.Key, e.Value, &r) == nil {
			v.report(rest, r)
		}
	}
}

// set records owner as id's holder, or id as free (owner "").
func (v *idsView) set(kind string, id int, owner string) {
	if prev, ok := v.held[kind][id]; ok {
		if v.owned[kind][prev] == id {
			delete(v.owned[kind], prev)
		}
		delete(v.held[kind], id)
	}
	if owner != "" {
		v.held[kind][id] = owner
		v.owned[kind][owner] = id
	}
}

// report replaces node's report of the ids in use (an empty one drops it).
func (v *idsView) report(node string, r inUse) {
	count := func(ids []int, kind string, by int) {
		for _, id := range ids {
			if v.used[kind][id] += by; v.used[kind][id] <= 0 {
				delete(v.used[kind], id)
			}
		}
	}
	if old, ok := v.inuse[node]; ok {
		count(old.UIDs, "uid", -1)
		count(old.GIDs, "gid", -1)
		delete(v.inuse, node)
	}
	if len(r.UIDs)+len(r.GIDs) > 0 {
		count(r.UIDs, "uid", 1)
		count(r.GIDs, "gid", 1)
		v.inuse[node] = r
	}
}

// note takes in this node's own reservation (owner set) or release (owner
// ""), which its replica may store a moment after the leader answered.
// Only a call's own writes are noted, before anything else can change
// them: a holder learned from a read and noted later could overwrite the
// view's read of its delete, which no later read brings back.
func (v *idsView) note(kind string, id int, owner string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.held != nil {
		v.set(kind, id, owner)
	}
}

// holder is the id of kind owner holds, as far as the view knows.
func (v *idsView) holder(kind, owner string) (int, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	id, ok := v.owned[kind][owner]
	return id, ok
}

// taken reports whether an allocation of kind must skip id: reserved as a
// uid or a gid (one space), or reported in use (as a kind) on a node.
func (v *idsView) taken(kind string, id int) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	_, uid := v.held["uid"][id]
	_, gid := v.held["gid"][id]
	return uid || gid || v.used[kind][id] > 0
}
