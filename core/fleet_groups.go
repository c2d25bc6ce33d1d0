package core

import (
	"context"
	"slices"
	"time"
)

// Fleet groups: a Linux group with the same gid on every node (and its
// shared volume when asked), whose members are the fleet users a node
// carries.

// ApplyFleetGroup converges this node to one desired group.
func (s *Service) ApplyFleetGroup(ctx context.Context, d FleetGroup) NodeStatus {
	began := time.Now()
	outcome, err := s.applyGroup(asFleetAgent(ctx), d)
	return s.fleetStatus(GroupObject(d.Name), d.Revision, outcome, err, began)
}

func (s *Service) applyGroup(ctx context.Context, d FleetGroup) (string, error) {
	if err := s.needPlugins(); err != nil {
		return FleetError, err
	}
	local, err := s.GroupGet(ctx, d.Name)
	have := err == nil
	if err != nil && !IsCode(err, NotFound) {
		return FleetError, err
	}
	switch {
	case d.Deleted && have && local.Fleet:
		if err := s.GroupDelete(ctx, d.Name, d.KeepData); err != nil {
			return FleetError, err
		}
		return FleetRemoved, nil
	case d.Deleted:
		return FleetSkipped, nil
	case have && !local.Fleet:
		return FleetConflict, Errorf(AlreadyExists, "group %s exists on this node and was not made by the fleet: left untouched", d.Name)
	case !have:
		return s.applyGroupCreate(ctx, d)
	case local.GID != d.GID:
		return FleetClash, Errorf(FailedPrecondition, "group %s has gid %d on this node, the fleet's is %d", d.Name, local.GID, d.GID)
	}
	return s.syncGroupMembers(ctx, local, d)
}

func (s *Service) applyGroupCreate(ctx context.Context, d FleetGroup) (string, error) {
	g, err := s.plugins.Accounts().GetGroup(ctx, d.Name)
	if err == nil {
		return FleetConflict, Errorf(AlreadyExists, "group %s (gid %d) exists on this node and is not the fleet's: left untouched", d.Name, g.GID)
	}
	members, err := s.localMembers(ctx, d.Members)
	if err != nil {
		return FleetError, err
	}
	_, err = s.GroupCreate(ctx, Group{Name: d.Name, GID: d.GID, Description: d.Description, Members: members,
		Shared: d.Shared, QuotaBytes: d.QuotaBytes, Fleet: true})
	if err != nil {
		if IsCode(err, AlreadyExists) {
			return FleetClash, err
		}
		return FleetError, err
	}
	return FleetOK, nil
}

// syncGroupMembers makes the group's members on this node the desired
// members that live here.
func (s *Service) syncGroupMembers(ctx context.Context, local Group, d FleetGroup) (string, error) {
	want, err := s.localMembers(ctx, d.Members)
	if err != nil {
		return FleetError, err
	}
	for _, m := range want {
		if !slices.Contains(local.Members, m) {
			if _, err := s.GroupMemberAdd(ctx, d.Name, m); err != nil {
				return FleetError, err
			}
		}
	}
	for _, m := range local.Members {
		if !slices.Contains(want, m) {
			if _, err := s.GroupMemberRemove(ctx, d.Name, m); err != nil {
				return FleetError, err
			}
		}
	}
	return FleetOK, nil
}

// localMembers keeps the members this node carries as fleet users.
func (s *Service) localMembers(ctx context.Context, members []string) ([]string, error) {
	out := []string{}
	for _, m := range members {
		u, err := s.UserGet(ctx, m)
		switch {
		case err == nil && u.Fleet:
			out = append(out, m)
		case err != nil && !IsCode(err, NotFound):
			return nil, err
		}
	}
	return out, nil
}

// FleetGroupCreate writes a new group into the fleet's desired state with
// a gid reserved for the whole fleet, then waits for every node.
func (s *Service) FleetGroupCreate(ctx context.Context, g Group, wait time.Duration) (FleetResult, error) {
	f, err := s.needFleet(ctx)
	if err != nil {
		return FleetResult{}, err
	}
	if err := s.validateFleetGroup(ctx, f, &g); err != nil {
		return FleetResult{}, err
	}
	old, err := f.Group(ctx, g.Name)
	switch {
	case err == nil && !old.Deleted:
		return FleetResult{}, &Error{Code: AlreadyExists, Field: "name", Message: "fleet group " + g.Name + " already exists"}
	case err != nil && !IsCode(err, NotFound):
		return FleetResult{}, err
	}
	switch u, err := f.User(ctx, g.Name); {
	case err == nil && !u.Deleted:
		return FleetResult{}, &Error{Code: AlreadyExists, Field: "name",
			Message: "fleet user " + g.Name + " has a group of that name on every node it is on (its own): choose another name for the fleet group"}
	case err != nil && !IsCode(err, NotFound):
		return FleetResult{}, err
	}
	gid, err := f.AllocID(ctx, "gid", g.Name, 0)
	if err != nil {
		return FleetResult{}, err
	}
	d := FleetGroup{Name: g.Name, GID: gid, Description: g.Description, Members: g.Members, Shared: g.Shared,
		QuotaBytes: g.QuotaBytes, Updated: s.now().UTC()}
	targets, err := s.fleetTargets(ctx, f, GroupObject(g.Name), everyNode, nil)
	var w *nodeWatch
	if err == nil {
		w, err = s.watchNodes(ctx, f, GroupObject(g.Name))
	}
	wrote := false
	if err == nil {
		var rev uint64
		sent := time.Now()
		if rev, err = f.PutGroup(ctx, d, old.Revision); err == nil {
			return s.fleetWait(ctx, w, rev, sent, targets, wait), nil
		}
		wrote = true
		w.stop()
	}
	releaseID(ctx, f, "gid", gid, g.Name, wrote)
	return FleetResult{}, err
}

// nameFreeOfGroup refuses a fleet user named like a live fleet group: the
// user's own group would take the group's name on every node it is on.
func nameFreeOfGroup(ctx context.Context, f FleetBackend, name string) error {
	g, err := f.Group(ctx, name)
	switch {
	case err == nil && !g.Deleted:
		return &Error{Code: AlreadyExists, Field: "name",
			Message: "fleet group " + name + " exists: a user of that name would have its own group of that name too; choose another name for the user"}
	case err != nil && !IsCode(err, NotFound):
		return err
	}
	return nil
}

// validateFleetGroup checks a group as GroupCreate does, and that its
// members are fleet users.
func (s *Service) validateFleetGroup(ctx context.Context, f FleetBackend, g *Group) error {
	if err := ValidateGroupName("name", g.Name); err != nil {
		return err
	}
	switch {
	case len(g.Description) > 256:
		return InvalidField("description", "at most 256 characters")
	case g.QuotaBytes < 0:
		return InvalidField("quota", "must not be negative")
	case g.QuotaBytes > 0 && !g.Shared:
		return InvalidField("quota", "is the shared volume's limit: ask for shared too")
	}
	members := []string{}
	for _, m := range g.Members {
		if err := s.needFleetUser(ctx, f, "members", m); err != nil {
			return err
		}
		if !slices.Contains(members, m) {
			members = append(members, m)
		}
	}
	slices.Sort(members)
	g.Members = members
	return nil
}

// needFleetUser checks that name is a live fleet user.
func (s *Service) needFleetUser(ctx context.Context, f FleetBackend, field, name string) error {
	if err := ValidateUsername(field, name); err != nil {
		return err
	}
	u, err := f.User(ctx, name)
	if IsCode(err, NotFound) || (err == nil && u.Deleted) {
		return InvalidField(field, "%s is not a fleet user", name)
	}
	return err
}

// fleetJoinable refuses a group a fleet user may not join on every node:
// only the fleet's own groups (group-create --fleet) and those the policy
// allows are made alike everywhere; a group of this node's alone is not.
func (s *Service) fleetJoinable(ctx context.Context, f FleetBackend, groups []string) error {
	for _, g := range groups {
		if g == s.cfg.MarkerGroup || slices.Contains(s.cfg.AllowedGroups, g) {
			continue
		}
		fg, err := f.Group(ctx, g)
		if IsCode(err, NotFound) || (err == nil && fg.Deleted) {
			return InvalidField("groups", "%s is not a fleet group (make it with group-create --fleet) nor one the policy allows (%s)",
				g, s.allowedText())
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// FleetGroupDelete marks a group deleted in the fleet; every node removes
// it (keeping the shared volume as a snapshot with keepData).
func (s *Service) FleetGroupDelete(ctx context.Context, name string, keepData bool, wait time.Duration) (FleetResult, error) {
	var gid int
	res, err := s.fleetGroupEdit(ctx, name, wait, func(g *FleetGroup) error {
		g.Deleted, g.KeepData, gid = true, keepData, g.GID
		return nil
	})
	if err == nil {
		if f, ferr := s.needFleet(ctx); ferr == nil {
			releaseID(ctx, f, "gid", gid, name, false)
		}
	}
	return res, err
}

// FleetGroupMember adds user to (or removes it from) a fleet group.
func (s *Service) FleetGroupMember(ctx context.Context, name, user string, add bool, wait time.Duration) (FleetResult, error) {
	if err := ValidateUsername("user", user); err != nil {
		return FleetResult{}, err
	}
	if add {
		f, err := s.needFleet(ctx)
		if err != nil {
			return FleetResult{}, err
		}
		if err := s.needFleetUser(ctx, f, "user", user); err != nil {
			return FleetResult{}, err
		}
	}
	return s.fleetGroupEdit(ctx, name, wait, func(g *FleetGroup) error {
		g.Members = slices.DeleteFunc(g.Members, func(m string) bool { return m == user })
		if add {
			g.Members = append(g.Members, user)
			slices.Sort(g.Members)
		}
		return nil
	})
}

// fleetGroupEdit applies edit to the desired group by compare-and-set and
// waits for the nodes.
func (s *Service) fleetGroupEdit(ctx context.Context, name string, wait time.Duration, edit func(*FleetGroup) error) (FleetResult, error) {
	f, err := s.needFleet(ctx)
	if err != nil {
		return FleetResult{}, err
	}
	if err := ValidateGroupName("name", name); err != nil {
		return FleetResult{}, err
	}
	w, err := s.watchNodes(ctx, f, GroupObject(name))
	if err != nil {
		return FleetResult{}, err
	}
	defer w.stop()
	var rev uint64
	var targets map[string]bool
	var sent time.Time
	for attempt := 0; ; attempt++ {
		g, err := f.Group(ctx, name)
		if err == nil && g.Deleted {
			err = &Error{Code: NotFound, Field: "name", Message: "fleet group " + name + " not found"}
		}
		if err != nil {
			return FleetResult{}, err
		}
		if err := edit(&g); err != nil {
			return FleetResult{}, err
		}
		g.Updated = s.now().UTC()
		placed := everyNode
		if g.Deleted {
			placed = noNode
		}
		if targets, err = s.fleetTargets(ctx, f, GroupObject(name), placed, everyNode); err != nil {
			return FleetResult{}, err
		}
		sent = time.Now()
		rev, err = f.PutGroup(ctx, g, g.Revision)
		if err == nil {
			break
		}
		if !IsCode(err, FailedPrecondition) || attempt >= casAttempts {
			return FleetResult{}, err
		}
	}
	return s.fleetWait(ctx, w, rev, sent, targets, wait), nil
}
