package btrfsvol

import (
	"context"
	"encoding/binary"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Keys of <linux/btrfs_tree.h> for the quota groups and the subvolume
// tree's links.
const (
	rootRefKey        = 156 // BTRFS_ROOT_REF_KEY: (parent, ROOT_REF, child)
	qgroupRelationKey = 246 // BTRFS_QGROUP_RELATION_KEY, stored both ways
)

// EnableQuota asks for simple quotas first: there the kernel adds a
// subvolume made inside a volume to the volume's group itself. A kernel
// older than 6.7 answers EINVAL to the command it does not know, and gets
// full qgroups.
func (Ioctl) EnableQuota(_ context.Context, fd int) error {
	a := quotaCtlArgs{Cmd: quotaCtlSimple}
	err := ioctl(fd, iocQuotaCtl, unsafe.Pointer(&a))
	if err == unix.EINVAL || err == unix.EOPNOTSUPP {
		a = quotaCtlArgs{Cmd: quotaCtlEnable}
		err = ioctl(fd, iocQuotaCtl, unsafe.Pointer(&a))
	}
	if err != nil {
		return fmt.Errorf("BTRFS_IOC_QUOTA_CTL enable: %w", err)
	}
	return nil
}

func (Ioctl) SetLimit(_ context.Context, fd int, q, bytes uint64) error {
	a := qgroupLimitArgs{QgroupID: q, Flags: limitMaxRfer, MaxRfer: bytes}
	if bytes == 0 {
		a.MaxRfer = limitClear
	}
	err := ioctl(fd, iocQgroupLimit, unsafe.Pointer(&a))
	switch err {
	case nil:
		return nil
	case unix.ENOTCONN:
		return ErrQuotaDisabled
	case unix.ENOENT:
		return fmt.Errorf("qgroup %s: %w", qgroupName(q), ErrNoQgroup)
	}
	return fmt.Errorf("BTRFS_IOC_QGROUP_LIMIT %s: %w", qgroupName(q), err)
}

func (Ioctl) CreateQgroup(_ context.Context, fd int, q uint64) error {
	a := qgroupCreateArgs{Create: 1, QgroupID: q}
	switch err := ioctl(fd, iocQgroupCreate, unsafe.Pointer(&a)); err {
	case nil, unix.EEXIST:
		return nil
	case unix.ENOTCONN:
		return ErrQuotaDisabled
	default:
		return fmt.Errorf("BTRFS_IOC_QGROUP_CREATE %s: %w", qgroupName(q), err)
	}
}

func (Ioctl) DestroyQgroup(_ context.Context, fd int, q uint64) error {
	a := qgroupCreateArgs{Create: 0, QgroupID: q}
	err := ioctl(fd, iocQgroupCreate, unsafe.Pointer(&a))
	switch err {
	case nil, unix.ENOENT, unix.ENOTCONN:
		return nil
	case unix.EBUSY:
		return ErrQgroupBusy
	}
	return fmt.Errorf("BTRFS_IOC_QGROUP_CREATE destroy %s: %w", qgroupName(q), err)
}

// Relate adds or removes a relation. The kernel answers a positive value
// when it marked the accounting inconsistent; QuotaState tells the caller.
func (Ioctl) Relate(_ context.Context, fd int, child, parent uint64, add bool) error {
	a := qgroupAssignArgs{Src: child, Dst: parent}
	if add {
		a.Assign = 1
	}
	err := ioctl(fd, iocQgroupAssign, unsafe.Pointer(&a))
	switch {
	case err == nil, add && err == unix.EEXIST, !add && err == unix.ENOENT:
		return nil
	case err == unix.ENOTCONN:
		return ErrQuotaDisabled
	}
	verb := "assign"
	if !add {
		verb = "remove"
	}
	return fmt.Errorf("BTRFS_IOC_QGROUP_ASSIGN %s %s %s: %w", verb, qgroupName(child), qgroupName(parent), err)
}

// Parents reads q's relation items: the quota tree keeps each relation
// twice, (child, RELATION, parent) and (parent, RELATION, child), so of
// the items keyed by q those naming a higher level are its parents.
func (Ioctl) Parents(_ context.Context, fd int, q uint64) ([]uint64, error) {
	items, err := treeSearch(fd, quotaTreeID, item{ObjectID: q, Type: qgroupRelationKey},
		item{ObjectID: q, Type: qgroupRelationKey, Offset: ^uint64(0)})
	if err == unix.ENOENT {
		return nil, ErrQuotaDisabled
	} else if err != nil {
		return nil, fmt.Errorf("BTRFS_IOC_TREE_SEARCH quota relations of %s: %w", qgroupName(q), err)
	}
	return parentsFromItems(q, items), nil
}

func parentsFromItems(q uint64, items []item) []uint64 {
	var out []uint64
	for _, it := range items {
		if it.ObjectID == q && it.Type == qgroupRelationKey && qgroupLevel(it.Offset) > qgroupLevel(q) {
			out = append(out, it.Offset)
		}
	}
	return out
}

// Nested walks the ROOT_REF items down from subvolume id: each names a
// child subvolume, the directory of the parent it sits in and its name
// there. The directory's path inside the parent comes from INO_LOOKUP.
func (Ioctl) Nested(_ context.Context, fd int, id uint64) ([]SubvolEntry, error) {
	var out []SubvolEntry
	type level struct {
		id     uint64
		prefix string
	}
	queue := []level{{id, ""}}
	for len(queue) > 0 && len(out) < maxNested {
		cur := queue[0]
		queue = queue[1:]
		refs, err := childRefs(fd, cur.id)
		if err != nil {
			return nil, err
		}
		for _, r := range refs {
			p := cur.prefix + r.dir + r.name
			out = append(out, SubvolEntry{ID: r.child, Path: p})
			queue = append(queue, level{r.child, p + "/"})
		}
	}
	return out, nil
}

// maxNested bounds the walk: a user who made more subvolumes than this
// inside one home is reported for what was found.
const maxNested = 100000

// childRef is a subvolume inside another: its id, the directory of the
// parent holding it (as a path relative to the parent's root, ending in
// "/", or "") and its name there.
type childRef struct {
	child     uint64
	dir, name string
}

// childRefs lists the subvolumes directly inside subvolume id.
func childRefs(fd int, id uint64) ([]childRef, error) {
	items, err := treeSearch(fd, rootTreeID, item{ObjectID: id, Type: rootRefKey},
		item{ObjectID: id, Type: rootRefKey, Offset: ^uint64(0)})
	if err != nil {
		return nil, fmt.Errorf("BTRFS_IOC_TREE_SEARCH root refs of %d: %w", id, err)
	}
	var out []childRef
	for _, it := range items {
		dirID, name, ok := decodeRef(it)
		if !ok || it.ObjectID != id || it.Type != rootRefKey {
			continue
		}
		dir, err := dirPath(fd, id, dirID)
		if err != nil {
			continue // the directory went away: so did the child's link
		}
		out = append(out, childRef{child: it.Offset, dir: dir, name: name})
	}
	return out, nil
}

// decodeRef reads a ROOT_REF or ROOT_BACKREF item: dirid, sequence,
// name_len, name.
func decodeRef(it item) (dirID uint64, name string, ok bool) {
	if len(it.Data) < 18 {
		return 0, "", false
	}
	n := int(binary.LittleEndian.Uint16(it.Data[16:]))
	if 18+n > len(it.Data) {
		return 0, "", false
	}
	return binary.LittleEndian.Uint64(it.Data[0:]), string(it.Data[18 : 18+n]), true
}

// dirPath is directory dirID's path inside subvolume tree, "" for the
// subvolume's root directory, else ending in "/".
func dirPath(fd int, tree, dirID uint64) (string, error) {
	if dirID == firstFreeObjectID {
		return "", nil
	}
	a := inoLookupArgs{TreeID: tree, ObjectID: dirID}
	if err := ioctl(fd, iocInoLookup, unsafe.Pointer(&a)); err != nil {
		return "", fmt.Errorf("BTRFS_IOC_INO_LOOKUP %d/%d: %w", tree, dirID, err)
	}
	return cstring(a.Name[:]), nil
}
