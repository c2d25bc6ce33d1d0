package accounts

import (
	"context"
	"slices"
	"sort"
	"sync"

	"github.com/threefoldtech/hero_codescalers/sdk/check"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// Fake is an in-memory Accounts for other packages' unit tests. It keeps the
// contract's rules (input checks, idempotency, marker group, typed errors)
// so a test against it exercises the same paths as one against a real
// plugin. Fail makes a method fail, to test a caller's error handling.
type Fake struct {
	mu      sync.Mutex
	users   map[string]*User // Groups is not kept here; see userView
	groups  map[string]*Group
	nextID  uint32
	failing map[string]error
}

var _ Accounts = (*Fake)(nil)

// NewFake returns an empty Fake allocating ids from 1000.
func NewFake() *Fake {
	return &Fake{users: map[string]*User{}, groups: map[string]*Group{}, nextID: 1000, failing: map[string]error{}}
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
	for id := f.nextID; ; id++ {
		if !f.idUsed(id) {
			return id
		}
	}
}

func (f *Fake) idUsed(id uint32) bool {
	for _, u := range f.users {
		if u.UID == id {
			return true
		}
	}
	for _, g := range f.groups {
		if g.GID == id {
			return true
		}
	}
	return false
}

// userView returns a copy of the user with its supplementary groups.
func (f *Fake) userView(u *User) User {
	out := *u
	out.Groups = nil
	for _, g := range f.groups {
		if slices.Contains(g.Members, u.Name) {
			out.Groups = append(out.Groups, g.Name)
		}
	}
	sort.Strings(out.Groups)
	return out
}

// guard enforces the marker group: a user outside it is PermissionDenied.
func (f *Fake) guard(name, markerGroup string) (*User, error) {
	u, ok := f.users[name]
	if !ok {
		return nil, sdkerr.Errorf(sdkerr.NotFound, "user %q not found", name)
	}
	if markerGroup != "" {
		g, ok := f.groups[markerGroup]
		if !ok || !slices.Contains(g.Members, name) {
			return nil, sdkerr.Errorf(sdkerr.PermissionDenied, "user %q is not in marker group %q", name, markerGroup)
		}
	}
	return u, nil
}

func (f *Fake) CreateUser(_ context.Context, spec UserSpec) (User, error) {
	unlock, err := f.lock("CreateUser")
	if err != nil {
		return User{}, err
	}
	defer unlock()
	return f.createUser(spec)
}

func (f *Fake) createUser(spec UserSpec) (User, error) {
	if err := ValidateUserSpec(spec); err != nil {
		return User{}, err
	}
	if u, ok := f.users[spec.Name]; ok {
		if (spec.UID != 0 && spec.UID != u.UID) || (spec.Home != "" && spec.Home != u.Home) {
			return User{}, sdkerr.Errorf(sdkerr.AlreadyExists, "user %q exists with other attributes", spec.Name)
		}
		return f.userView(u), nil
	}
	if spec.UID != 0 && f.uidTaken(spec.UID) {
		return User{}, sdkerr.Errorf(sdkerr.AlreadyExists, "uid %d is taken", spec.UID)
	}
	supp := append(slices.Clone(spec.Groups), spec.MarkerGroup)
	for _, g := range supp {
		if _, ok := f.groups[g]; g != "" && !ok {
			return User{}, sdkerr.Errorf(sdkerr.NotFound, "group %q not found", g)
		}
	}
	uid := spec.UID
	if uid == 0 {
		uid = f.allocID()
	}
	primary, err := f.primaryGroup(spec, uid)
	if err != nil {
		return User{}, err
	}
	home := spec.Home
	if home == "" {
		home = "/home/" + spec.Name
	}
	u := &User{Name: spec.Name, UID: uid, GID: primary.GID, Home: home, Shell: spec.Shell, GECOS: spec.GECOS}
	f.users[spec.Name] = u
	for _, g := range supp {
		if g != "" && !slices.Contains(f.groups[g].Members, spec.Name) {
			f.groups[g].Members = append(f.groups[g].Members, spec.Name)
		}
	}
	return f.userView(u), nil
}

func (f *Fake) uidTaken(uid uint32) bool {
	for _, u := range f.users {
		if u.UID == uid {
			return true
		}
	}
	return false
}

// primaryGroup finds the named primary group or makes the user's own one,
// with gid = uid when that is free.
func (f *Fake) primaryGroup(spec UserSpec, uid uint32) (*Group, error) {
	if spec.PrimaryGroup != "" {
		g, ok := f.groups[spec.PrimaryGroup]
		if !ok {
			return nil, sdkerr.Errorf(sdkerr.NotFound, "group %q not found", spec.PrimaryGroup)
		}
		return g, nil
	}
	if g, ok := f.groups[spec.Name]; ok {
		return g, nil
	}
	gid := uid
	if f.gidTaken(gid) {
		gid = f.allocID()
	}
	g := &Group{Name: spec.Name, GID: gid}
	f.groups[g.Name] = g
	return g, nil
}

func (f *Fake) gidTaken(gid uint32) bool {
	for _, g := range f.groups {
		if g.GID == gid {
			return true
		}
	}
	return false
}

func (f *Fake) CreateUsers(_ context.Context, specs []UserSpec) ([]BatchResult, error) {
	unlock, err := f.lock("CreateUsers")
	if err != nil {
		return nil, err
	}
	defer unlock()
	out := make([]BatchResult, len(specs))
	for i, s := range specs {
		out[i].User, out[i].Err = f.createUser(s)
	}
	return out, nil
}

func (f *Fake) DeleteUser(_ context.Context, name string, opts DeleteOptions) error {
	unlock, err := f.lock("DeleteUser")
	if err != nil {
		return err
	}
	defer unlock()
	if err := ValidateUserRef(name, opts.MarkerGroup); err != nil {
		return err
	}
	u, err := f.guard(name, opts.MarkerGroup)
	if sdkerr.Is(err, sdkerr.NotFound) {
		return nil
	} else if err != nil {
		return err
	}
	delete(f.users, name)
	for _, g := range f.groups {
		g.Members = slices.DeleteFunc(g.Members, func(m string) bool { return m == name })
	}
	if g, ok := f.groups[name]; ok && g.GID == u.GID {
		delete(f.groups, name)
	}
	return nil
}

func (f *Fake) GetUser(_ context.Context, name string) (User, error) {
	unlock, err := f.lock("GetUser")
	if err != nil {
		return User{}, err
	}
	defer unlock()
	if err := check.Name("name", name); err != nil {
		return User{}, err
	}
	u, ok := f.users[name]
	if !ok {
		return User{}, sdkerr.Errorf(sdkerr.NotFound, "user %q not found", name)
	}
	return f.userView(u), nil
}
