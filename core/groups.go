package core

import (
	"context"
	"slices"
)

// GroupCreate validates a group, makes it on the machine (the Linux group,
// its members, its shared volume: all or nothing, see groupOSCreate) and
// stores it. A host without plugins keeps it as state only.
func (s *Service) GroupCreate(ctx context.Context, g Group) (Group, error) {
	if err := ValidateGroupName("name", g.Name); err != nil {
		return Group{}, err
	}
	if len(g.Description) > 256 {
		return Group{}, InvalidField("description", "at most 256 characters")
	}
	members := make([]string, 0, len(g.Members))
	for _, m := range g.Members {
		if err := ValidateUsername("members", m); err != nil {
			return Group{}, err
		}
		if !slices.Contains(members, m) {
			members = append(members, m)
		}
	}
	slices.Sort(members)
	g.Members = members
	switch {
	case g.QuotaBytes < 0:
		return Group{}, InvalidField("quota", "must not be negative")
	case g.QuotaBytes > 0 && !g.Shared:
		return Group{}, InvalidField("quota", "is the shared volume's limit: ask for shared too")
	case g.Shared && s.plugins == nil:
		return Group{}, Errorf(Unavailable, "a shared volume needs the OS plugins, and none run on this host")
	}
	g.Volume = ""
	g.Created = s.now().UTC()
	unlock := s.locks.Lock(groupKey(g.Name))
	defer unlock()
	if _, err := s.GroupGet(ctx, g.Name); err == nil {
		return Group{}, &Error{Code: AlreadyExists, Field: "name", Message: "group " + g.Name + " already exists"}
	}
	j, err := s.groupOSCreate(ctx, &g)
	if err != nil {
		return Group{}, err
	}
	record := func(tx Tx) error {
		var old Group
		found, err := getJSON(tx, keyGroup+g.Name, &old)
		if err != nil {
			return err
		}
		if found {
			return &Error{Code: AlreadyExists, Field: "name", Message: "group " + g.Name + " already exists"}
		}
		for _, m := range g.Members {
			if err := setUserGroup(tx, m, g.Name, true); err != nil {
				return err
			}
		}
		return putJSON(tx, keyGroup+g.Name, g)
	}
	if j == nil {
		return g, s.store.Update(record)
	}
	// The record and the end of the journal are one transaction: a crash
	// before it rolls the group back, after it the group is complete.
	err = failpoint(opGroupCreate + ".record.before")
	if err == nil {
		err = j.finish(record)
	}
	if err != nil {
		s.abortGroupCreate(ctx, j)
		return Group{}, stepError("record", err)
	}
	_ = failpoint(opGroupCreate + ".record.after") // a crash here leaves the group complete
	return g, nil
}

// GroupDelete removes a group, and its shared volume if it has one (first
// kept as a read-only snapshot with keepData); a missing group is NotFound.
func (s *Service) GroupDelete(ctx context.Context, name string, keepData bool) error {
	if err := ValidateGroupName("name", name); err != nil {
		return err
	}
	unlock := s.locks.Lock("group/" + name)
	defer unlock()
	g, err := s.GroupGet(ctx, name)
	if err != nil {
		return err
	}
	if g.Fleet && !isFleetAgent(ctx) {
		return fleetOnly("group "+name, "group-delete "+name+" --fleet")
	}
	if err := s.sharedDelete(ctx, g, keepData); err != nil {
		return err
	}
	if err := s.groupOSDelete(ctx, name); err != nil {
		return err
	}
	return s.store.Update(func(tx Tx) error {
		for _, m := range g.Members {
			if err := setUserGroup(tx, m, name, false); err != nil {
				return err
			}
		}
		return tx.Delete(keyGroup + name)
	})
}

// setUserGroup adds group to (or removes it from) the groups user's record
// lists, in the transaction that changes the group's members: user.list
// --group and a reset read the user's record, not every group's.
func setUserGroup(tx Tx, user, group string, add bool) error {
	var u User
	found, err := getJSON(tx, keyUser+user, &u)
	if err != nil || !found {
		return err // a member the state does not hold (an admin's group of its own)
	}
	has := slices.Contains(u.Groups, group)
	if has == add {
		return nil
	}
	u.Groups = slices.DeleteFunc(u.Groups, func(g string) bool { return g == group })
	if add {
		u.Groups = append(u.Groups, group)
	}
	return putJSON(tx, keyUser+user, u)
}

// GroupGet returns one group.
func (s *Service) GroupGet(ctx context.Context, name string) (Group, error) {
	if err := ValidateGroupName("name", name); err != nil {
		return Group{}, err
	}
	var g Group
	err := s.store.View(func(tx Tx) error {
		found, err := getJSON(tx, keyGroup+name, &g)
		if err == nil && !found {
			return notFound(ErrKeyNotFound, "group", name)
		}
		return err
	})
	return g, err
}

// GroupList returns all groups in name order.
func (s *Service) GroupList(ctx context.Context) ([]Group, error) {
	return listJSON[Group](s.store, keyGroup)
}
