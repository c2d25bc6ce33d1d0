package policy

// UserID returns the uid of the account name as the account files say,
// and whether there is one.
func (m *Machine) UserID(name string) (uint32, bool) {
	a, ok := m.users[name]
	return a.uid, ok
}

// GroupID returns the gid of group name as the account files say, and
// whether there is one.
func (m *Machine) GroupID(name string) (uint32, bool) {
	g, ok := m.groups[name]
	return g.gid, ok
}
