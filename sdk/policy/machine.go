package policy

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ManagedGroupsFile, beside the policy, lists the groups hero_codescalers
// made (group-create), one name a line. The accounts plugins keep it: a
// group is recorded when a plugin creates it and dropped when a plugin
// deletes it, so a group that existed before (docker, video, the admin
// group, another user's private group) is never taken for a managed one.
const ManagedGroupsFile = "hero_codescalers/managed-groups"

// Machine is the view of the account files a plugin judges a request by:
// which users, uids, gids and groups are managed. It reads them fresh
// (ReadMachine) or from a Source a caller already holds, and never trusts
// the caller's word.
type Machine struct {
	p       Policy
	src     Source
	byUID   map[uint32][]string // built on first use
	byGID   map[uint32][]string
	marker  map[string]bool // the marker group's listed members; built on first use
	managed map[string]bool // recorded managed groups; nil until guessed
}

// NewMachine is the view under p of the account files src holds, for a
// caller that has them parsed already (the accounts plugins judge a change
// by the tables they read under their lock, not by a second read). Call
// ReadRecord before asking about groups. Its indexes are built on first
// use, so it is for one goroutine; ReadMachine's may be shared.
func NewMachine(p Policy, src Source) *Machine {
	return &Machine{p: p, src: src, managed: map[string]bool{}}
}

// ReadMachine reads etcDir's passwd and group (and the managed-groups
// record) under p. It fails when passwd or group cannot be read: a fence
// that cannot see must refuse.
func ReadMachine(p Policy, etcDir string) (*Machine, error) {
	src, err := readFiles(etcDir)
	if err != nil {
		return nil, err
	}
	m := NewMachine(p, src)
	if err := m.ReadRecord(etcDir); err != nil {
		return nil, err
	}
	// Every index now: a Cache shares this view between concurrent calls,
	// which must then only read it.
	m.ids()
	m.markerSet()
	m.managedSet()
	return m, nil
}

// ReadRecord reads etcDir's managed-groups record; without one, the
// managed groups are guessed from the account files when first asked
// about (a walk of every account that most calls never need).
func (m *Machine) ReadRecord(etcDir string) error {
	rec, err := readRecord(filepath.Join(etcDir, ManagedGroupsFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		m.managed = nil
	case err != nil:
		return err
	default:
		m.managed = rec
	}
	return nil
}

// Policy is the policy the view judges by.
func (m *Machine) Policy() Policy { return m.p }

// UserManaged reports whether name is a managed account: a member of the
// marker group (listed in its member list, or with it as primary group),
// with a uid in the policy's range. Root and system accounts never are.
func (m *Machine) UserManaged(name string) bool {
	uid, gid, ok := m.src.User(name)
	if !ok || !m.p.UIDAllowed(uid) {
		return false
	}
	markerGID, _, ok := m.src.Group(m.p.MarkerGroup)
	if !ok {
		return false
	}
	return m.markerSet()[name] || gid == markerGID
}

// markerSet is the marker group's listed members as a set, made once: a
// plugin asks about every file it writes.
func (m *Machine) markerSet() map[string]bool {
	if m.marker == nil {
		_, members, _ := m.src.Group(m.p.MarkerGroup)
		m.marker = make(map[string]bool, len(members))
		for _, u := range members {
			m.marker[u] = true
		}
	}
	return m.marker
}

// ids indexes every account by uid and every group by gid, once.
func (m *Machine) ids() {
	if m.byUID != nil {
		return
	}
	m.byUID, m.byGID = map[uint32][]string{}, map[uint32][]string{}
	m.src.Users(func(name string, uid, _ uint32) { m.byUID[uid] = append(m.byUID[uid], name) })
	m.src.Groups(func(name string, gid uint32, _ []string) { m.byGID[gid] = append(m.byGID[gid], name) })
}

// UIDManaged reports whether every account with uid is managed (and there
// is at least one): a file may be owned by it. A uid shared with an
// unmanaged account is not.
func (m *Machine) UIDManaged(uid uint32) bool {
	m.ids()
	names := m.byUID[uid]
	if len(names) == 0 || !m.p.UIDAllowed(uid) {
		return false
	}
	for _, n := range names {
		if !m.UserManaged(n) {
			return false
		}
	}
	return true
}

// GIDManaged reports whether gid is a managed group's: in the policy's gid
// range, and every group with that gid is a managed user's primary group
// or a recorded managed group. A gid that duplicates an unmanaged group's
// never is.
func (m *Machine) GIDManaged(gid uint32) bool {
	m.ids()
	names := m.byGID[gid]
	if len(names) == 0 || !m.p.GIDAllowed(gid) {
		return false
	}
	for _, n := range names {
		if !m.managedSet()[n] && !m.primaryOfManaged(n, gid) {
			return false
		}
	}
	return true
}

// primaryOfManaged reports whether group name (gid) is the private group
// of the managed user of the same name.
func (m *Machine) primaryOfManaged(name string, gid uint32) bool {
	_, ugid, ok := m.src.User(name)
	return ok && ugid == gid && m.UserManaged(name)
}

// GroupManaged reports whether name is a group hero_codescalers made: on
// the record, present, with a gid in the policy's range.
func (m *Machine) GroupManaged(name string) bool {
	gid, _, ok := m.src.Group(name)
	return ok && m.managedSet()[name] && m.p.GIDAllowed(gid)
}

// GroupJoinable reports whether a managed user may be made a member of
// group: the marker group, a group the policy names, or a managed group.
func (m *Machine) GroupJoinable(name string) bool {
	if !m.GroupExists(name) {
		return false
	}
	return m.p.GroupAllowedByName(name) || m.GroupManaged(name)
}

// GroupExists reports whether the account files hold group name.
func (m *Machine) GroupExists(name string) bool { _, _, ok := m.src.Group(name); return ok }

// GIDInUse reports whether any group has gid.
func (m *Machine) GIDInUse(gid uint32) bool { m.ids(); return len(m.byGID[gid]) > 0 }

// UIDInUse reports whether any account has uid.
func (m *Machine) UIDInUse(uid uint32) bool { m.ids(); return len(m.byUID[uid]) > 0 }

// ManagedGroups lists the managed groups' names, sorted.
func (m *Machine) ManagedGroups() []string {
	var out []string
	for n := range m.managedSet() {
		if m.GroupManaged(n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// managedSet is the recorded managed groups, or the guess of a machine
// without a record, made once.
func (m *Machine) managedSet() map[string]bool {
	if m.managed == nil {
		m.managed = m.guessManagedGroups()
	}
	return m.managed
}

// guessManagedGroups is the record's stand-in on a machine that has none
// yet (an install from before it): groups in the gid range that are no
// account's primary group and whose members, at least one, are all
// managed. The first recorded change writes these down with it.
func (m *Machine) guessManagedGroups() map[string]bool {
	primary := map[uint32]bool{}
	m.src.Users(func(_ string, _, gid uint32) { primary[gid] = true })
	out := map[string]bool{}
	seen := map[string]bool{}
	m.src.Groups(func(name string, gid uint32, members []string) {
		if seen[name] {
			return // the first entry of a name is the group
		}
		seen[name] = true
		if name == m.p.MarkerGroup || !m.p.GIDAllowed(gid) || primary[gid] || len(members) == 0 {
			return
		}
		for _, u := range members {
			if !m.UserManaged(u) {
				return
			}
		}
		out[name] = true
	})
	return out
}

// readRecord reads the record, refusing one that someone other than root
// could have written: naming docker in it would make docker joinable.
func readRecord(path string) (map[string]bool, error) {
	f, err := openProtected(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := readAll(f)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			out[line] = true
		}
	}
	return out, nil
}

// RecordManagedGroup adds (add true) or drops group name on etcDir's
// managed-groups record, writing the file atomically (root:root 0644).
// Callers hold the account files' lock, as they do to create or delete
// the group itself. A machine without a record first gets today's guess
// written down with the change.
func (m *Machine) RecordManagedGroup(etcDir, name string, add bool) error {
	set := map[string]bool{}
	for n := range m.managedSet() {
		set[n] = true
	}
	if add {
		set[name] = true
	} else {
		delete(set, name)
	}
	m.managed = set
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	slices.Sort(names)
	var b strings.Builder
	b.WriteString("# Groups hero_codescalers made (group-create); kept by its accounts plugins.\n")
	for _, n := range names {
		b.WriteString(n + "\n")
	}
	return writeAtomic(filepath.Join(etcDir, ManagedGroupsFile), []byte(b.String()))
}

func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp := path + ".tmp-" + hex.EncodeToString(rnd[:])
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
