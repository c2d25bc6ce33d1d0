package policy

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Source is the account files a Machine judges by: passwd and group.
// ReadMachine reads its own; a caller that holds the files parsed already
// answers from them (and indexes them as it likes), so judging a change
// costs no second read and no second index of every account.
type Source interface {
	// User is the first passwd entry of name, as getpwnam finds it.
	User(name string) (uid, gid uint32, ok bool)
	// Group is the first group entry of name, as getgrnam finds it.
	Group(name string) (gid uint32, members []string, ok bool)
	// Users calls fn for every passwd entry, Groups for every group entry,
	// in file order.
	Users(fn func(name string, uid, gid uint32))
	Groups(fn func(name string, gid uint32, members []string))
}

// fileSource is passwd and group as ReadMachine reads them.
type fileSource struct {
	users     map[string]account // first entry of a name
	groups    map[string]group
	userList  []namedAccount // every entry, in order
	groupList []namedGroup
}

type account struct{ uid, gid uint32 }

type group struct {
	gid     uint32
	members []string
}

type namedAccount struct {
	name string
	account
}

type namedGroup struct {
	name string
	group
}

func (s *fileSource) User(name string) (uint32, uint32, bool) {
	a, ok := s.users[name]
	return a.uid, a.gid, ok
}

func (s *fileSource) Group(name string) (uint32, []string, bool) {
	g, ok := s.groups[name]
	return g.gid, g.members, ok
}

func (s *fileSource) Users(fn func(string, uint32, uint32)) {
	for _, a := range s.userList {
		fn(a.name, a.uid, a.gid)
	}
}

func (s *fileSource) Groups(fn func(string, uint32, []string)) {
	for _, g := range s.groupList {
		fn(g.name, g.gid, g.members)
	}
}

// readFiles reads etcDir's passwd and group.
func readFiles(etcDir string) (*fileSource, error) {
	s := &fileSource{}
	if err := eachLine(filepath.Join(etcDir, "passwd"), func(n int) {
		s.users, s.userList = make(map[string]account, n), make([]namedAccount, 0, n)
	}, func(f []string) {
		if len(f) < 4 {
			return
		}
		uid, err1 := strconv.ParseUint(f[2], 10, 32)
		gid, err2 := strconv.ParseUint(f[3], 10, 32)
		if err1 != nil || err2 != nil {
			return
		}
		a := account{uid: uint32(uid), gid: uint32(gid)}
		if _, dup := s.users[f[0]]; !dup {
			s.users[f[0]] = a
		}
		s.userList = append(s.userList, namedAccount{f[0], a})
	}); err != nil {
		return nil, err
	}
	if err := eachLine(filepath.Join(etcDir, "group"), func(n int) {
		s.groups, s.groupList = make(map[string]group, n), make([]namedGroup, 0, n)
	}, func(f []string) {
		if len(f) < 4 {
			return
		}
		gid, err := strconv.ParseUint(f[2], 10, 32)
		if err != nil {
			return
		}
		g := group{gid: uint32(gid)}
		if f[3] != "" {
			g.members = strings.Split(f[3], ",")
		}
		if _, dup := s.groups[f[0]]; !dup {
			s.groups[f[0]] = g
		}
		s.groupList = append(s.groupList, namedGroup{f[0], g})
	}); err != nil {
		return nil, err
	}
	return s, nil
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
