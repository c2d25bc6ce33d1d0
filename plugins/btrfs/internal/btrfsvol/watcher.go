package btrfsvol

import (
	"context"
	"encoding/binary"
	"errors"
	"slices"
	"time"
)

// Watcher keeps every subvolume a user makes inside a limited volume
// within that volume's limit. Any user may run `btrfs subvolume create`
// (or snapshot a subvolume of their own) inside their home; under full
// qgroups the kernel gives the new subvolume a qgroup of its own, outside
// the home's group, so what is written there escapes the home's limit.
// Under simple quotas the kernel adds it to the home's group by itself,
// unless its creator passes a qgroup-inherit list of their own (an empty
// one will do), which needs no privilege. The Watcher closes both: it
// looks at the filesystem's subvolume links often, and makes each new
// subvolume's qgroup a member of the group of the outermost limited
// volume holding it, and of no other volume's group (an inherit list can
// name another user's group, to charge them). A volume whose limit is on
// its own qgroup (set before groups) gets a group with that limit the
// first time a subvolume is found inside it.
//
// Each look is a search of the root tree for subvolume ids above the
// highest already placed, one system call when nothing was made; every
// FullEvery it looks at every subvolume, which also covers what was made
// while the plugin was not running, a subvolume moved into a home from
// elsewhere on the filesystem, and a relation removed by hand. What a
// user writes between the subvolume's creation and the Watcher's next
// look counts against the limit once it is in the group, so the
// overshoot is bounded by what one can write in about one Interval (a
// subvolume moved in: one FullEvery). README's "Quotas on btrfs" has the
// numbers.
//
// The Watcher acts only beneath the policy's home roots: on the btrfs
// filesystems mounted at or below them, and there only on subvolumes
// whose path lies beneath a root. It reads with the ioctls whichever
// backend is chosen, and changes qgroups through the backend.
type Watcher struct {
	B Backend
	// Roots are the home roots, from the policy.
	Roots []string
	// Interval is the time between two looks; FullEvery between two
	// looks at every subvolume.
	Interval, FullEvery time.Duration
	// Warn and Info receive what the Watcher did or could not do.
	Warn, Info func(msg string, args ...any)

	mounts *mountWatch
	fss    map[[16]byte]*watchedFS
}

// NewWatcher returns a Watcher of roots with the default periods.
func NewWatcher(b Backend, roots []string) *Watcher {
	return &Watcher{B: b, Roots: roots, Interval: 100 * time.Millisecond, FullEvery: time.Minute}
}

// Run looks every Interval until ctx ends, the first time after one
// Interval (the plugin's logging is set up by then).
func (w *Watcher) Run(ctx context.Context) {
	t := time.NewTicker(w.Interval)
	defer t.Stop()
	defer w.close()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		w.Tick(ctx)
	}
}

// Tick looks once at every watched filesystem.
func (w *Watcher) Tick(ctx context.Context) {
	if err := w.refreshMounts(); err != nil {
		w.warn("cannot list the filesystems below the home roots", "error", err)
	}
	for _, fs := range w.fss {
		if err := w.look(ctx, fs); err != nil {
			w.warn("cannot check the subvolumes", "filesystem", fs.point, "error", err)
		}
	}
}

func (w *Watcher) warn(msg string, args ...any) {
	if w.Warn != nil {
		w.Warn(msg, args...)
	}
}

func (w *Watcher) info(msg string, args ...any) {
	if w.Info != nil {
		w.Info(msg, args...)
	}
}

// look places the subvolumes made since the previous look: those with an
// id above the highest it has placed (the kernel hands out subvolume ids
// in increasing order), a search of a few items, one system call when
// there is none. Every FullEvery it looks at every subvolume instead,
// which also catches a subvolume moved into a home from elsewhere on the
// filesystem, and one taken out of its group by hand.
func (w *Watcher) look(ctx context.Context, fs *watchedFS) error {
	now := time.Now()
	from := fs.maxID + 1
	if now.Sub(fs.lastFull) >= w.FullEvery {
		from, fs.lastFull = firstFreeObjectID, now
		fs.seen, fs.refs, fs.failed = map[uint64]rootRef{}, map[uint64]rootRef{}, map[uint64]bool{}
	}
	items, err := treeSearch(fs.fd, rootTreeID, item{ObjectID: from},
		item{ObjectID: lastFreeObjectID, Type: 255, Offset: ^uint64(0)})
	if err != nil {
		return err
	}
	links, made := linksOf(items)
	acted := false
	for _, id := range sortedKeys(links) {
		if fs.seen[id] == links[id] {
			continue
		}
		did, err := w.place(ctx, fs, id, links[id])
		if err != nil {
			// Looked at again next time (placedUpTo stops below it);
			// said once.
			if !fs.failed[id] {
				w.warn("cannot bring a subvolume under its volume's limit; trying again", "subvolume", fs.pathOf(id), "error", err)
			}
			fs.failed[id] = true
			delete(links, id)
			continue
		}
		delete(fs.failed, id)
		acted = acted || did
		fs.seen[id] = links[id]
	}
	fs.maxID = placedUpTo(from-1, made, links)
	if acted || now.Sub(fs.lastRepair) >= time.Second {
		fs.lastRepair = now
		w.repair(ctx, fs)
	}
	return nil
}

// linksOf reads a root-tree search: each subvolume's link (ROOT_BACKREF),
// and the subvolumes still being made (a ROOT_ITEM that has no link yet
// and is not a deleted one, whose refs are 0).
func linksOf(items []item) (map[uint64]rootRef, []uint64) {
	links := map[uint64]rootRef{}
	var made []uint64
	for _, it := range items {
		switch it.Type {
		case rootBackrefKey:
			if dirID, name, ok := decodeRef(it); ok {
				links[it.ObjectID] = rootRef{parent: it.Offset, dirID: dirID, name: name}
			}
		case rootItemKey:
			if len(it.Data) >= rootItemRefs+4 && binary.LittleEndian.Uint32(it.Data[rootItemRefs:]) > 0 {
				made = append(made, it.ObjectID)
			}
		}
	}
	return links, made
}

// placedUpTo is the highest id the next quick look may start above: the
// highest live subvolume seen, but below the first one without a link in
// links (its creation is in progress, or placing it failed), so it is
// looked at again.
func placedUpTo(prev uint64, live []uint64, links map[uint64]rootRef) uint64 {
	slices.Sort(live)
	up := prev
	for _, id := range live {
		if _, ok := links[id]; !ok {
			return min(up, id-1)
		}
		up = max(up, id)
	}
	return up
}

// place makes subvolume id's qgroup a member of the group of the
// outermost limited volume holding it, beneath a home root, and of no
// other volume's group. It reports whether it changed anything.
func (w *Watcher) place(ctx context.Context, fs *watchedFS, id uint64, ref rootRef) (bool, error) {
	chain, err := w.ancestors(fs, id, ref)
	if err != nil {
		return false, err
	}
	vol, ok := outermostVolume(chain, func(a uint64) bool { return hasGroup(fs.fd, a) })
	acted := false
	if !ok {
		// A volume limited before groups: its limit moves to a group now.
		vol, ok = outermostVolume(chain, func(a uint64) bool { return ownLimit(fs.fd, a) > 0 })
		if ok && fs.beneath(fs.pathOf(vol)) {
			if err := w.group(ctx, fs, vol); err != nil {
				return false, err
			}
			acted = true
		}
	}
	if !ok || !fs.beneath(fs.pathOf(vol)) {
		return acted, nil
	}
	parents, err := Ioctl{}.Parents(ctx, fs.fd, id)
	if errors.Is(err, ErrQuotaDisabled) {
		return acted, nil
	} else if err != nil {
		return acted, err
	}
	group := volumeGroup(vol)
	if !slices.Contains(parents, group) {
		if err := w.B.Relate(ctx, fs.fd, id, group, true); err != nil {
			return false, err
		}
		w.info("a subvolume made inside a limited volume now counts against its limit",
			"subvolume", fs.pathOf(id), "volume", fs.pathOf(vol), "group", qgroupName(group))
		acted = true
	}
	for _, p := range parents {
		if p == group || qgroupLevel(p) != 1 || !fs.beneath(fs.pathOf(p&(1<<qgroupLevelShift-1))) {
			continue
		}
		if err := w.B.Relate(ctx, fs.fd, id, p, false); err != nil {
			return acted, err
		}
		w.info("a subvolume was charged to another volume's limit; no longer", "subvolume", fs.pathOf(id), "group", qgroupName(p))
		acted = true
	}
	return acted, nil
}

// group moves the limit of volume vol, made before groups, from its own
// qgroup to its group, with the volume and every subvolume inside it as
// members: what SetQuota does to such a volume.
func (w *Watcher) group(ctx context.Context, fs *watchedFS, vol uint64) error {
	group := volumeGroup(vol)
	nested, err := Ioctl{}.Nested(ctx, fs.fd, vol)
	if err != nil {
		return err
	}
	if err := w.B.CreateQgroup(ctx, fs.fd, group); err != nil {
		return err
	}
	for _, m := range append([]uint64{vol}, subvolIDs(nested)...) {
		if err := w.B.Relate(ctx, fs.fd, m, group, true); err != nil {
			return err
		}
	}
	if err := w.B.SetLimit(ctx, fs.fd, group, ownLimit(fs.fd, vol)); err != nil {
		return err
	}
	w.info("a volume's limit moved to a group that covers the subvolumes inside it",
		"volume", fs.pathOf(vol), "group", qgroupName(group))
	return w.B.SetLimit(ctx, fs.fd, vol, 0)
}

// ownLimit is the limit on subvolume id's own qgroup, 0 for none.
func ownLimit(fd int, id uint64) uint64 {
	q, err := Ioctl{}.Qgroup(context.Background(), fd, id)
	if err != nil {
		return 0
	}
	return q.MaxRef
}

// ancestors lists the subvolumes holding id, innermost first, up to (not
// including) the top level, learning their links as it goes.
func (w *Watcher) ancestors(fs *watchedFS, id uint64, ref rootRef) ([]uint64, error) {
	fs.refs[id] = ref
	var chain []uint64
	for p := ref.parent; p != topLevelID && len(chain) < 64; {
		chain = append(chain, p)
		r, ok := fs.refs[p]
		if !ok {
			var err error
			if r, ok, err = backref(fs.fd, p); err != nil || !ok {
				return chain, err
			}
			fs.refs[p] = r
		}
		p = r.parent
	}
	return chain, nil
}

// outermostVolume picks, of the subvolumes holding one (innermost first),
// the outermost that has a group: a home or a shared volume, never a
// subvolume inside one (a group there would be a stale one whose id the
// kernel reused, and choosing it would let the user out).
func outermostVolume(chain []uint64, grouped func(uint64) bool) (uint64, bool) {
	for i := len(chain) - 1; i >= 0; i-- {
		if grouped(chain[i]) {
			return chain[i], true
		}
	}
	return 0, false
}

// hasGroup reports whether subvolume id has a group, i.e. is a limited
// volume (or was one).
func hasGroup(fd int, id uint64) bool {
	_, err := Ioctl{}.Qgroup(context.Background(), fd, volumeGroup(id))
	return err == nil
}

// backref reads subvolume id's link: the subvolume holding it, the
// directory and its name there.
func backref(fd int, id uint64) (rootRef, bool, error) {
	items, err := treeSearch(fd, rootTreeID, item{ObjectID: id, Type: rootBackrefKey},
		item{ObjectID: id, Type: rootBackrefKey, Offset: ^uint64(0)})
	if err != nil {
		return rootRef{}, false, err
	}
	for _, it := range items {
		if dirID, name, ok := decodeRef(it); ok && it.ObjectID == id && it.Type == rootBackrefKey {
			return rootRef{parent: it.Offset, dirID: dirID, name: name}, true, nil
		}
	}
	return rootRef{}, false, nil
}

// repair starts a rescan when the kernel holds the accounting
// inconsistent (under full qgroups, a user's snapshot of a volume in a
// group does that): until one ends, no limit holds.
func (w *Watcher) repair(ctx context.Context, fs *watchedFS) {
	st, err := w.B.QuotaState(ctx, fs.fd)
	if err != nil || !st.Inconsistent || st.Rescanning {
		return
	}
	if err := w.B.StartRescan(ctx, fs.fd); err != nil {
		w.warn("qgroup accounting is inconsistent and a rescan could not start; limits are not enforced",
			"filesystem", fs.point, "error", err)
		return
	}
	w.info("qgroup accounting was inconsistent (limits unenforced); rescan started", "filesystem", fs.point)
}

func sortedKeys[V any](m map[uint64]V) []uint64 {
	keys := make([]uint64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
