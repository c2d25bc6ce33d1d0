package posixacl

import (
	"errors"
	"os/user"
	"strconv"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/aclfs"
	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

var tagOf = map[acl.Tag]tag{
	acl.TagUserObj: tagUserObj, acl.TagUser: tagUser, acl.TagGroupObj: tagGroupObj,
	acl.TagGroup: tagGroup, acl.TagMask: tagMask, acl.TagOther: tagOther,
}

// changes is a request's entries in kernel form, split by ACL.
type changes struct {
	access, def []entry
}

// resolve turns contract entries into kernel entries, looking names up in
// the user database (numeric qualifiers are taken as ids). An unknown name
// is NotFound, unless skipUnknown: a revoke of an entry for a user who does
// not exist has nothing to remove.
func resolve(entries []acl.Entry, skipUnknown bool) (changes, error) {
	var c changes
	for _, e := range entries {
		t, ok := tagOf[e.Tag]
		if !ok {
			return changes{}, sdkerr.Invalid("entries.tag", "unknown tag %q", e.Tag)
		}
		id := uint32(undefinedID)
		if t == tagUser || t == tagGroup {
			var err error
			if id, err = lookupID(t, e.Qualifier); err != nil {
				if skipUnknown && sdkerr.Is(err, sdkerr.NotFound) {
					continue
				}
				return changes{}, err
			}
		}
		k := entry{Tag: t, Perm: aclfs.PermBits(e.Perms), ID: id}
		if e.Default {
			c.def = append(c.def, k)
		} else {
			c.access = append(c.access, k)
		}
	}
	return c, nil
}

func lookupID(t tag, q string) (uint32, error) {
	if n, err := strconv.ParseUint(q, 10, 32); err == nil && n != undefinedID {
		return uint32(n), nil
	}
	var (
		id  string
		err error
	)
	if t == tagUser {
		var u *user.User
		if u, err = user.Lookup(q); err == nil {
			id = u.Uid
		}
	} else {
		var g *user.Group
		if g, err = user.LookupGroup(q); err == nil {
			id = g.Gid
		}
	}
	var unknownUser user.UnknownUserError
	var unknownGroup user.UnknownGroupError
	switch {
	case errors.As(err, &unknownUser), errors.As(err, &unknownGroup):
		return 0, sdkerr.Errorf(sdkerr.NotFound, "%s %q does not exist", kind(t), q)
	case err != nil:
		return 0, sdkerr.Wrap(err, sdkerr.Internal, "look up %s %q: %v", kind(t), q, err)
	}
	n, err := strconv.ParseUint(id, 10, 32)
	if err != nil {
		return 0, sdkerr.Errorf(sdkerr.Internal, "%s %q has id %q", kind(t), q, id)
	}
	return uint32(n), nil
}

func kind(t tag) string {
	if t == tagGroup {
		return "group"
	}
	return "user"
}

// nameOf renders a qualifier as getfacl does: the name when the id has
// one, else the number.
func nameOf(t tag, id uint32) string {
	s := strconv.FormatUint(uint64(id), 10)
	if t == tagUser {
		if u, err := user.LookupId(s); err == nil {
			return u.Username
		}
	} else if g, err := user.LookupGroupId(s); err == nil {
		return g.Name
	}
	return s
}

// toContract renders kernel entries as contract entries.
func toContract(l []entry, isDefault bool) []acl.Entry {
	out := make([]acl.Entry, 0, len(l))
	for _, e := range l {
		c := acl.Entry{Perms: aclfs.PermString(e.Perm), Default: isDefault}
		for ct, kt := range tagOf {
			if kt == e.Tag {
				c.Tag = ct
			}
		}
		if e.Tag == tagUser || e.Tag == tagGroup {
			c.Qualifier = nameOf(e.Tag, e.ID)
		}
		out = append(out, c)
	}
	return out
}
