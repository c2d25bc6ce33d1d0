package etcdb

import (
	"path/filepath"
	"strconv"

	"github.com/threefoldtech/hero_codescalers/sdk/fsutil"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// The account files, in the order shadow-utils locks and writes them
// (userdel and newusers: passwd, shadow, group, gshadow, subuid, subgid).
const (
	Passwd  = "passwd"
	Shadow  = "shadow"
	Group   = "group"
	GShadow = "gshadow"
	SubUID  = "subuid"
	SubGID  = "subgid"
)

// Files lists the account files in lock and write order.
var Files = []string{Passwd, Shadow, Group, GShadow, SubUID, SubGID}

// maxFile bounds what is read of one account file.
const maxFile = 64 << 20

// DB is one consistent read of the account files in a directory (normally
// /etc). A file that does not exist has a nil table, except passwd and
// group, which must exist.
type DB struct {
	Dir    string
	Tables map[string]*Table
	orig   map[string][]byte
	member memberCache
}

// Load reads the account files of dir. Nothing is followed through a
// symlink.
func Load(dir string) (*DB, error) {
	db := &DB{Dir: dir, Tables: map[string]*Table{}, orig: map[string][]byte{}}
	for _, name := range Files {
		data, _, err := fsutil.ReadFileNoFollow(filepath.Join(dir, name), maxFile)
		if fsutil.IsNotFound(err) && name != Passwd && name != Group {
			continue
		}
		if err != nil {
			return nil, err
		}
		db.orig[name] = data
		db.Tables[name] = ParseTable(data)
	}
	return db, nil
}

// Has reports whether the file exists (was loaded).
func (db *DB) Has(name string) bool { return db.Tables[name] != nil }

// Changed lists, in write order, the files whose content differs from what
// was loaded.
func (db *DB) Changed() []string {
	var out []string
	for _, name := range Files {
		t := db.Tables[name]
		if t != nil && string(t.Bytes()) != string(db.orig[name]) {
			out = append(out, name)
		}
	}
	return out
}

// Original returns the content a file had when loaded.
func (db *DB) Original(name string) []byte { return db.orig[name] }

// passwd returns the tables by role, for brevity.
func (db *DB) passwd() *Table  { return db.Tables[Passwd] }
func (db *DB) shadow() *Table  { return db.Tables[Shadow] }
func (db *DB) group() *Table   { return db.Tables[Group] }
func (db *DB) gshadow() *Table { return db.Tables[GShadow] }

// parseID parses a uid or gid field.
func parseID(s string) (uint32, bool) {
	n, err := strconv.ParseUint(s, 10, 32)
	return uint32(n), err == nil
}

// UsedUIDs returns every uid of passwd.
func (db *DB) UsedUIDs() map[uint32]bool {
	used := map[uint32]bool{}
	db.passwd().Records(func(f []string) {
		if len(f) > 2 {
			if id, ok := parseID(f[2]); ok {
				used[id] = true
			}
		}
	})
	return used
}

// UsedGIDs returns every gid of group.
func (db *DB) UsedGIDs() map[uint32]bool {
	used := map[uint32]bool{}
	db.group().Records(func(f []string) {
		if len(f) > 2 {
			if id, ok := parseID(f[2]); ok {
				used[id] = true
			}
		}
	})
	return used
}

// GroupNameByGID returns the first group with that gid.
func (db *DB) GroupNameByGID(gid uint32) (string, bool) {
	name, found := "", false
	want := strconv.FormatUint(uint64(gid), 10)
	db.group().Records(func(f []string) {
		if !found && len(f) > 2 && f[2] == want {
			name, found = f[0], true
		}
	})
	return name, found
}

// HasGroup reports whether group has a record of that name.
func (db *DB) HasGroup(name string) bool { _, ok := db.GID(name); return ok }

// GID returns the gid of the named group.
func (db *DB) GID(group string) (uint32, bool) {
	f := db.group().Get(group)
	if len(f) < 3 {
		return 0, false
	}
	return parseID(f[2])
}

// notFoundUser is the error of a missing user.
func notFoundUser(name string) error {
	return sdkerr.Errorf(sdkerr.NotFound, "user %q not found", name)
}
