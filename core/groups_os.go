package core

import (
	"context"
	"path/filepath"
	"slices"

	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// setOSMember adds user to (or takes it out of) the Linux group, starting
// from the members the machine lists now: a member the machine has that
// the state lacks stays, and one whose account is being deleted (userdel
// takes it out of its groups) is gone. A member that vanishes between the
// read and the write (NotFound) makes it read again, a few times.
func (s *Service) setOSMember(ctx context.Context, group, user string, add bool) error {
	a := s.plugins.Accounts()
	var err error
	for range 3 {
		og, gerr := a.GetGroup(ctx, group)
		if gerr != nil {
			return FromPluginError(gerr)
		}
		members := slices.DeleteFunc(slices.Clone(og.Members), func(m string) bool { return m == user })
		if add {
			members = append(members, user)
		}
		slices.Sort(members)
		if _, err = a.SetGroupMembers(ctx, group, members); !sdkerr.Is(err, sdkerr.NotFound) {
			break
		}
	}
	return FromPluginError(err)
}

// sharedRoot is the directory that holds the groups' shared volumes.
func (s *Service) sharedRoot() string { return filepath.Join(s.cfg.HomeRoot, "groups") }

// sharedCreate makes g's shared volume (groupOSCheck found its path
// free): root-owned, of the group, 2770 so that entries made in it belong
// to the group, and the group's rwx as an access and a default ACL
// entry, so what a member creates stays writable by the others whatever
// their umask. A failure is undone by the step's undo (gundoShared).
func (s *Service) sharedCreate(ctx context.Context, g *Group) error {
	path := s.sharedPath(g.Name)
	_, err := s.plugins.Volumes().CreateVolume(ctx, volumes.VolumeSpec{Path: path, Owner: volumes.Owner{GID: uint32(g.GID), Mode: 0o2770}, QuotaBytes: uint64(g.QuotaBytes)})
	if err != nil {
		return FromPluginError(err)
	}
	if err := s.plugins.ACL().Grant(ctx, path, sharedEntries(g.Name), false); err != nil {
		return FromPluginError(err)
	}
	g.Volume = path
	return nil
}

// sharedEntries are the ACL entries of a group's shared volume.
func sharedEntries(group string) []acl.Entry {
	return []acl.Entry{
		{Tag: acl.TagGroup, Qualifier: group, Perms: "rwx"},
		{Tag: acl.TagGroup, Qualifier: group, Perms: "rwx", Default: true},
	}
}

// sharedDelete removes g's shared volume, kept first as a read-only
// snapshot in <home root>/.deleted/ with keepData (retireVolume).
func (s *Service) sharedDelete(ctx context.Context, g Group, keepData bool) error {
	if g.Volume == "" || s.plugins == nil {
		return nil
	}
	if want := filepath.Join(s.sharedRoot(), g.Name); g.Volume != want {
		return Errorf(Internal, "group %s records %s as its shared volume, not %s; refusing to delete it", g.Name, g.Volume, want)
	}
	keep := ""
	if keepData {
		keep = s.deletedPath("group-"+g.Name, s.now())
	}
	return s.retireVolume(ctx, g.Volume, keep)
}

func (s *Service) groupOSDelete(ctx context.Context, name string) error {
	if s.plugins == nil {
		return nil
	}
	return FromPluginError(s.plugins.Accounts().DeleteGroup(ctx, name))
}

// GroupMemberAdd adds a managed user to a group.
func (s *Service) GroupMemberAdd(ctx context.Context, group, user string) (Group, error) {
	return s.groupMembers(ctx, group, user, true)
}

// GroupMemberRemove removes a user from a group.
func (s *Service) GroupMemberRemove(ctx context.Context, group, user string) (Group, error) {
	return s.groupMembers(ctx, group, user, false)
}

func (s *Service) groupMembers(ctx context.Context, group, user string, add bool) (Group, error) {
	if err := ValidateGroupName("name", group); err != nil {
		return Group{}, err
	}
	if err := ValidateUsername("user", user); err != nil {
		return Group{}, err
	}
	unlock := s.locks.Lock("group/" + group)
	defer unlock()
	// The user's lock too: a delete of the user (which takes it out of the
	// state's groups) then runs wholly before or after this change.
	unlockUser := s.locks.Lock(user)
	defer unlockUser()
	if g, err := s.GroupGet(ctx, group); err != nil {
		return Group{}, err
	} else if g.Fleet && !isFleetAgent(ctx) {
		return Group{}, fleetOnly("group "+group, "the group-member commands with --fleet")
	}
	if add && s.plugins != nil {
		if _, err := s.UserGet(ctx, user); err != nil {
			return Group{}, InvalidField("user", "%s is not a managed user", user)
		}
	}
	if s.plugins != nil {
		if err := s.setOSMember(ctx, group, user, add); err != nil {
			return Group{}, err
		}
	}
	// The change is applied to the group as stored now: another user's
	// delete may have taken that user out meanwhile.
	var cur Group
	err := s.store.Update(func(tx Tx) error {
		found, err := getJSON(tx, keyGroup+group, &cur)
		if err == nil && !found {
			err = notFound(ErrKeyNotFound, "group", group)
		}
		if err != nil {
			return err
		}
		cur.Members = slices.DeleteFunc(cur.Members, func(m string) bool { return m == user })
		if add {
			cur.Members = append(cur.Members, user)
			slices.Sort(cur.Members)
		}
		if err := setUserGroup(tx, user, group, add); err != nil {
			return err
		}
		return putJSON(tx, keyGroup+group, cur)
	})
	return cur, err
}
