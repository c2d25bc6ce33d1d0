package files

import (
	"strings"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/etcdb"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
)

// deleteUserIn removes the user as userdel does: passwd and shadow
// entries, every group membership, its own group when nothing else uses it
// (USERGROUPS_ENAB), and its subordinate id ranges.
func deleteUserIn(db *etcdb.DB, u accounts.User) {
	db.Tables[etcdb.Passwd].Delete(u.Name)
	db.Tables[etcdb.Shadow].Delete(u.Name)
	removeMember(db, u.Name)
	if ownGroupUnused(db, u) {
		db.Tables[etcdb.Group].Delete(u.Name)
		db.Tables[etcdb.GShadow].Delete(u.Name)
	}
	db.Tables[etcdb.SubUID].Delete(u.Name)
	db.Tables[etcdb.SubGID].Delete(u.Name)
}

// ownGroupUnused reports whether the group named like u is u's primary
// group, has no members and is no other user's primary group.
func ownGroupUnused(db *etcdb.DB, u accounts.User) bool {
	g, err := db.Group(u.Name)
	if err != nil || g.GID != u.GID || len(g.Members) > 0 {
		return false
	}
	users, _ := db.Users(u.Name)
	return len(users) == 0
}

// setLocked locks (a "!" before the password, expired since day 1) or
// unlocks (one "!" fewer, "*" if nothing would remain; no expiry) the
// account, as usermod -L -e 1 and usermod -U -e ” do.
func setLocked(db *etcdb.DB, name string, locked bool) {
	file, pwField := etcdb.Shadow, 1
	if !db.Has(etcdb.Shadow) {
		file = etcdb.Passwd // no shadow: no expiry either
	}
	t := db.Tables[file]
	f := t.Get(name)
	if f == nil {
		return
	}
	if file == etcdb.Shadow {
		f = pad(f, 9)
	}
	pw := f[pwField]
	switch {
	case locked && !strings.HasPrefix(pw, "!"):
		pw = "!" + pw
	case !locked && strings.HasPrefix(pw, "!"):
		pw = pw[1:]
		if strings.TrimLeft(pw, "!") == "" {
			pw = "*"
		}
	}
	f[pwField] = pw
	if file == etcdb.Shadow {
		f[7] = ""
		if locked {
			f[7] = "1"
		}
	}
	t.Put(f)
}

// setUserGroups makes want the user's exact supplementary groups.
func setUserGroups(db *etcdb.DB, name string, want []string) {
	for _, g := range db.Tables[etcdb.Group].Names() {
		in := false
		for _, w := range want {
			in = in || w == g
		}
		listed := strings.Contains(","+db.Tables[etcdb.Group].Field(g, 3)+",", ","+name+",")
		switch {
		case in && !listed:
			addMember(db, g, name)
		case !in && listed:
			editMembers(db, g, func(m []string) []string {
				out := m[:0]
				for _, x := range m {
					if x != name {
						out = append(out, x)
					}
				}
				return out
			})
		}
	}
}
