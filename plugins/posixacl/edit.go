package posixacl

import (
	"slices"
)

// This file is the ACL algebra, free of I/O so unit tests can table it:
// what setfacl -m and -x do to an ACL, which the integration tests
// cross-check against the real setfacl.

// fromMode is the minimal access ACL a mode stands for.
func fromMode(mode uint32) []entry {
	return []entry{
		{Tag: tagUserObj, Perm: uint16(mode>>6) & 7, ID: undefinedID},
		{Tag: tagGroupObj, Perm: uint16(mode>>3) & 7, ID: undefinedID},
		{Tag: tagOther, Perm: uint16(mode) & 7, ID: undefinedID},
	}
}

// minimal reports whether l is just the three base entries, which the
// kernel keeps in the mode bits rather than in an attribute.
func minimal(l []entry) bool {
	return !slices.ContainsFunc(l, func(e entry) bool {
		return e.Tag != tagUserObj && e.Tag != tagGroupObj && e.Tag != tagOther
	})
}

// modeBits is the rwx part of the mode a minimal ACL stands for.
func modeBits(l []entry) uint32 {
	var m uint32
	for _, e := range l {
		switch e.Tag {
		case tagUserObj:
			m |= uint32(e.Perm&7) << 6
		case tagGroupObj:
			m |= uint32(e.Perm&7) << 3
		case tagOther:
			m |= uint32(e.Perm & 7)
		}
	}
	return m
}

func compare(a, b entry) int {
	if a.Tag != b.Tag {
		return int(a.Tag) - int(b.Tag)
	}
	switch {
	case a.ID < b.ID:
		return -1
	case a.ID > b.ID:
		return 1
	}
	return 0
}

func find(l []entry, t tag, id uint32) int {
	return slices.IndexFunc(l, func(e entry) bool { return e.Tag == t && e.ID == id })
}

// set replaces the entry of the same tag and id, or inserts e in order.
func set(l []entry, e entry) []entry {
	i, found := slices.BinarySearchFunc(l, e, compare)
	if found {
		l[i] = e
		return l
	}
	return slices.Insert(l, i, e)
}

func hasNamed(l []entry) bool {
	return slices.ContainsFunc(l, func(e entry) bool { return e.Tag == tagUser || e.Tag == tagGroup })
}

// fixMask does what setfacl does after changing an ACL: when the ACL is
// more than the three base entries it needs a mask (a copy of the owning
// group's entry if it has none), and unless the change named the mask
// itself, the mask becomes the union of the group class: the owning
// group, the named users and the named groups.
func fixMask(l []entry, maskGiven bool) []entry {
	if minimal(l) {
		return l
	}
	if i := find(l, tagMask, undefinedID); i < 0 && !maskGiven {
		g := find(l, tagGroupObj, undefinedID)
		if g >= 0 {
			l = set(l, entry{Tag: tagMask, Perm: l[g].Perm, ID: undefinedID})
		}
	}
	if maskGiven {
		return l
	}
	var union uint16
	for _, e := range l {
		if e.Tag == tagGroupObj || e.Tag == tagUser || e.Tag == tagGroup {
			union |= e.Perm
		}
	}
	if i := find(l, tagMask, undefinedID); i >= 0 {
		l[i].Perm = union
	}
	return l
}

// grant applies mods to a copy of l as setfacl -m does.
func grant(l, mods []entry) []entry {
	l = slices.Clone(l)
	maskGiven := false
	for _, m := range mods {
		l = set(l, m)
		maskGiven = maskGiven || m.Tag == tagMask
	}
	return fixMask(l, maskGiven)
}

// seedDefault fills the base entries a default ACL lacks from the access
// ACL, as setfacl does when the first default entry is added.
func seedDefault(def, access []entry) []entry {
	if len(def) == 0 {
		return def
	}
	for _, t := range []tag{tagUserObj, tagGroupObj, tagOther} {
		if find(def, t, undefinedID) < 0 {
			if i := find(access, t, undefinedID); i >= 0 {
				def = set(def, access[i])
			}
		}
	}
	return def
}

// grantDefault applies mods to a directory's default ACL: seeded from the
// access ACL, then its mask fixed.
func grantDefault(def, access, mods []entry) []entry {
	def = slices.Clone(def)
	maskGiven := false
	for _, m := range mods {
		def = set(def, m)
		maskGiven = maskGiven || m.Tag == tagMask
	}
	return fixMask(seedDefault(def, access), maskGiven)
}

// revoke removes the entries of mods (matched by tag and id) from a copy
// of l, as setfacl -x does, except that a revoke never widens anyone's
// access: the recomputed mask stays within the old one, nothing is
// recomputed when nothing was removed, and removing the mask first
// narrows the owning group's entry to it (as setfacl -b does). ok is false
// when the mask is asked to go while named entries remain, which no valid
// ACL allows.
func revoke(l, mods []entry) (out []entry, ok bool) {
	l = slices.Clone(l)
	oldMask, hadMask := uint16(7), false
	if i := find(l, tagMask, undefinedID); i >= 0 {
		oldMask, hadMask = l[i].Perm, true
	}
	removed, maskRemoved := false, false
	for _, m := range mods {
		i := find(l, m.Tag, m.ID)
		if i < 0 {
			continue
		}
		if m.Tag == tagMask {
			maskRemoved = true
			if g := find(l, tagGroupObj, undefinedID); g >= 0 {
				l[g].Perm &= l[i].Perm
			}
		}
		l, removed = slices.Delete(l, i, i+1), true
	}
	switch {
	case maskRemoved && hasNamed(l):
		return nil, false
	case !removed || maskRemoved:
		return l, true
	}
	l = fixMask(l, false)
	if i := find(l, tagMask, undefinedID); i >= 0 && hadMask {
		l[i].Perm &= oldMask
	}
	return l, true
}

// writes reports whether anyone but the owner may write under l.
func writes(l []entry) bool {
	return slices.ContainsFunc(l, func(e entry) bool { return e.Tag != tagUserObj && e.Perm&2 != 0 })
}
