package discover

import (
	"os/user"
	"strconv"
)

// System resolves users through os/user: the passwd database, through
// NSS when the binary is built with cgo.
type System struct{}

var _ Users = System{}

func (System) UID(name string) (int, bool) {
	u, err := user.Lookup(name)
	if err != nil {
		return 0, false
	}
	uid, err := strconv.Atoi(u.Uid)
	return uid, err == nil
}

func (System) Name(uid int) (string, bool) {
	u, err := user.LookupId(strconv.Itoa(uid))
	if err != nil {
		return "", false
	}
	return u.Username, true
}

// memo remembers the answers of one Find, which asks about the same few
// users once per session.
type memo struct {
	Users
	uids  map[string]int
	names map[int]string
}

func newMemo(u Users) *memo { return &memo{Users: u, uids: map[string]int{}, names: map[int]string{}} }

func (m *memo) UID(name string) (int, bool) {
	if uid, ok := m.uids[name]; ok {
		return uid, uid >= 0
	}
	uid, ok := m.Users.UID(name)
	if !ok {
		uid = -1
	}
	m.uids[name] = uid
	return uid, ok
}

func (m *memo) Name(uid int) (string, bool) {
	if name, ok := m.names[uid]; ok {
		return name, name != ""
	}
	name, _ := m.Users.Name(uid)
	m.names[uid] = name
	return name, name != ""
}
