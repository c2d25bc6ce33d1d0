package etcdb

import (
	"fmt"
	"slices"
	"strings"

	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// ValidateSpec adds to accounts.ValidateUserSpec what the account files
// themselves cannot hold: a ':' in the home or shell would split the
// passwd line.
func ValidateSpec(s accounts.UserSpec) error {
	if err := accounts.ValidateUserSpec(s); err != nil {
		return err
	}
	if strings.Contains(s.Home, ":") {
		return sdkerr.Invalid("home", "%q holds a ':'", s.Home)
	}
	if strings.Contains(s.Shell, ":") {
		return sdkerr.Invalid("shell", "%q holds a ':'", s.Shell)
	}
	return nil
}

// Home is the home a spec asks for: its own or useradd's default.
func (d Defs) Home(s accounts.UserSpec) string {
	if s.Home != "" {
		return s.Home
	}
	return d.DefaultHome(s.Name)
}

// ShellOf is the login shell a spec asks for: its own or useradd's default.
func (d Defs) ShellOf(s accounts.UserSpec) string {
	if s.Shell != "" {
		return s.Shell
	}
	return d.Shell
}

// Mismatch says how the existing user of spec.Name differs from what spec
// asks for, "" when it is the same account (same uid when one is given,
// home, shell, GECOS, primary group, in the marker group). Missing
// supplementary groups are not a mismatch: MissingGroups lists them so a
// repeated create can add them.
func (db *DB) Mismatch(spec accounts.UserSpec, d Defs) string {
	u, err := db.User(spec.Name)
	if err != nil {
		return "does not exist"
	}
	var diffs []string
	add := func(field string, have, want any) {
		diffs = append(diffs, fmt.Sprintf("%s %v (want %v)", field, have, want))
	}
	if spec.UID != 0 && u.UID != spec.UID {
		add("uid", u.UID, spec.UID)
	}
	if want := d.Home(spec); u.Home != want {
		add("home", u.Home, want)
	}
	if spec.Shell != "" && u.Shell != spec.Shell {
		add("shell", u.Shell, spec.Shell)
	}
	if u.GECOS != spec.GECOS {
		add("gecos", u.GECOS, spec.GECOS)
	}
	primary := spec.PrimaryGroup
	if primary == "" {
		primary = spec.Name
	}
	if gid, ok := db.GID(primary); !ok || gid != u.GID {
		add("primary gid", u.GID, "group "+primary)
	}
	if spec.MarkerGroup != "" && !db.IsMember(spec.Name, spec.MarkerGroup) {
		diffs = append(diffs, "not in the marker group "+spec.MarkerGroup)
	}
	if u.UID == 0 {
		diffs = append(diffs, "uid 0")
	}
	return strings.Join(diffs, ", ")
}

// MissingGroups lists the supplementary groups of spec the existing user
// is not in.
func (db *DB) MissingGroups(spec accounts.UserSpec) []string {
	var out []string
	for _, g := range spec.Groups {
		if !db.IsMember(spec.Name, g) && !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}

// Existing answers a create of a name that exists: the user when it is the
// same account (idempotent create), AlreadyExists otherwise.
func (db *DB) Existing(spec accounts.UserSpec, d Defs) (accounts.User, error) {
	if diff := db.Mismatch(spec, d); diff != "" {
		return accounts.User{}, sdkerr.Errorf(sdkerr.AlreadyExists, "user %q exists and differs: %s", spec.Name, diff)
	}
	return db.User(spec.Name)
}
