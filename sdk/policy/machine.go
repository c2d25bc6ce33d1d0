package policy

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// ManagedGroupsFile, beside the policy, lists the groups hero_codescalers
// made (group-create), one name a line. The accounts plugins keep it: a
// group is recorded when a plugin creates it and dropped when a plugin
// deletes it, so a group that existed before (docker, video, the admin
// group, another user's private group) is never taken for a managed one.
const ManagedGroupsFile = "hero_codescalers/managed-groups"

// Machine is the view of the account files a plugin judges a request by:
// which users, uids, gids and groups are managed. It is read fresh by
// ReadMachine and never trusts the caller.
type Machine struct {
	p       Policy
	users   map[string]account // by name
	byUID   map[uint32][]string
	groups  map[string]group // by name
	byGID   map[uint32][]string
	managed map[string]bool // recorded managed groups
	marker  map[string]bool // the marker group's listed members
}

type account struct {
	uid, gid uint32
}

type group struct {
	gid     uint32
	members []string
}

// ReadMachine reads etcDir's passwd and group (and the managed-groups
// record) under p. It fails when passwd or group cannot be read: a fence
// that cannot see must refuse.
func ReadMachine(p Policy, etcDir string) (*Machine, error) {
	m := NewMachine(p)
	if err := eachLine(filepath.Join(etcDir, "passwd"), func(n int) {
		m.users, m.byUID = make(map[string]account, n), make(map[uint32][]string, n)
	}, func(f []string) {
		if len(f) < 4 {
			return
		}
		uid, err1 := strconv.ParseUint(f[2], 10, 32)
		gid, err2 := strconv.ParseUint(f[3], 10, 32)
		if err1 == nil && err2 == nil {
			m.AddUser(f[0], uint32(uid), uint32(gid))
		}
	}); err != nil {
		return nil, err
	}
	if err := eachLine(filepath.Join(etcDir, "group"), func(n int) {
		m.groups, m.byGID = make(map[string]group, n), make(map[uint32][]string, n)
	}, func(f []string) {
		if len(f) < 4 {
			return
		}
		if gid, err := strconv.ParseUint(f[2], 10, 32); err == nil {
			var members []string
			if f[3] != "" {
				members = strings.Split(f[3], ",")
			}
			m.AddGroup(f[0], uint32(gid), members)
		}
	}); err != nil {
		return nil, err
	}
	if err := m.ReadRecord(etcDir); err != nil {
		return nil, err
	}
	return m, nil
}

// NewMachine is an empty view under p, for a caller that holds the account
// files parsed already (the accounts plugins judge a change by the tables
// they read under their lock, not by a second read): it adds every account
// (AddUser) and group (AddGroup), then reads the record (ReadRecord).
func NewMachine(p Policy) *Machine {
	return &Machine{p: p, users: map[string]account{}, byUID: map[uint32][]string{},
		groups: map[string]group{}, byGID: map[uint32][]string{}}
}

// AddUser adds an account of passwd. The first entry of a name wins, as
// for getpwnam; every entry counts for its uid.
func (m *Machine) AddUser(name string, uid, gid uint32) {
	if _, dup := m.users[name]; !dup {
		m.users[name] = account{uid: uid, gid: gid}
	}
	m.byUID[uid] = append(m.byUID[uid], name)
}

// AddGroup adds a group of the group file; members is kept, not copied.
// The first entry of a name wins; every entry counts for its gid.
func (m *Machine) AddGroup(name string, gid uint32, members []string) {
	if _, dup := m.groups[name]; !dup {
		m.groups[name] = group{gid: gid, members: members}
	}
	m.byGID[gid] = append(m.byGID[gid], name)
}

// ReadRecord reads etcDir's managed-groups record, once every account and
// group is added: without a record, the groups are guessed from them.
func (m *Machine) ReadRecord(etcDir string) error {
	m.marker = map[string]bool{}
	if g, ok := m.groups[m.p.MarkerGroup]; ok {
		for _, u := range g.members {
			m.marker[u] = true
		}
	}
	rec, err := readRecord(filepath.Join(etcDir, ManagedGroupsFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		m.managed = m.guessManagedGroups()
	case err != nil:
		return err
	default:
		m.managed = rec
	}
	return nil
}

// eachLine calls fn with the fields of each entry of the account file at
// path, after sized with the number of lines (so the maps are made once
// at their size: a plugin reads the files again whenever they change).
func eachLine(path string, sized func(int), fn func([]string)) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	sized(bytes.Count(data, []byte{'\n'}) + 1)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "+") || strings.HasPrefix(line, "-") {
			continue
		}
		fn(strings.Split(line, ":"))
	}
	return sc.Err()
}

// Policy is the policy the view judges by.
func (m *Machine) Policy() Policy { return m.p }

// UserManaged reports whether name is a managed account: a member of the
// marker group (listed in its member list, or with it as primary group),
// with a uid in the policy's range. Root and system accounts never are.
func (m *Machine) UserManaged(name string) bool {
	a, ok := m.users[name]
	if !ok || !m.p.UIDAllowed(a.uid) {
		return false
	}
	marker, ok := m.groups[m.p.MarkerGroup]
	if !ok {
		return false
	}
	return m.marker[name] || a.gid == marker.gid
}

// UIDManaged reports whether every account with uid is managed (and there
// is at least one): a file may be owned by it. A uid shared with an
// unmanaged account is not.
func (m *Machine) UIDManaged(uid uint32) bool {
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
	names := m.byGID[gid]
	if len(names) == 0 || !m.p.GIDAllowed(gid) {
		return false
	}
	for _, n := range names {
		if !m.managed[n] && !m.primaryOfManaged(n, gid) {
			return false
		}
	}
	return true
}

// primaryOfManaged reports whether group name (gid) is the private group
// of the managed user of the same name.
func (m *Machine) primaryOfManaged(name string, gid uint32) bool {
	a, ok := m.users[name]
	return ok && a.gid == gid && m.UserManaged(name)
}

// GroupManaged reports whether name is a group hero_codescalers made: on
// the record, present, with a gid in the policy's range.
func (m *Machine) GroupManaged(name string) bool {
	g, ok := m.groups[name]
	return ok && m.managed[name] && m.p.GIDAllowed(g.gid)
}

// GroupJoinable reports whether a managed user may be made a member of
// group: the marker group, a group the policy names, or a managed group.
func (m *Machine) GroupJoinable(name string) bool {
	if _, ok := m.groups[name]; !ok {
		return false
	}
	return m.p.GroupAllowedByName(name) || m.GroupManaged(name)
}

// GroupExists reports whether the account files hold group name.
func (m *Machine) GroupExists(name string) bool { _, ok := m.groups[name]; return ok }

// GIDInUse reports whether any group has gid.
func (m *Machine) GIDInUse(gid uint32) bool { return len(m.byGID[gid]) > 0 }

// UIDInUse reports whether any account has uid.
func (m *Machine) UIDInUse(uid uint32) bool { return len(m.byUID[uid]) > 0 }

// ManagedGroups lists the managed groups' names, sorted.
func (m *Machine) ManagedGroups() []string {
	var out []string
	for n := range m.managed {
		if m.GroupManaged(n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// guessManagedGroups is the record's stand-in on a machine that has none
// yet (an install from before it): groups in the gid range that are no
// account's primary group and whose members, at least one, are all
// managed. The first recorded change writes these down with it.
func (m *Machine) guessManagedGroups() map[string]bool {
	primary := map[uint32]bool{}
	for _, a := range m.users {
		primary[a.gid] = true
	}
	out := map[string]bool{}
	for name, g := range m.groups {
		if name == m.p.MarkerGroup || !m.p.GIDAllowed(g.gid) || primary[g.gid] || len(g.members) == 0 {
			continue
		}
		all := true
		for _, u := range g.members {
			if !m.UserManaged(u) {
				all = false
				break
			}
		}
		if all {
			out[name] = true
		}
	}
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
	for n := range m.managed {
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
