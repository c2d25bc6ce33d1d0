package btrfsvol

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// fakeBackend keeps "subvolumes" as plain directories it made, known by
// device and inode, with qgroups in maps, so the volume logic's order of
// steps and its clean-up can be tested without btrfs or root.
type fakeBackend struct {
	mu      sync.Mutex
	subs    map[[2]uint64]*SubvolInfo
	nextID  uint64
	quota   bool
	limits  map[uint64]uint64
	qgroups map[uint64]bool
	// used is a qgroup's referenced bytes (16 KiB when unset).
	used map[uint64]uint64
	// parents holds the relations: qgroup → the qgroups it is a member of.
	parents map[uint64][]uint64
	// nested is what Nested answers, by subvolume id.
	nested  map[uint64][]SubvolEntry
	fail    map[string]error // method → error, every call
	failOne map[string]error // method → error, next call only
	busy    int              // DestroyQgroup answers busy this many times
	// inconsistent is the qgroup status flag; a rescan clears it.
	inconsistent bool
	calls        []string
}

var _ Backend = (*fakeBackend)(nil)

func newFake() *fakeBackend {
	return &fakeBackend{subs: map[[2]uint64]*SubvolInfo{}, nextID: 256, limits: map[uint64]uint64{},
		qgroups: map[uint64]bool{}, used: map[uint64]uint64{}, parents: map[uint64][]uint64{},
		nested: map[uint64][]SubvolEntry{}, fail: map[string]error{}, failOne: map[string]error{}}
}

func (f *fakeBackend) enter(method string) error {
	f.calls = append(f.calls, method)
	if err := f.failOne[method]; err != nil {
		delete(f.failOne, method)
		return err
	}
	return f.fail[method]
}

func keyAt(dirfd int, name string) ([2]uint64, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return [2]uint64{}, err
	}
	return [2]uint64{st.Dev, st.Ino}, nil
}

func (f *fakeBackend) Name() string { return "fake" }

func (f *fakeBackend) SubvolInfo(_ context.Context, fd int) (SubvolInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("SubvolInfo"); err != nil {
		return SubvolInfo{}, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return SubvolInfo{}, err
	}
	if s, ok := f.subs[[2]uint64{st.Dev, st.Ino}]; ok {
		return *s, nil
	}
	return SubvolInfo{}, ErrNotSubvolume
}

func (f *fakeBackend) add(dirfd int, name, parentUUID string, ro bool) error {
	if err := unix.Mkdirat(dirfd, name, 0o755); err != nil {
		return err
	}
	k, err := keyAt(dirfd, name)
	if err != nil {
		return err
	}
	id := f.nextID
	f.nextID++
	f.subs[k] = &SubvolInfo{ID: id, UUID: fmt.Sprintf("uuid-%d", id), ParentUUID: parentUUID, ReadOnly: ro, Created: time.Unix(int64(id), 0)}
	if f.quota {
		f.qgroups[id] = true
	}
	return nil
}

func (f *fakeBackend) CreateSubvolume(_ context.Context, dirfd int, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("CreateSubvolume"); err != nil {
		return err
	}
	return f.add(dirfd, name, "", false)
}

func (f *fakeBackend) Snapshot(_ context.Context, srcfd, dirfd int, name string, ro bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("Snapshot"); err != nil {
		return err
	}
	var st unix.Stat_t
	if err := unix.Fstat(srcfd, &st); err != nil {
		return err
	}
	src := f.subs[[2]uint64{st.Dev, st.Ino}]
	return f.add(dirfd, name, src.UUID, ro)
}

func (f *fakeBackend) DeleteSubvolume(_ context.Context, dirfd int, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("DeleteSubvolume"); err != nil {
		return err
	}
	k, err := keyAt(dirfd, name)
	if err != nil {
		return err
	}
	if _, ok := f.subs[k]; !ok {
		return unix.EINVAL
	}
	delete(f.subs, k)
	return removeAllAt(dirfd, name)
}

// removeAllAt empties and removes a test directory (files only below it).
func removeAllAt(dirfd int, name string) error {
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	buf := make([]byte, 4096)
	for {
		n, err := unix.Getdents(fd, buf)
		if err != nil || n == 0 {
			break
		}
		_, _, names := unix.ParseDirent(buf[:n], -1, nil)
		for _, e := range names {
			_ = unix.Unlinkat(fd, e, 0)
		}
	}
	return unix.Unlinkat(dirfd, name, unix.AT_REMOVEDIR)
}

func (f *fakeBackend) EnableQuota(context.Context, int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("EnableQuota"); err != nil {
		return err
	}
	f.quota = true
	for _, s := range f.subs {
		f.qgroups[s.ID] = true
	}
	return nil
}

func (f *fakeBackend) WaitRescan(context.Context, int) error { return nil }

func (f *fakeBackend) StartRescan(context.Context, int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("StartRescan"); err != nil {
		return err
	}
	f.inconsistent = false
	return nil
}

func (f *fakeBackend) QuotaState(context.Context, int) (QuotaState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return QuotaState{Enabled: f.quota, Inconsistent: f.quota && f.inconsistent}, nil
}

func (f *fakeBackend) SetLimit(_ context.Context, fd int, id, bytes uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := firstErr(f.enter("SetLimit"), f.overLimitAt(fd)); err != nil {
		return err
	}
	if !f.quota {
		return ErrQuotaDisabled
	}
	if !f.qgroups[id] {
		return ErrNoQgroup
	}
	f.limits[id] = bytes
	return nil
}

// overLimitAt is what the kernel does to a qgroup call issued on a
// descriptor inside a volume over its limit: the call's transaction
// reserves metadata there, and is refused.
func (f *fakeBackend) overLimitAt(fd int) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	s, ok := f.subs[[2]uint64{st.Dev, st.Ino}]
	if !ok {
		return nil
	}
	for _, q := range []uint64{s.ID, volumeGroup(s.ID)} {
		if lim := f.limits[q]; lim > 0 && f.usedOf(q) > lim {
			return unix.EDQUOT
		}
	}
	return nil
}

func (f *fakeBackend) usedOf(q uint64) uint64 {
	if u, ok := f.used[q]; ok {
		return u
	}
	return 16384
}

func (f *fakeBackend) CreateQgroup(_ context.Context, fd int, q uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := firstErr(f.enter("CreateQgroup"), f.overLimitAt(fd)); err != nil {
		return err
	}
	if !f.quota {
		return ErrQuotaDisabled
	}
	f.qgroups[q] = true
	return nil
}

func (f *fakeBackend) Relate(_ context.Context, fd int, child, parent uint64, add bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := firstErr(f.enter("Relate"), f.overLimitAt(fd)); err != nil {
		return err
	}
	if !f.quota {
		return ErrQuotaDisabled
	}
	ps := slices.DeleteFunc(f.parents[child], func(p uint64) bool { return p == parent })
	if add {
		ps = append(ps, parent)
	}
	f.parents[child] = ps
	return nil
}

func (f *fakeBackend) Parents(_ context.Context, _ int, q uint64) ([]uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.quota {
		return nil, ErrQuotaDisabled
	}
	return slices.Clone(f.parents[q]), nil
}

func (f *fakeBackend) Nested(_ context.Context, _ int, id uint64) ([]SubvolEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.nested[id]), nil
}

func (f *fakeBackend) Qgroup(_ context.Context, _ int, id uint64) (Qgroup, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.quota {
		return Qgroup{}, ErrQuotaDisabled
	}
	if !f.qgroups[id] {
		return Qgroup{}, ErrNoQgroup
	}
	return Qgroup{ID: id, Referenced: f.usedOf(id), MaxRef: f.limits[id]}, nil
}

func (f *fakeBackend) DestroyQgroup(_ context.Context, _ int, id uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("DestroyQgroup"); err != nil {
		return err
	}
	if f.busy > 0 {
		f.busy--
		return ErrQgroupBusy
	}
	delete(f.qgroups, id)
	delete(f.limits, id)
	delete(f.parents, id)
	return nil
}

func (f *fakeBackend) Subvolumes(context.Context, int) ([]SubvolEntry, error) { return nil, nil }

func (f *fakeBackend) count(method string) int {
	n := 0
	for _, c := range f.calls {
		if c == method {
			n++
		}
	}
	return n
}
