package etcdb

import (
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// NextID picks an id the way shadow-utils' find_new_uid/find_new_gid do for
// non-system accounts: one above the highest id in use within [min, max];
// when that would pass max, the lowest free id of the range.
func NextID(used map[uint32]bool, min, max uint32) (uint32, error) {
	if max < min {
		return 0, sdkerr.Errorf(sdkerr.FailedPrecondition, "invalid id range %d..%d in login.defs", min, max)
	}
	next := uint64(min)
	for id := range used {
		if id >= min && id <= max && uint64(id) >= next {
			next = uint64(id) + 1
		}
	}
	if next <= uint64(max) {
		return uint32(next), nil
	}
	for id := uint64(min); id <= uint64(max); id++ {
		if !used[uint32(id)] {
			return uint32(id), nil
		}
	}
	return 0, sdkerr.Errorf(sdkerr.FailedPrecondition, "no free id left in %d..%d", min, max)
}

// NextUID allocates a uid from UID_MIN..UID_MAX.
func (db *DB) NextUID(d Defs) (uint32, error) {
	return NextID(db.UsedUIDs(), d.UIDMin, d.UIDMax)
}

// NextGID allocates a gid from GID_MIN..GID_MAX, taking preferred when it
// is in range and free: useradd gives a user's own group the user's uid
// when it can.
func (db *DB) NextGID(d Defs, preferred uint32) (uint32, error) {
	used := db.UsedGIDs()
	if preferred >= d.GIDMin && preferred <= d.GIDMax && !used[preferred] {
		return preferred, nil
	}
	return NextID(used, d.GIDMin, d.GIDMax)
}

// Alloc hands out ids one after another as NextID and NextGID would, each
// in constant time: a batch allocates one uid and one gid per user, and
// NextID's scan of every id in use per user was quadratic.
type Alloc struct {
	used     map[uint32]bool
	min, max uint32
	next     uint64 // one above the highest id in use within the range
}

// NewAlloc allocates from min..max around used, which it keeps and adds to.
func NewAlloc(used map[uint32]bool, min, max uint32) *Alloc {
	a := &Alloc{used: used, min: min, max: max, next: uint64(min)}
	for id := range used {
		a.bump(id)
	}
	return a
}

func (a *Alloc) bump(id uint32) {
	if id >= a.min && id <= a.max && uint64(id) >= a.next {
		a.next = uint64(id) + 1
	}
}

// Used reports whether id is taken.
func (a *Alloc) Used(id uint32) bool { return a.used[id] }

// Take marks id as used.
func (a *Alloc) Take(id uint32) {
	a.used[id] = true
	a.bump(id)
}

// Next takes the id NextID would give.
func (a *Alloc) Next() (uint32, error) {
	var id uint32
	if a.min <= a.max && a.next <= uint64(a.max) {
		id = uint32(a.next)
	} else {
		var err error
		if id, err = NextID(a.used, a.min, a.max); err != nil {
			return 0, err
		}
	}
	a.Take(id)
	return id, nil
}

// Prefer takes id when it is in the range and free, else the next one: a
// user's own group gets the user's uid as its gid when it can, as useradd
// gives it.
func (a *Alloc) Prefer(id uint32) (uint32, error) {
	if id >= a.min && id <= a.max && !a.used[id] {
		a.Take(id)
		return id, nil
	}
	return a.Next()
}
