package aclfs

import (
	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/check"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// The permission bits of an ACL entry, as the kernel stores them.
const (
	PermRead  uint16 = 4
	PermWrite uint16 = 2
	PermExec  uint16 = 1
)

// PermBits turns "r-x" (any subset of rwx, in any order) into bits.
func PermBits(p string) uint16 {
	var b uint16
	for _, c := range p {
		switch c {
		case 'r':
			b |= PermRead
		case 'w':
			b |= PermWrite
		case 'x':
			b |= PermExec
		}
	}
	return b
}

// PermString renders bits in getfacl's form: "r-x".
func PermString(b uint16) string {
	out := []byte("---")
	if b&PermRead != 0 {
		out[0] = 'r'
	}
	if b&PermWrite != 0 {
		out[1] = 'w'
	}
	if b&PermExec != 0 {
		out[2] = 'x'
	}
	return string(out)
}

// ModeEntries is the minimal ACL a mode stands for: the owner, group and
// other classes. (With an extended ACL the mode's group bits are the mask,
// so only the posixacl plugin reads the group entry from the ACL itself.)
func ModeEntries(mode uint32) []acl.Entry {
	return []acl.Entry{
		{Tag: acl.TagUserObj, Perms: PermString(uint16(mode>>6) & 7)},
		{Tag: acl.TagGroupObj, Perms: PermString(uint16(mode>>3) & 7)},
		{Tag: acl.TagOther, Perms: PermString(uint16(mode) & 7)},
	}
}

// ApplyModeEntries returns mode with the classes of entries (user_obj,
// group_obj, other; callers refuse the others first) set to their perms,
// keeping setuid, setgid and sticky.
func ApplyModeEntries(mode uint32, entries []acl.Entry) uint32 {
	for _, e := range entries {
		var shift uint
		switch e.Tag {
		case acl.TagUserObj:
			shift = 6
		case acl.TagGroupObj:
			shift = 3
		case acl.TagOther:
			shift = 0
		default:
			continue
		}
		mode = mode&^(7<<shift) | uint32(PermBits(e.Perms))<<shift
	}
	return mode
}

// CheckRequest repeats the sdk adapter's checks of a Grant or Revoke, so an
// implementation is safe when called directly too.
func CheckRequest(path string, entries []acl.Entry) error {
	if err := check.AbsPath("path", path); err != nil {
		return err
	}
	if len(entries) == 0 {
		return sdkerr.Invalid("entries", "at least one entry is required")
	}
	return acl.ValidateEntries(entries)
}
