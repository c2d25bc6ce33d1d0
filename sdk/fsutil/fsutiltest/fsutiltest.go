// Package fsutiltest builds an fsutil.Fence for tests: a policy whose
// roots are the test's directories, over a temporary etc dir whose
// passwd and group hold one managed account, so a plugin's unit tests
// run its fence as it runs on a machine, root or not.
package fsutiltest

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/threefoldtech/hero_codescalers/sdk/fsutil"
	"github.com/threefoldtech/hero_codescalers/sdk/policy"
)

// Marker is the marker group of the test policy.
const Marker = "codescalers"

// Env is a test's fence and the managed account it may give files to.
type Env struct {
	Fence *fsutil.Fence
	Etc   string // the temporary etc dir (passwd, group)
	// UID and GID are the managed account's: the test's own uid and gid
	// when it is not root (so files it makes are its own), else 4242 and
	// 4243, which root may chown to.
	UID, GID uint32
	// Name is the managed account's name (and its group's).
	Name string

	users  []account
	groups []account // groups of their own, no members
}

// New returns the fence of plugin with home roots roots, and extra roots
// for it when given with Extra.
func New(t testing.TB, plugin string, roots ...string) *Env {
	t.Helper()
	return NewWith(t, plugin, func(*policy.Policy) {}, roots...)
}

// NewWith is New with a change to the policy before the fence is built.
func NewWith(t testing.TB, plugin string, change func(*policy.Policy), roots ...string) *Env {
	t.Helper()
	e := &Env{Etc: t.TempDir(), Name: "ptestowner"}
	e.UID, e.GID = Owner()
	e.users = []account{{name: e.Name, uid: e.UID, gid: e.GID, managed: true}}
	e.write(t)
	p := policy.Defaults(e.Etc)
	p.HomeRoots, p.MarkerGroup = roots, Marker
	p.UIDMin, p.UIDMax, p.GIDMin, p.GIDMax = 1, math.MaxUint32-1, 1, math.MaxUint32-1
	change(&p)
	e.Fence = fsutil.NewFence(plugin, p, e.Etc)
	if err := e.Fence.Err(); err != nil {
		t.Fatalf("fsutiltest: %v", err)
	}
	return e
}

type account struct {
	name     string
	uid, gid uint32
	managed  bool
}

// AddUser adds an account with its own group of the same id to the etc
// dir, in the marker group when managed; the fence sees it at its next
// call, as a plugin sees an account the accounts plugin just made.
func (e *Env) AddUser(t testing.TB, name string, id uint32, managed bool) {
	t.Helper()
	e.users = append(e.users, account{name: name, uid: id, gid: id, managed: managed})
	e.write(t)
}

// AddGroup adds a group without members, as group-create makes it.
func (e *Env) AddGroup(t testing.TB, name string, gid uint32) {
	t.Helper()
	e.groups = append(e.groups, account{name: name, gid: gid})
	e.write(t)
}

// write renders passwd and group from the accounts, each replaced by a
// rename as the shadow tools do.
func (e *Env) write(t testing.TB) {
	t.Helper()
	passwd := "root:x:0:0:root:/root:/bin/sh\n"
	group := "root:x:0:\n"
	var members []string
	for _, a := range e.users {
		passwd += fmt.Sprintf("%s:x:%d:%d::/nonexistent:/bin/sh\n", a.name, a.uid, a.gid)
		group += fmt.Sprintf("%s:x:%d:\n", a.name, a.gid)
		if a.managed {
			members = append(members, a.name)
		}
	}
	for _, g := range e.groups {
		group += fmt.Sprintf("%s:x:%d:\n", g.name, g.gid)
	}
	group += fmt.Sprintf("%s:x:%d:%s\n", Marker, 65000, strings.Join(members, ","))
	for name, text := range map[string]string{"passwd": passwd, "group": group} {
		tmp := filepath.Join(e.Etc, "."+name+".tmp")
		if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(e.Etc, name)); err != nil {
			t.Fatal(err)
		}
	}
}

// Owner is the managed account New gives a test: the test's own uid and
// gid when it is not root, else 4242 and 4243.
func Owner() (uid, gid uint32) {
	if os.Getuid() != 0 {
		return uint32(os.Getuid()), uint32(os.Getgid())
	}
	return 4242, 4243
}
