package posixacl

import (
	"encoding/binary"
	"errors"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/aclfs"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// The extended attributes the kernel keeps POSIX ACLs in.
const (
	xattrAccess  = "system.posix_acl_access"
	xattrDefault = "system.posix_acl_default"
)

// The binary format of those attributes (linux/posix_acl_xattr.h): a
// little-endian u32 version 2, then one 8-byte record per entry: u16 tag,
// u16 perm, u32 id (undefinedID for the entries without a qualifier).
const (
	xattrVersion = 2
	headerSize   = 4
	recordSize   = 8
	undefinedID  = 0xFFFFFFFF
)

// tag is an entry's kind. The values grow in the order the kernel wants
// entries in, so sorting by (tag, id) yields a valid ACL.
type tag uint16

const (
	tagUserObj  tag = 0x01
	tagUser     tag = 0x02
	tagGroupObj tag = 0x04
	tagGroup    tag = 0x08
	tagMask     tag = 0x10
	tagOther    tag = 0x20
)

// entry is one ACL entry as the kernel stores it.
type entry struct {
	Tag  tag
	Perm uint16
	ID   uint32
}

// decode parses an ACL attribute.
func decode(b []byte) ([]entry, error) {
	if len(b) < headerSize || (len(b)-headerSize)%recordSize != 0 {
		return nil, errors.New("malformed ACL attribute: bad length")
	}
	if v := binary.LittleEndian.Uint32(b); v != xattrVersion {
		return nil, errors.New("malformed ACL attribute: unknown version")
	}
	out := make([]entry, 0, (len(b)-headerSize)/recordSize)
	for off := headerSize; off < len(b); off += recordSize {
		out = append(out, entry{
			Tag:  tag(binary.LittleEndian.Uint16(b[off:])),
			Perm: binary.LittleEndian.Uint16(b[off+2:]),
			ID:   binary.LittleEndian.Uint32(b[off+4:]),
		})
	}
	return out, nil
}

// encode renders an ACL attribute.
func encode(l []entry) []byte {
	b := make([]byte, headerSize, headerSize+recordSize*len(l))
	binary.LittleEndian.PutUint32(b, xattrVersion)
	for _, e := range l {
		b = binary.LittleEndian.AppendUint16(b, uint16(e.Tag))
		b = binary.LittleEndian.AppendUint16(b, e.Perm)
		b = binary.LittleEndian.AppendUint32(b, e.ID)
	}
	return b
}

// readXattr returns the ACL in attribute name of n; nil when n has none or
// the filesystem keeps no ACLs.
func readXattr(n *aclfs.Node, name string) ([]entry, error) {
	buf := make([]byte, 256)
	for {
		size, err := unix.Getxattr(n.ProcPath(), name, buf)
		switch {
		case errors.Is(err, unix.ENODATA), errors.Is(err, unix.EOPNOTSUPP):
			return nil, nil
		case errors.Is(err, unix.ERANGE):
			if size, err = unix.Getxattr(n.ProcPath(), name, nil); err != nil {
				return nil, aclfs.PathError(n.Path, err)
			}
			buf = make([]byte, size)
			continue
		case err != nil:
			return nil, aclfs.PathError(n.Path, err)
		}
		l, err := decode(buf[:size])
		if err != nil {
			return nil, sdkerr.Wrap(err, sdkerr.Internal, "%s: %s: %v", n.Path, name, err)
		}
		return l, nil
	}
}

// writeXattr stores l in attribute name of n, or removes the attribute
// when l is empty.
func writeXattr(n *aclfs.Node, name string, l []entry) error {
	var err error
	if len(l) == 0 {
		err = unix.Removexattr(n.ProcPath(), name)
		if errors.Is(err, unix.ENODATA) {
			err = nil
		}
	} else {
		err = unix.Setxattr(n.ProcPath(), name, encode(l), 0)
	}
	if err != nil {
		return aclfs.PathError(n.Path, err)
	}
	return nil
}
