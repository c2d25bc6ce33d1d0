package policy

// UserID returns the uid of the account name as the account files say,
// and whether there is one.
func (m *Machine) UserID(name string) (uint32, bool) {
	uid, _, ok := m.src.User(name)
	return uid, ok
}

// GroupID returns the gid of group name as the account files say, and
// whether there is one.
func (m *Machine) GroupID(name string) (uint32, bool) {
	gid, _, ok := m.src.Group(name)
	return gid, ok
}

// GIDUnclaimed reports whether every group with gid (at least one) lies
// in the policy's gid range, is no account's primary group, and has no
// member that is not managed: a group nobody outside hero_codescalers
// holds, such as one group-create made a moment ago, before the
// managed-groups record names it or anyone joins it. A root-owned
// directory of such a group (a shared volume), or an ACL entry naming
// it, grants nothing to anyone outside the fence. It never makes the
// group joinable: GroupJoinable asks for a managed group.
func (m *Machine) GIDUnclaimed(gid uint32) bool {
	m.ids()
	names := m.byGID[gid]
	if len(names) == 0 || !m.p.GIDAllowed(gid) {
		return false
	}
	primary := false
	m.src.Users(func(_ string, _, ugid uint32) { primary = primary || ugid == gid })
	if primary {
		return false
	}
	for _, n := range names {
		_, members, _ := m.src.Group(n)
		for _, u := range members {
			if !m.UserManaged(u) {
				return false
			}
		}
	}
	return true
}
