package btrfsvol

import (
	"context"
	"fmt"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Ioctl is the fork-free Backend: it drives the btrfs ioctls of
// <linux/btrfs.h> directly, which makes a volume in a few system calls
// instead of a few btrfs-progs processes.
type Ioctl struct{}

var _ Backend = Ioctl{}

// Request numbers and flags from <linux/btrfs.h> (x86-64 and arm64 share
// them); ioctl_test.go checks the argument sizes they encode.
const (
	iocSubvolCreate      = 0x5000940e // _IOW(0x94, 14, struct btrfs_ioctl_vol_args)
	iocSnapDestroy       = 0x5000940f // _IOW(0x94, 15, struct btrfs_ioctl_vol_args)
	iocTreeSearch        = 0xd0009411 // _IOWR(0x94, 17, struct btrfs_ioctl_search_args)
	iocInoLookup         = 0xd0009412 // _IOWR(0x94, 18, struct btrfs_ioctl_ino_lookup_args)
	iocWaitSync          = 0x40089416 // _IOW(0x94, 22, __u64)
	iocSnapCreateV2      = 0x50009417 // _IOW(0x94, 23, struct btrfs_ioctl_vol_args_v2)
	iocStartSync         = 0x80089418 // _IOR(0x94, 24, __u64)
	iocQuotaCtl          = 0xc0109428 // _IOWR(0x94, 40, struct btrfs_ioctl_quota_ctl_args)
	iocQgroupAssign      = 0x40189429 // _IOW(0x94, 41, struct btrfs_ioctl_qgroup_assign_args)
	iocQgroupCreate      = 0x4010942a // _IOW(0x94, 42, struct btrfs_ioctl_qgroup_create_args)
	iocQgroupLimit       = 0x8030942b // _IOR(0x94, 43, struct btrfs_ioctl_qgroup_limit_args)
	iocQuotaRescan       = 0x4040942c // _IOW(0x94, 44, struct btrfs_ioctl_quota_rescan_args)
	iocQuotaRescanStatus = 0x8040942d // _IOR(0x94, 45, struct btrfs_ioctl_quota_rescan_args)
	iocQuotaRescanWait   = 0x942e     // _IO(0x94, 46)
	iocFSInfo            = 0x8400941f // _IOR(0x94, 31, struct btrfs_ioctl_fs_info_args)
	iocGetSubvolInfo     = 0x81f8943c // _IOR(0x94, 60, struct btrfs_ioctl_get_subvol_info_args)

	subvolRdonly      = 1 << 1 // BTRFS_SUBVOL_RDONLY, vol_args_v2.flags
	rootSubvolRdonly  = 1 << 0 // BTRFS_ROOT_SUBVOL_RDONLY, root item flags
	quotaCtlEnable    = 1      // BTRFS_QUOTA_CTL_ENABLE
	quotaCtlSimple    = 4      // BTRFS_QUOTA_CTL_ENABLE_SIMPLE_QUOTA (Linux ≥ 6.7)
	limitMaxRfer      = 1 << 0 // BTRFS_QGROUP_LIMIT_MAX_RFER
	limitClear        = ^uint64(0)
	volNameMax        = 4087 // BTRFS_PATH_NAME_MAX
	subvolNameMax     = 4039 // BTRFS_SUBVOL_NAME_MAX
	inoLookupPathMax  = 4080 // BTRFS_INO_LOOKUP_PATH_MAX
	searchBufSize     = 4096 - int(unsafe.Sizeof(searchKey{}))
	searchHeaderBytes = 32
)

// fsInfoArgs is struct btrfs_ioctl_fs_info_args, of which only the fsid
// is read.
type fsInfoArgs struct {
	MaxID      uint64
	NumDevices uint64
	FSID       [16]byte
	Rest       [992]byte
}

type volArgs struct {
	FD   int64
	Name [volNameMax + 1]byte
}

type volArgsV2 struct {
	FD      int64
	TransID uint64
	Flags   uint64
	Unused  [4]uint64
	Name    [subvolNameMax + 1]byte
}

type quotaCtlArgs struct{ Cmd, Status uint64 }

type quotaRescanArgs struct {
	Flags, Progress uint64
	Reserved        [6]uint64
}

type qgroupCreateArgs struct{ Create, QgroupID uint64 }

type qgroupAssignArgs struct{ Assign, Src, Dst uint64 }

type qgroupLimitArgs struct {
	QgroupID                                  uint64
	Flags, MaxRfer, MaxExcl, RsvRfer, RsvExcl uint64
}

type ioctlTimespec struct {
	Sec  uint64
	Nsec uint32
	_    uint32
}

type subvolInfoArgs struct {
	TreeID                               uint64
	Name                                 [256]byte
	ParentID, DirID, Generation, Flags   uint64
	UUID, ParentUUID, ReceivedUUID       [16]byte
	CTransID, OTransID, STransID, RTrans uint64
	CTime, OTime, STime, RTime           ioctlTimespec
	Reserved                             [8]uint64
}

type inoLookupArgs struct {
	TreeID, ObjectID uint64
	Name             [inoLookupPathMax]byte
}

// ioctl issues one request, retrying when a signal interrupted it.
func ioctl(fd int, req uintptr, arg unsafe.Pointer) error {
	for {
		_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(arg))
		switch e {
		case 0:
			return nil
		case unix.EINTR:
			continue
		}
		return e
	}
}

// setName copies name into a fixed, NUL-terminated ioctl buffer.
func setName(dst []byte, name string) error {
	if len(name) >= len(dst) || name == "" {
		return fmt.Errorf("subvolume name %q: %w", name, unix.ENAMETOOLONG)
	}
	copy(dst, name)
	return nil
}

func (Ioctl) Name() string { return "ioctl" }

func (Ioctl) SubvolInfo(_ context.Context, fd int) (SubvolInfo, error) {
	if ok, err := isSubvolRoot(fd); err != nil || !ok {
		return SubvolInfo{}, firstErr(err, ErrNotSubvolume)
	}
	var a subvolInfoArgs
	if err := ioctl(fd, iocGetSubvolInfo, unsafe.Pointer(&a)); err != nil {
		return SubvolInfo{}, fmt.Errorf("BTRFS_IOC_GET_SUBVOL_INFO: %w", err)
	}
	return SubvolInfo{
		ID:         a.TreeID,
		UUID:       formatUUID(a.UUID[:]),
		ParentUUID: formatUUID(a.ParentUUID[:]),
		ReadOnly:   a.Flags&rootSubvolRdonly != 0,
		Created:    time.Unix(int64(a.OTime.Sec), int64(a.OTime.Nsec)),
	}, nil
}

// isSubvolRoot reports whether fd is the root directory of a btrfs
// subvolume: a btrfs directory whose inode number is 256.
func isSubvolRoot(fd int) (bool, error) {
	var fs unix.Statfs_t
	if err := unix.Fstatfs(fd, &fs); err != nil {
		return false, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return false, err
	}
	return fs.Type == unix.BTRFS_SUPER_MAGIC && st.Mode&unix.S_IFMT == unix.S_IFDIR && st.Ino == firstFreeObjectID, nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func (Ioctl) CreateSubvolume(_ context.Context, dirfd int, name string) error {
	var a volArgs
	if err := setName(a.Name[:], name); err != nil {
		return err
	}
	if err := ioctl(dirfd, iocSubvolCreate, unsafe.Pointer(&a)); err != nil {
		return fmt.Errorf("BTRFS_IOC_SUBVOL_CREATE %q: %w", name, err)
	}
	return nil
}

func (Ioctl) Snapshot(_ context.Context, srcfd, dirfd int, name string, readOnly bool) error {
	a := volArgsV2{FD: int64(srcfd)}
	if readOnly {
		a.Flags = subvolRdonly
	}
	if err := setName(a.Name[:], name); err != nil {
		return err
	}
	if err := ioctl(dirfd, iocSnapCreateV2, unsafe.Pointer(&a)); err != nil {
		return fmt.Errorf("BTRFS_IOC_SNAP_CREATE_V2 %q: %w", name, err)
	}
	return nil
}

func (Ioctl) DeleteSubvolume(_ context.Context, dirfd int, name string) error {
	var a volArgs
	if err := setName(a.Name[:], name); err != nil {
		return err
	}
	if err := ioctl(dirfd, iocSnapDestroy, unsafe.Pointer(&a)); err != nil {
		return fmt.Errorf("BTRFS_IOC_SNAP_DESTROY %q: %w", name, err)
	}
	return commit(dirfd)
}

// commit ends the running transaction and waits for it, as btrfs-progs'
// --commit-after does, without flushing every file's dirty data first.
func commit(fd int) error {
	var transid uint64
	if err := ioctl(fd, iocStartSync, unsafe.Pointer(&transid)); err != nil {
		return fmt.Errorf("BTRFS_IOC_START_SYNC: %w", err)
	}
	if err := ioctl(fd, iocWaitSync, unsafe.Pointer(&transid)); err != nil {
		return fmt.Errorf("BTRFS_IOC_WAIT_SYNC: %w", err)
	}
	return nil
}

// WaitRescan blocks in the kernel; a cancelled ctx returns early and leaves
// the wait to finish on its own.
func (Ioctl) WaitRescan(ctx context.Context, fd int) error {
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() {
		defer unix.Close(dup)
		done <- ioctl(dup, iocQuotaRescanWait, nil)
	}()
	select {
	case err := <-done:
		if err != nil && err != unix.ENOTCONN {
			return fmt.Errorf("BTRFS_IOC_QUOTA_RESCAN_WAIT: %w", err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (Ioctl) StartRescan(_ context.Context, fd int) error {
	var a quotaRescanArgs
	switch err := ioctl(fd, iocQuotaRescan, unsafe.Pointer(&a)); err {
	case nil, unix.EINPROGRESS:
		return nil
	case unix.ENOTCONN:
		return ErrQuotaDisabled
	default:
		return fmt.Errorf("BTRFS_IOC_QUOTA_RESCAN: %w", err)
	}
}
