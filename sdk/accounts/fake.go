package accounts

import (
	"slices"
	"sort"
	"sync"

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
