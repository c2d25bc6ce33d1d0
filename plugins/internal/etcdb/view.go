package etcdb

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// Today is the day number shadow counts in (days since 1970-01-01 UTC).
func Today() int64 { return time.Now().Unix() / 86400 }

// memberCache keeps memberships for the group table it was built from, as
// long as that table is not edited: a batch reads back each of its users,
// and building the map for each was quadratic in the machine's accounts.
type memberCache struct {
	of    *Table
	edits int
	m     map[string][]string
}

// memberships maps each user to the groups that list it as a member. The
// map is shared: callers copy what they keep.
func (db *DB) memberships() map[string][]string {
	g := db.group()
	if c := &db.member; g != nil && c.m != nil && c.of == g && c.edits == g.edits {
		return c.m
	}
	out := map[string][]string{}
	db.group().Records(func(f []string) {
		if len(f) < 4 {
			return
		}
		for _, m := range SplitList(f[3]) {
			if !slices.Contains(out[m], f[0]) {
				out[m] = append(out[m], f[0])
			}
		}
	})
	if g != nil {
		db.member = memberCache{of: g, edits: g.edits, m: out}
	}
	return out
}

// HasUser reports whether passwd has a well-formed record of that name:
// what User would find, without reading the user's groups.
func (db *DB) HasUser(name string) bool { return len(db.passwd().Get(name)) >= 7 }

// User returns the named user as the machine holds it.
func (db *DB) User(name string) (accounts.User, error) {
	return db.user(name, nil)
}

func (db *DB) user(name string, member map[string][]string) (accounts.User, error) {
	f := db.passwd().Get(name)
	if len(f) < 7 {
		return accounts.User{}, notFoundUser(name)
	}
	uid, _ := parseID(f[2])
	gid, _ := parseID(f[3])
	u := accounts.User{Name: name, UID: uid, GID: gid, GECOS: f[4], Home: f[5], Shell: f[6],
		Locked: db.Locked(name)}
	if member == nil {
		member = db.memberships()
	}
	u.Groups = slices.Clone(member[name])
	sort.Strings(u.Groups)
	return u, nil
}

// Users lists the users, or only the members of group (listed in it, or
// with it as their primary group), sorted by name. A missing group lists
// nobody: the marker group does not exist before the first create.
func (db *DB) Users(group string) ([]accounts.User, error) {
	var gid uint32
	if group != "" {
		var ok bool
		if gid, ok = db.GID(group); !ok {
			return nil, nil // a group that does not exist has no members
		}
	}
	member := db.memberships()
	var out []accounts.User
	for _, name := range db.passwd().Names() {
		u, err := db.user(name, member)
		if err != nil {
			continue // a malformed line is not a user
		}
		if group == "" || u.GID == gid || slices.Contains(u.Groups, group) {
			out = append(out, u)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Password returns the user's password field: from shadow when the system
// keeps one, else from passwd.
func (db *DB) Password(name string) string {
	if db.Has(Shadow) {
		return db.shadow().Field(name, 1)
	}
	return db.passwd().Field(name, 1)
}

// Locked reports whether the account cannot log in: its password field is
// locked ("!" prefix, what usermod -L and sshd look at) or the account has
// expired (shadow's expire field, usermod --expiredate).
func (db *DB) Locked(name string) bool {
	if strings.HasPrefix(db.Password(name), "!") {
		return true
	}
	exp := db.shadow().Field(name, 7)
	if exp == "" {
		return false
	}
	day, err := strconv.ParseInt(exp, 10, 64)
	return err == nil && day >= 0 && day <= Today()
}

// Group returns the named group.
func (db *DB) Group(name string) (accounts.Group, error) {
	f := db.group().Get(name)
	if len(f) < 3 {
		return accounts.Group{}, sdkerr.Errorf(sdkerr.NotFound, "group %q not found", name)
	}
	gid, _ := parseID(f[2])
	g := accounts.Group{Name: name, GID: gid}
	if len(f) > 3 {
		g.Members = SplitList(f[3])
	}
	sort.Strings(g.Members)
	return g, nil
}

// IsMember reports whether user belongs to group: listed as a member, or
// with it as the primary group.
func (db *DB) IsMember(user, group string) bool {
	gid, ok := db.GID(group)
	if !ok {
		return false
	}
	if f := db.group().Get(group); len(f) > 3 && slices.Contains(SplitList(f[3]), user) {
		return true
	}
	pf := db.passwd().Get(user)
	if len(pf) < 4 {
		return false
	}
	pgid, ok := parseID(pf[3])
	return ok && pgid == gid
}
