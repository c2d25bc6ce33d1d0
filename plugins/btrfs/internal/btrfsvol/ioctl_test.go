package btrfsvol

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"unsafe"
)

// ioc encodes a Linux ioctl request as _IOC does on x86-64 and arm64.
func ioc(dir, nr, size uintptr) uintptr { return dir<<30 | size<<16 | 0x94<<8 | nr }

const (
	iocNone, iocWrite, iocRead = 0, 1, 2
)

// TestIoctlABI pins the argument layouts to <linux/btrfs.h> (sizes
// measured with the C compiler) and the request numbers to their encoding.
func TestIoctlABI(t *testing.T) {
	sizes := []struct {
		name string
		got  uintptr
		want uintptr
	}{
		{"btrfs_ioctl_vol_args", unsafe.Sizeof(volArgs{}), 4096},
		{"btrfs_ioctl_fs_info_args", unsafe.Sizeof(fsInfoArgs{}), 1024},
		{"btrfs_ioctl_vol_args_v2", unsafe.Sizeof(volArgsV2{}), 4096},
		{"btrfs_ioctl_vol_args_v2.name", unsafe.Offsetof(volArgsV2{}.Name), 56},
		{"btrfs_ioctl_quota_ctl_args", unsafe.Sizeof(quotaCtlArgs{}), 16},
		{"btrfs_ioctl_quota_rescan_args", unsafe.Sizeof(quotaRescanArgs{}), 64},
		{"btrfs_ioctl_qgroup_create_args", unsafe.Sizeof(qgroupCreateArgs{}), 16},
		{"btrfs_ioctl_qgroup_limit_args", unsafe.Sizeof(qgroupLimitArgs{}), 48},
		{"btrfs_ioctl_get_subvol_info_args", unsafe.Sizeof(subvolInfoArgs{}), 504},
		{"btrfs_ioctl_get_subvol_info_args.flags", unsafe.Offsetof(subvolInfoArgs{}.Flags), 288},
		{"btrfs_ioctl_get_subvol_info_args.parent_uuid", unsafe.Offsetof(subvolInfoArgs{}.ParentUUID), 312},
		{"btrfs_ioctl_get_subvol_info_args.otime", unsafe.Offsetof(subvolInfoArgs{}.OTime), 392},
		{"btrfs_ioctl_search_key", unsafe.Sizeof(searchKey{}), 104},
		{"btrfs_ioctl_search_args", unsafe.Sizeof(searchArgs{}), 4096},
		{"btrfs_ioctl_ino_lookup_args", unsafe.Sizeof(inoLookupArgs{}), 4096},
	}
	for _, s := range sizes {
		if s.got != s.want {
			t.Errorf("%s: %d bytes, want %d", s.name, s.got, s.want)
		}
	}
	reqs := []struct {
		name string
		got  uintptr
		want uintptr
	}{
		{"SUBVOL_CREATE", iocSubvolCreate, ioc(iocWrite, 14, 4096)},
		{"SNAP_DESTROY", iocSnapDestroy, ioc(iocWrite, 15, 4096)},
		{"TREE_SEARCH", iocTreeSearch, ioc(iocRead|iocWrite, 17, 4096)},
		{"INO_LOOKUP", iocInoLookup, ioc(iocRead|iocWrite, 18, 4096)},
		{"WAIT_SYNC", iocWaitSync, ioc(iocWrite, 22, 8)},
		{"SNAP_CREATE_V2", iocSnapCreateV2, ioc(iocWrite, 23, 4096)},
		{"START_SYNC", iocStartSync, ioc(iocRead, 24, 8)},
		{"QUOTA_CTL", iocQuotaCtl, ioc(iocRead|iocWrite, 40, 16)},
		{"QGROUP_CREATE", iocQgroupCreate, ioc(iocWrite, 42, 16)},
		{"QGROUP_LIMIT", iocQgroupLimit, ioc(iocRead, 43, 48)},
		{"QUOTA_RESCAN", iocQuotaRescan, ioc(iocWrite, 44, 64)},
		{"QUOTA_RESCAN_STATUS", iocQuotaRescanStatus, ioc(iocRead, 45, 64)},
		{"QUOTA_RESCAN_WAIT", iocQuotaRescanWait, ioc(iocNone, 46, 0)},
		{"FS_INFO", iocFSInfo, ioc(iocRead, 31, 1024)},
		{"GET_SUBVOL_INFO", iocGetSubvolInfo, ioc(iocRead, 60, 504)},
	}
	for _, r := range reqs {
		if r.got != r.want {
			t.Errorf("BTRFS_IOC_%s = %#x, want %#x", r.name, r.got, r.want)
		}
	}
}

// searchResult encodes items as the kernel fills a tree-search buffer.
func searchResult(items ...item) []byte {
	var buf []byte
	for _, it := range items {
		h := make([]byte, searchHeaderBytes)
		binary.NativeEndian.PutUint64(h[8:], it.ObjectID)
		binary.NativeEndian.PutUint64(h[16:], it.Offset)
		binary.NativeEndian.PutUint32(h[24:], it.Type)
		binary.NativeEndian.PutUint32(h[28:], uint32(len(it.Data)))
		buf = append(append(buf, h...), it.Data...)
	}
	return buf
}

func le64(vals ...uint64) []byte {
	b := make([]byte, 8*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint64(b[8*i:], v)
	}
	return b
}

func TestQgroupFromSearch(t *testing.T) {
	buf := searchResult(
		item{Type: qgroupInfoKey, Offset: 257, Data: le64(9, 5<<20, 5<<20, 4<<20, 4<<20)},
		item{Type: qgroupLimitKey, Offset: 257, Data: le64(limitMaxRfer, 1<<30, 0, 0, 0)},
		item{Type: qgroupInfoKey, Offset: 258, Data: le64(9, 1, 1, 1, 1)},
	)
	items, err := parseSearch(buf, 3)
	if err != nil {
		t.Fatal(err)
	}
	q, err := qgroupFromItems(257, items)
	if err != nil || q != (Qgroup{ID: 257, Referenced: 5 << 20, Exclusive: 4 << 20, MaxRef: 1 << 30}) {
		t.Errorf("qgroup 257 = %+v, %v", q, err)
	}
	// A limit item without the max-referenced flag is no limit.
	items[1].Data = le64(0, 1<<30, 0, 0, 0)
	if q, _ := qgroupFromItems(257, items); q.MaxRef != 0 {
		t.Errorf("unflagged limit read as %d", q.MaxRef)
	}
	if _, err := qgroupFromItems(300, items); err == nil {
		t.Error("found a qgroup that is not there")
	}
	if _, err := parseSearch(buf[:40], 2); err == nil {
		t.Error("parseSearch accepted a truncated buffer")
	}
}

func TestDecodeRoots(t *testing.T) {
	root := make([]byte, 439)
	copy(root[rootItemUUID:], []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	copy(root[rootItemParentUUID:], []byte{0xaa, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	ref := append(le64(256, 3), 5, 0)
	ref = append(ref, "alice"...)
	entries, refs := decodeRoots([]item{
		{ObjectID: 257, Type: rootItemKey, Data: root},
		{ObjectID: 257, Type: rootBackrefKey, Offset: 5, Data: ref},
		{ObjectID: 258, Type: rootItemKey, Data: root[:100]}, // too old a format: skipped
	})
	if len(entries) != 1 || entries[0].ID != 257 || entries[0].UUID != "01020304-0506-0708-090a-0b0c0d0e0f10" ||
		entries[0].ParentUUID != "aa020304-0506-0708-090a-0b0c0d0e0f10" {
		t.Errorf("entries %+v", entries)
	}
	if r := refs[257]; r.parent != 5 || r.dirID != 256 || r.name != "alice" {
		t.Errorf("ref %+v", r)
	}
}

func TestAdvance(t *testing.T) {
	k := searchKey{}
	if !advance(&k, item{ObjectID: 3, Type: 7, Offset: 9}) || k.MinObjectID != 3 || k.MinType != 7 || k.MinOffset != 10 {
		t.Errorf("advance: %+v", k)
	}
	if !advance(&k, item{ObjectID: 3, Type: 7, Offset: ^uint64(0)}) || k.MinType != 8 || k.MinOffset != 0 {
		t.Errorf("advance over offset: %+v", k)
	}
	if !advance(&k, item{ObjectID: 3, Type: 255, Offset: ^uint64(0)}) || k.MinObjectID != 4 || k.MinType != 0 {
		t.Errorf("advance over type: %+v", k)
	}
	if advance(&k, item{ObjectID: ^uint64(0), Type: 255, Offset: ^uint64(0)}) {
		t.Error("advance past the last key")
	}
}

func TestFormatUUID(t *testing.T) {
	if got := formatUUID(make([]byte, 16)); got != "" {
		t.Errorf("zero uuid = %q", got)
	}
}

// TestReadSysfsQuota: the qgroup flags as sysfs shows them; anything else
// sends QuotaState to the quota tree.
func TestReadSysfsQuota(t *testing.T) {
	fsid := [16]byte{0x69, 0xaa, 0x35, 0x19, 0x23, 0x95, 0x4d, 0x4c, 0x99, 0xaf, 0x2f, 0xd5, 0x94, 0x26, 0xa6, 0x37}
	if got, want := uuidString(fsid), "69aa3519-2395-4d4c-99af-2fd59426a637"; got != want {
		t.Fatalf("uuidString = %s, want %s", got, want)
	}
	root := t.TempDir()
	dir := filepath.Join(root, uuidString(fsid), "qgroups")
	if _, ok := readSysfsQuota(root, fsid); ok {
		t.Error("no qgroups directory (qgroups off, or an older kernel): want ok false")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for content, want := range map[string]QuotaState{
		"0\n": {Enabled: true},
		"1\n": {Enabled: true, Inconsistent: true},
	} {
		if err := os.WriteFile(filepath.Join(dir, "inconsistent"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if got, ok := readSysfsQuota(root, fsid); !ok || got != want {
			t.Errorf("inconsistent=%q: %+v %v, want %+v true", content, got, ok, want)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "inconsistent"), []byte("?"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok := readSysfsQuota(root, fsid); ok {
		t.Error("an unknown value: want ok false")
	}
}
