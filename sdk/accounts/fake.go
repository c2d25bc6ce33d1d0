package accounts

import (
	"slices"
	"sync"

	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// Fake is an in-memory Accounts for other packages' unit tests. It keeps the
// contract's rules (input checks, idempotency, marker group, typed errors)
// so a test against it exercises the same paths as one against a real
// plugin. Fail makes a method fail, to test a caller's error handling.
type Fake struct {
	mu     sync.Mutex
	users  map[string]*User // Groups is not kept here; see userView
	groups map[string]*Group
	// The indexes that spare a create a walk of every user and group (the
	// fleet's agents bench runs 50 Fakes, each holding its users): the user
	// of each uid, the group of each gid, and the names of the groups
	// listing each user, sorted. The add, drop, join and leave methods keep
	// them in step with users and groups.
	byUID    map[uint32]*User
	byGID    map[uint32]*Group
	memberOf map[string][]string
	nextID   uint32
	// freeFrom is where allocID starts looking: every id from nextID up to
	// it is taken.
	freeFrom uint32
	failing  map[string]error
}

var _ Accounts = (*Fake)(nil)

// NewFake returns an empty Fake allocating ids from 1000.
func NewFake() *Fake {
	return &Fake{users: map[string]*User{}, groups: map[string]*Group{},
		byUID: map[uint32]*User{}, byGID: map[uint32]*Group{}, memberOf: map[string][]string{},
		nextID: 1000, freeFrom: 1000, failing: map[string]error{}}
}

// Fail makes every later call of method (e.g. "CreateUser") return err; a nil
// err clears it.
func (f *Fake) Fail(method string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil {
		delete(f.failing, method)
		return
	}
	f.failing[method] = err
}

func (f *Fake) lock(method string) (func(), error) {
	f.mu.Lock()
	if err := f.failing[method]; err != nil {
		f.mu.Unlock()
		return nil, err
	}
	return f.mu.Unlock, nil
}

// allocID returns the lowest free id at or above nextID, as useradd does.
func (f *Fake) allocID() uint32 {
	for f.idUsed(f.freeFrom) {
		f.freeFrom++
	}
	return f.freeFrom
}

func (f *Fake) idUsed(id uint32) bool {
	return f.byUID[id] != nil || f.byGID[id] != nil
}

// freed notes that id may be free again, for allocID to find.
func (f *Fake) freed(id uint32) {
	if id >= f.nextID && id < f.freeFrom {
		f.freeFrom = id
	}
}

func (f *Fake) addUser(u *User) {
	f.users[u.Name], f.byUID[u.UID] = u, u
}

// dropUser removes u from the users and from every group listing it.
func (f *Fake) dropUser(u *User) {
	for _, name := range f.memberOf[u.Name] {
		g := f.groups[name]
		g.Members = slices.DeleteFunc(g.Members, func(m string) bool { return m == u.Name })
	}
	delete(f.memberOf, u.Name)
	delete(f.users, u.Name)
	delete(f.byUID, u.UID)
	f.freed(u.UID)
}

func (f *Fake) addGroup(g *Group) {
	f.groups[g.Name], f.byGID[g.GID] = g, g
}

// dropGroup removes g, and with it the membership of its members.
func (f *Fake) dropGroup(g *Group) {
	for _, m := range g.Members {
		f.unlist(m, g.Name)
	}
	delete(f.groups, g.Name)
	delete(f.byGID, g.GID)
	f.freed(g.GID)
}

// join adds user to g's members unless it is one.
func (f *Fake) join(g *Group, user string) {
	if f.list(user, g.Name) {
		g.Members = append(g.Members, user)
	}
}

// leave removes user from g's members.
func (f *Fake) leave(g *Group, user string) {
	if f.unlist(user, g.Name) {
		g.Members = slices.DeleteFunc(g.Members, func(m string) bool { return m == user })
	}
}

// inGroup reports whether the group named group lists user.
func (f *Fake) inGroup(user, group string) bool {
	_, in := slices.BinarySearch(f.memberOf[user], group)
	return in
}

// list adds group to user's entry of memberOf, and reports whether it was
// not there yet; unlist removes it, and reports whether it was there.
func (f *Fake) list(user, group string) bool {
	groups := f.memberOf[user]
	i, in := slices.BinarySearch(groups, group)
	if !in {
		f.memberOf[user] = slices.Insert(groups, i, group)
	}
	return !in
}

func (f *Fake) unlist(user, group string) bool {
	groups := f.memberOf[user]
	i, in := slices.BinarySearch(groups, group)
	switch {
	case !in:
	case len(groups) == 1:
		delete(f.memberOf, user)
	default:
		f.memberOf[user] = slices.Delete(groups, i, i+1)
	}
	return in
}

// userView returns a copy of the user with its supplementary groups.
func (f *Fake) userView(u *User) User {
	out := *u
	out.Groups = nil
	if groups := f.memberOf[u.Name]; len(groups) > 0 {
		out.Groups = slices.Clone(groups)
	}
	return out
}

// guard enforces the marker group: a user outside it is PermissionDenied.
func (f *Fake) guard(name, markerGroup string) (*User, error) {
	u, ok := f.users[name]
	if !ok {
		return nil, sdkerr.Errorf(sdkerr.NotFound, "user %q not found", name)
	}
	if markerGroup != "" {
		if _, ok := f.groups[markerGroup]; !ok || !f.inGroup(name, markerGroup) {
			return nil, sdkerr.Errorf(sdkerr.PermissionDenied, "user %q is not in marker group %q", name, markerGroup)
		}
	}
	return u, nil
}
