package acl

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/threefoldtech/hero_codescalers/sdk/check"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
)

// Fake is an in-memory ACL for unit tests: entries and ownership per path,
// with the contract's checks. Paths need not exist; Get of an unknown path
// answers an empty list. Recursive grants apply to the path only.
type Fake struct {
	mu        sync.Mutex
	entries   map[string][]Entry
	owners    map[string]Ownership
	forgotten []string
}

// Ownership is what SetOwnership recorded for a path.
type Ownership struct{ UID, GID, Mode uint32 }

var _ ACL = (*Fake)(nil)

// NewFake returns an empty Fake.
func NewFake() *Fake { return &Fake{entries: map[string][]Entry{}, owners: map[string]Ownership{}} }

// Ownership returns what SetOwnership recorded for path.
func (f *Fake) Ownership(path string) (Ownership, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.owners[path]
	return o, ok
}

func sameSlot(a, b Entry) bool {
	return a.Tag == b.Tag && a.Qualifier == b.Qualifier && a.Default == b.Default
}

func (f *Fake) Grant(_ context.Context, path string, entries []Entry, _ bool) error {
	if err := ValidatePathEntries(path, entries); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range entries {
		e.Perms = NormalizePerms(e.Perms)
		list := f.entries[path]
		if i := slices.IndexFunc(list, func(o Entry) bool { return sameSlot(o, e) }); i >= 0 {
			list[i] = e
			continue
		}
		f.entries[path] = append(list, e)
	}
	return nil
}

func (f *Fake) Revoke(_ context.Context, path string, entries []Entry) error {
	if err := ValidatePathEntries(path, entries); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.entries[path] = slices.DeleteFunc(f.entries[path], func(o Entry) bool {
		return slices.ContainsFunc(entries, func(e Entry) bool { return sameSlot(o, e) })
	})
	return nil
}

func (f *Fake) Get(_ context.Context, path string) (List, error) {
	if err := check.AbsPath("path", path); err != nil {
		return List{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var l List
	if o, ok := f.owners[path]; ok {
		l.Access = BaseEntries(o.Mode)
	}
	for _, e := range f.entries[path] {
		if e.Default {
			l.Default = append(l.Default, e)
		} else {
			l.Access = append(l.Access, e)
		}
	}
	return l, nil
}

func (f *Fake) SetOwnership(_ context.Context, path string, uid, gid, mode uint32) error {
	if err := check.AbsPath("path", path); err != nil {
		return err
	}
	if err := check.Mode("mode", mode); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.owners[path] = Ownership{UID: uid, GID: gid, Mode: mode}
	return nil
}

// BaseEntries are the owner, group and other entries a mode stands for, as
// getfacl shows them for a path without named entries.
func BaseEntries(mode uint32) []Entry {
	perms := func(bits uint32) string {
		b := []byte("---")
		if bits&4 != 0 {
			b[0] = 'r'
		}
		if bits&2 != 0 {
			b[1] = 'w'
		}
		if bits&1 != 0 {
			b[2] = 'x'
		}
		return string(b)
	}
	return []Entry{
		{Tag: TagUserObj, Perms: perms(mode >> 6 & 7)},
		{Tag: TagGroupObj, Perms: perms(mode >> 3 & 7)},
		{Tag: TagOther, Perms: perms(mode & 7)},
	}
}

// Forget drops the entries naming the user (by name or uid) on paths
// outside its home, as a plugin that recorded them would, and remembers
// the user (Forgotten).
func (f *Fake) Forget(_ context.Context, u lifecycle.User) (lifecycle.Forgotten, error) {
	if err := u.Validate(); err != nil {
		return lifecycle.Forgotten{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.forgotten = append(f.forgotten, u.Name)
	var out lifecycle.Forgotten
	uid := strconv.FormatUint(uint64(u.UID), 10)
	for path, list := range f.entries {
		if u.Home != "" && (path == u.Home || strings.HasPrefix(path, u.Home+"/")) {
			continue
		}
		kept := slices.DeleteFunc(slices.Clone(list), func(e Entry) bool {
			return e.Tag == TagUser && (e.Qualifier == u.Name || e.Qualifier == uid)
		})
		if len(kept) != len(list) {
			f.entries[path] = kept
			out.Removed = append(out.Removed, "entries of "+u.Name+" on "+path)
		}
	}
	slices.Sort(out.Removed)
	return out, nil
}

// Forgotten lists the users Forget was called for, in order.
func (f *Fake) Forgotten() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.forgotten)
}
