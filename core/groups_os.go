package core

import (
	"context"
	"slices"
)

// groupOS makes the Linux group follow the state's group when the host runs
// plugins; a host without plugins keeps groups as state only.
func (s *Service) groupOSCreate(ctx context.Context, g *Group) error {
	if s.plugins == nil {
		return nil
	}
	a := s.plugins.Accounts()
	if _, err := a.GetGroup(ctx, g.Name); err == nil {
		return &Error{Code: AlreadyExists, Field: "name", Message: "group " + g.Name + " already exists on this machine"}
	} else if perr := FromPluginError(err); !IsCode(perr, NotFound) {
		return perr
	}
	for _, m := range g.Members {
		if _, err := s.UserGet(ctx, m); err != nil {
			return InvalidField("members", "%s is not a managed user", m)
		}
	}
	og, err := a.CreateGroup(ctx, g.Name, uint32(g.GID))
	if err != nil {
		return FromPluginError(err)
	}
	g.GID = int(og.GID)
	if len(g.Members) > 0 {
		if _, err := a.SetGroupMembers(ctx, g.Name, g.Members); err != nil {
			_ = a.DeleteGroup(ctx, g.Name)
			return FromPluginError(err)
		}
	}
	return nil
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
	g, err := s.GroupGet(ctx, group)
	if err != nil {
		return Group{}, err
	}
	members := slices.Clone(g.Members)
	if add {
		if s.plugins != nil {
			if _, err := s.UserGet(ctx, user); err != nil {
				return Group{}, InvalidField("user", "%s is not a managed user", user)
			}
		}
		if !slices.Contains(members, user) {
			members = append(members, user)
		}
	} else {
		members = slices.DeleteFunc(members, func(m string) bool { return m == user })
	}
	slices.Sort(members)
	if s.plugins != nil {
		if _, err := s.plugins.Accounts().SetGroupMembers(ctx, group, members); err != nil {
			return Group{}, FromPluginError(err)
		}
	}
	g.Members = members
	err = s.store.Update(func(tx Tx) error { return putJSON(tx, keyGroup+group, g) })
	return g, err
}
