package files

import (
	"slices"
	"strconv"
	"strings"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/etcdb"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// The edits below change the tables of a DB the way the shadow-utils tools
// change the files, so that an account made here is the same, field for
// field, as one useradd makes (see the comparison in the unit tests).

func id(n uint32) string { return strconv.FormatUint(uint64(n), 10) }

// addGroupEntry adds a group as groupadd does: "name:x:gid:" and, where
// gshadow is kept, "name:!::".
func addGroupEntry(db *etcdb.DB, name string, gid uint32) {
	db.Tables[etcdb.Group].Put([]string{name, "x", id(gid), ""})
	if db.Has(etcdb.GShadow) {
		db.Tables[etcdb.GShadow].Put([]string{name, "!", "", ""})
	}
}

// deleteGroupIn removes a group's entries from group and gshadow.
func deleteGroupIn(db *etcdb.DB, name string) {
	db.Tables[etcdb.Group].Delete(name)
	db.Tables[etcdb.GShadow].Delete(name)
}

// createGroupIn adds a group, allocating its gid when gid is 0.
func createGroupIn(db *etcdb.DB, d etcdb.Defs, name string, gid uint32) error {
	if gid == 0 {
		var err error
		if gid, err = db.NextGID(d, 0); err != nil {
			return err
		}
	} else if db.UsedGIDs()[gid] {
		return sdkerr.Errorf(sdkerr.AlreadyExists, "gid %d is taken", gid)
	}
	addGroupEntry(db, name, gid)
	return nil
}

// editMembers applies fn to the member list (field 3) of the group in
// group and, when present, in gshadow.
func editMembers(db *etcdb.DB, group string, fn func([]string) []string) {
	for _, file := range []string{etcdb.Group, etcdb.GShadow} {
		t := db.Tables[file]
		f := t.Get(group)
		if f == nil {
			continue
		}
		f = pad(f, 4)
		f[3] = strings.Join(fn(etcdb.SplitList(f[3])), ",")
		t.Put(f)
	}
}

func addMember(db *etcdb.DB, group, user string) {
	editMembers(db, group, func(m []string) []string {
		if slices.Contains(m, user) {
			return m
		}
		return append(m, user)
	})
}

// removeMember drops user from every group's members, and from gshadow's
// administrators, as userdel does.
func removeMember(db *etcdb.DB, user string) {
	drop := func(list string) string {
		return strings.Join(slices.DeleteFunc(etcdb.SplitList(list), func(m string) bool { return m == user }), ",")
	}
	for _, file := range []string{etcdb.Group, etcdb.GShadow} {
		t := db.Tables[file]
		for _, name := range t.Names() {
			f := pad(t.Get(name), 4)
			nf := slices.Clone(f)
			nf[3] = drop(f[3])
			if file == etcdb.GShadow {
				nf[2] = drop(f[2])
			}
			if !slices.Equal(nf, f) {
				t.Put(nf)
			}
		}
	}
}

// pad extends a record to n fields.
func pad(f []string, n int) []string {
	for len(f) < n {
		f = append(f, "")
	}
	return f
}

// createUserIn adds spec's user (which passed Judge.Spec and Judge.Fresh)
// as `useradd -p '*' -U -G ...` would, creating the marker group first
// when it is missing. The caller has checked the name is free.
func createUserIn(db *etcdb.DB, d etcdb.Defs, spec accounts.UserSpec) error {
	// The subordinate ranges are found before anything is written: a
	// failed create in a batch must leave no entry behind.
	if err := checkSubIDs(db, d); err != nil {
		return err
	}
	if _, ok := db.GID(spec.MarkerGroup); spec.MarkerGroup != "" && !ok {
		if err := createGroupIn(db, d, spec.MarkerGroup, 0); err != nil {
			return err
		}
	}
	uid, err := pickUID(db, d, spec.UID)
	if err != nil {
		return err
	}
	gid, err := primaryGID(db, d, spec, uid)
	if err != nil {
		return err
	}
	pw := "x"
	if !db.Has(etcdb.Shadow) {
		pw = "*" // no shadow file: the password field lives in passwd
	}
	db.Tables[etcdb.Passwd].Put([]string{spec.Name, pw, id(uid), id(gid), spec.GECOS, d.Home(spec), d.ShellOf(spec)})
	if db.Has(etcdb.Shadow) {
		today := strconv.FormatInt(etcdb.Today(), 10)
		db.Tables[etcdb.Shadow].Put([]string{spec.Name, "*", today, d.PassMinDays, d.PassMaxDays, d.PassWarnAge, "", "", ""})
	}
	for _, g := range supplementary(spec.Groups, spec.MarkerGroup) {
		addMember(db, g, spec.Name)
	}
	return addSubIDs(db, d, spec.Name, spec.UID)
}

// addSubIDs gives a new user subordinate uid and gid ranges where useradd
// would: each file that exists, when login.defs' count is not 0 and the
// user's uid was allocated or asked for within UID_MIN..UID_MAX (the
// policy's range, which useradd gets with -K).
func addSubIDs(db *etcdb.DB, d etcdb.Defs, name string, asked uint32) error {
	if asked != 0 && (asked < d.UIDMin || asked > d.UIDMax) {
		return nil
	}
	if err := db.AddSubIDs(etcdb.SubUID, name, d.SubUID); err != nil {
		return err
	}
	return db.AddSubIDs(etcdb.SubGID, name, d.SubGID)
}

// checkSubIDs fails as addSubIDs would, without changing db.
func checkSubIDs(db *etcdb.DB, d etcdb.Defs) error {
	if err := db.CheckSubIDs(etcdb.SubUID, d.SubUID); err != nil {
		return err
	}
	return db.CheckSubIDs(etcdb.SubGID, d.SubGID)
}

func pickUID(db *etcdb.DB, d etcdb.Defs, want uint32) (uint32, error) {
	if want == 0 {
		return db.NextUID(d)
	}
	if db.UsedUIDs()[want] {
		return 0, sdkerr.Errorf(sdkerr.AlreadyExists, "uid %d is taken", want)
	}
	return want, nil
}

// primaryGID makes the user's own group, named like the user, with gid =
// uid when that is free and in the range (useradd -U).
func primaryGID(db *etcdb.DB, d etcdb.Defs, spec accounts.UserSpec, uid uint32) (uint32, error) {
	if _, ok := db.GID(spec.Name); ok {
		return 0, sdkerr.Errorf(sdkerr.AlreadyExists, "group %q exists; a new user's own group must be new", spec.Name)
	}
	gid, err := db.NextGID(d, uid)
	if err != nil {
		return 0, err
	}
	addGroupEntry(db, spec.Name, gid)
	return gid, nil
}

// supplementary is groups plus the marker group, sorted, without repeats.
func supplementary(groups []string, marker string) []string {
	out := slices.Clone(groups)
	if marker != "" {
		out = append(out, marker)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
