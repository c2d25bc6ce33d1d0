package btrfsvol

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Tree and item key numbers of <linux/btrfs_tree.h>.
const (
	rootTreeID       = 1   // BTRFS_ROOT_TREE_OBJECTID
	quotaTreeID      = 8   // BTRFS_QUOTA_TREE_OBJECTID
	rootItemKey      = 132 // BTRFS_ROOT_ITEM_KEY
	rootBackrefKey   = 144 // BTRFS_ROOT_BACKREF_KEY
	qgroupStatusKey  = 240 // BTRFS_QGROUP_STATUS_KEY
	qgroupInfoKey    = 242 // BTRFS_QGROUP_INFO_KEY
	qgroupLimitKey   = 244 // BTRFS_QGROUP_LIMIT_KEY
	lastFreeObjectID = ^uint64(0) - 255

	// Offsets in struct btrfs_root_item (packed, 439 bytes).
	rootItemRefs       = 216 // __le32 refs: 0 once the subvolume is deleted
	rootItemUUID       = 247
	rootItemParentUUID = 263
	rootItemMinLen     = rootItemParentUUID + 16
)

type searchKey struct {
	TreeID                             uint64
	MinObjectID, MaxObjectID           uint64
	MinOffset, MaxOffset               uint64
	MinTransID, MaxTransID             uint64
	MinType, MaxType, NrItems, Unused  uint32
	Unused1, Unused2, Unused3, Unused4 uint64
}

type searchArgs struct {
	Key searchKey
	Buf [searchBufSize]byte
}

// item is one search result: its key and a copy of its data.
type item struct {
	ObjectID, Offset uint64
	Type             uint32
	Data             []byte
}

// treeSearch returns every item of tree whose key lies between min and
// max, compared as (objectid, type, offset) tuples as the kernel does.
func treeSearch(fd int, tree uint64, min, max item) ([]item, error) {
	a := searchArgs{Key: searchKey{TreeID: tree,
		MinObjectID: min.ObjectID, MinType: min.Type, MinOffset: min.Offset,
		MaxObjectID: max.ObjectID, MaxType: max.Type, MaxOffset: max.Offset,
		MaxTransID: ^uint64(0)}}
	var out []item
	for {
		a.Key.NrItems = 4096
		if err := ioctl(fd, iocTreeSearch, unsafe.Pointer(&a)); err != nil {
			return nil, err
		}
		batch, err := parseSearch(a.Buf[:], int(a.Key.NrItems))
		if err != nil || len(batch) == 0 {
			return out, err
		}
		out = append(out, batch...)
		last := batch[len(batch)-1]
		if !advance(&a.Key, last) {
			return out, nil
		}
	}
}

// parseSearch decodes n results of a tree-search buffer: a native-endian
// header (transid, objectid, offset, type, len) followed by the item.
func parseSearch(buf []byte, n int) ([]item, error) {
	var out []item
	off := 0
	for range n {
		if off+searchHeaderBytes > len(buf) {
			return nil, fmt.Errorf("tree search: truncated header at %d", off)
		}
		h := buf[off : off+searchHeaderBytes]
		it := item{ObjectID: binary.NativeEndian.Uint64(h[8:]), Offset: binary.NativeEndian.Uint64(h[16:]),
			Type: binary.NativeEndian.Uint32(h[24:])}
		size := int(binary.NativeEndian.Uint32(h[28:]))
		off += searchHeaderBytes
		if off+size > len(buf) {
			return nil, fmt.Errorf("tree search: item of %d bytes overruns the buffer", size)
		}
		it.Data = bytes.Clone(buf[off : off+size])
		off += size
		out = append(out, it)
	}
	return out, nil
}

// advance moves the search's lower bound just past last; false when the
// key space is exhausted.
func advance(k *searchKey, last item) bool {
	k.MinObjectID, k.MinType, k.MinOffset = last.ObjectID, last.Type, last.Offset
	switch {
	case k.MinOffset < ^uint64(0):
		k.MinOffset++
	case k.MinType < 255:
		k.MinType, k.MinOffset = k.MinType+1, 0
	case k.MinObjectID < ^uint64(0):
		k.MinObjectID, k.MinType, k.MinOffset = k.MinObjectID+1, 0, 0
	default:
		return false
	}
	return true
}

// Qgroup looks up qgroup 0/id's info and limit items, each by its exact
// key: one search from the info key to the limit key would also walk every
// other qgroup's limit item in between, a cost that grows with the number
// of volumes (measured: 46 µs with none, 430 µs with 1,000).
func (Ioctl) Qgroup(_ context.Context, fd int, id uint64) (Qgroup, error) {
	var items []item
	for _, typ := range []uint32{qgroupInfoKey, qgroupLimitKey} {
		k := item{Type: typ, Offset: id}
		found, err := treeSearch(fd, quotaTreeID, k, k)
		if err == unix.ENOENT {
			return Qgroup{}, ErrQuotaDisabled
		} else if err != nil {
			return Qgroup{}, fmt.Errorf("BTRFS_IOC_TREE_SEARCH quota tree: %w", err)
		}
		items = append(items, found...)
	}
	return qgroupFromItems(id, items)
}

// Flags of the qgroup status item.
const (
	statusInconsistent = 1 << 2 // BTRFS_QGROUP_STATUS_FLAG_INCONSISTENT
	statusSimpleMode   = 1 << 3 // BTRFS_QGROUP_STATUS_FLAG_SIMPLE_MODE
)

// QuotaState reads the kernel's live qgroup flags from sysfs
// (/sys/fs/btrfs/FSID/qgroups/inconsistent, where the kernel has it) when it can, and
// otherwise commits the running transaction and reads the status item of
// the quota tree, which the commit brings up to date. The sysfs way spares
// a transaction commit on every volume create.
func (Ioctl) QuotaState(_ context.Context, fd int) (QuotaState, error) {
	st, ok := sysfsQuotaState(fd)
	if !ok {
		var err error
		if st, err = treeQuotaState(fd); err != nil || !st.Enabled {
			return st, err
		}
	}
	var a quotaRescanArgs
	if err := ioctl(fd, iocQuotaRescanStatus, unsafe.Pointer(&a)); err != nil && err != unix.ENOTCONN {
		return QuotaState{}, fmt.Errorf("BTRFS_IOC_QUOTA_RESCAN_STATUS: %w", err)
	}
	st.Rescanning = a.Flags != 0
	return st, nil
}

// sysfsQuotaState reads the qgroup flags the kernel keeps in memory; ok is
// false where sysfs does not show them (older kernels, no /sys, qgroups
// off: the qgroups directory exists only while they are on).
func sysfsQuotaState(fd int) (st QuotaState, ok bool) {
	var a fsInfoArgs
	if ioctl(fd, iocFSInfo, unsafe.Pointer(&a)) != nil {
		return QuotaState{}, false
	}
	return readSysfsQuota(sysfsBtrfs, a.FSID)
}

// sysfsBtrfs is where the kernel shows each mounted btrfs filesystem.
const sysfsBtrfs = "/sys/fs/btrfs"

// readSysfsQuota reads qgroups/inconsistent of filesystem fsid under root,
// and qgroups/mode ("qgroup" or "squota") where the kernel has it (≥ 6.7).
func readSysfsQuota(root string, fsid [16]byte) (QuotaState, bool) {
	dir := root + "/" + uuidString(fsid) + "/qgroups/"
	b, err := os.ReadFile(dir + "inconsistent")
	if err != nil {
		return QuotaState{}, false
	}
	st := QuotaState{Enabled: true}
	switch strings.TrimSpace(string(b)) {
	case "0":
	case "1":
		st.Inconsistent = true
	default:
		return QuotaState{}, false
	}
	if m, err := os.ReadFile(dir + "mode"); err == nil {
		st.Simple = strings.TrimSpace(string(m)) == "squota"
	}
	return st, true
}

// uuidString spells a filesystem id as sysfs names its directory.
func uuidString(u [16]byte) string {
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// treeQuotaState commits and reads the quota tree's status item.
func treeQuotaState(fd int) (QuotaState, error) {
	if err := commit(fd); err != nil {
		return QuotaState{}, err
	}
	items, err := treeSearch(fd, quotaTreeID, item{Type: qgroupStatusKey}, item{Type: qgroupStatusKey})
	if err == unix.ENOENT {
		return QuotaState{}, nil
	} else if err != nil {
		return QuotaState{}, fmt.Errorf("BTRFS_IOC_TREE_SEARCH quota status: %w", err)
	}
	st := QuotaState{Enabled: true}
	for _, it := range items {
		// btrfs_qgroup_status_item: version, generation, flags, rescan.
		if it.Type == qgroupStatusKey && len(it.Data) >= 24 {
			flags := binary.LittleEndian.Uint64(it.Data[16:])
			st.Inconsistent = flags&statusInconsistent != 0
			st.Simple = flags&statusSimpleMode != 0
		}
	}
	return st, nil
}

// qgroupFromItems reads qgroup id's info item (generation, rfer,
// rfer_cmpr, excl, excl_cmpr) and limit item (flags, max_rfer, ...).
func qgroupFromItems(id uint64, items []item) (Qgroup, error) {
	q, found := Qgroup{ID: id}, false
	le := binary.LittleEndian
	for _, it := range items {
		if it.ObjectID != 0 || it.Offset != id || len(it.Data) < 40 {
			continue
		}
		switch it.Type {
		case qgroupInfoKey:
			q.Referenced, q.Exclusive, found = le.Uint64(it.Data[8:]), le.Uint64(it.Data[24:]), true
		case qgroupLimitKey:
			if le.Uint64(it.Data[0:])&limitMaxRfer != 0 {
				q.MaxRef = le.Uint64(it.Data[8:])
			}
		}
	}
	if !found {
		return Qgroup{}, fmt.Errorf("qgroup 0/%d: %w", id, ErrNoQgroup)
	}
	return q, nil
}

// rootRef is a ROOT_BACKREF item: subvolume → the subvolume holding it,
// the directory it sits in and its name there.
type rootRef struct {
	parent, dirID uint64
	name          string
}

func (Ioctl) Subvolumes(_ context.Context, fd int) ([]SubvolEntry, error) {
	items, err := treeSearch(fd, rootTreeID, item{ObjectID: firstFreeObjectID},
		item{ObjectID: lastFreeObjectID, Type: 255, Offset: ^uint64(0)})
	if err != nil {
		return nil, fmt.Errorf("BTRFS_IOC_TREE_SEARCH root tree: %w", err)
	}
	entries, refs := decodeRoots(items)
	paths := map[uint64]string{topLevelID: ""}
	var out []SubvolEntry
	for _, e := range entries {
		p, err := subvolPath(fd, e.ID, refs, paths, 0)
		if err != nil {
			continue // deleted, not yet cleaned: no path any more
		}
		e.Path = p
		out = append(out, e)
	}
	return out, nil
}

// decodeRoots splits the root tree's items into subvolumes (from their
// ROOT_ITEM) and their back references.
func decodeRoots(items []item) ([]SubvolEntry, map[uint64]rootRef) {
	var entries []SubvolEntry
	refs := map[uint64]rootRef{}
	for _, it := range items {
		switch {
		case it.Type == rootItemKey && len(it.Data) >= rootItemMinLen:
			entries = append(entries, SubvolEntry{ID: it.ObjectID,
				UUID:       formatUUID(it.Data[rootItemUUID : rootItemUUID+16]),
				ParentUUID: formatUUID(it.Data[rootItemParentUUID : rootItemParentUUID+16])})
		case it.Type == rootBackrefKey:
			if dirID, name, ok := decodeRef(it); ok {
				refs[it.ObjectID] = rootRef{parent: it.Offset, dirID: dirID, name: name}
			}
		}
	}
	return entries, refs
}

// subvolPath walks back references up to the top level, asking the kernel
// for the directory path inside each parent subvolume.
func subvolPath(fd int, id uint64, refs map[uint64]rootRef, memo map[uint64]string, depth int) (string, error) {
	if p, ok := memo[id]; ok {
		return p, nil
	}
	ref, ok := refs[id]
	if !ok || depth > 64 {
		return "", fmt.Errorf("subvolume %d has no back reference", id)
	}
	parent, err := subvolPath(fd, ref.parent, refs, memo, depth+1)
	if err != nil {
		return "", err
	}
	a := inoLookupArgs{TreeID: ref.parent, ObjectID: ref.dirID}
	if err := ioctl(fd, iocInoLookup, unsafe.Pointer(&a)); err != nil {
		return "", fmt.Errorf("BTRFS_IOC_INO_LOOKUP %d/%d: %w", ref.parent, ref.dirID, err)
	}
	dir := cstring(a.Name[:])
	p := parent
	if p != "" {
		p += "/"
	}
	p += dir + ref.name
	memo[id] = p
	return p, nil
}

// cstring returns the NUL-terminated string at the start of b.
func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return string(b[:i])
	}
	return string(b)
}
