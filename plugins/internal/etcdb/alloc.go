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
