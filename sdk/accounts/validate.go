package accounts

import (
	"github.com/threefoldtech/hero_codescalers/sdk/check"
)

// ValidateUserSpec checks a spec before any tool sees it. The server adapter
// runs it on every request; plugins need not repeat it.
func ValidateUserSpec(s UserSpec) error {
	if err := check.Name("name", s.Name); err != nil {
		return err
	}
	if err := check.OptionalName("primary_group", s.PrimaryGroup); err != nil {
		return err
	}
	if err := check.Names("groups", s.Groups); err != nil {
		return err
	}
	if err := check.OptionalName("marker_group", s.MarkerGroup); err != nil {
		return err
	}
	if s.Shell != "" {
		if err := check.AbsPath("shell", s.Shell); err != nil {
			return err
		}
	}
	if s.Home != "" {
		if err := check.AbsPath("home", s.Home); err != nil {
			return err
		}
	}
	return check.NoControl("gecos", s.GECOS, ":")
}

// ValidateUserRef checks the name and marker group of a call on one user
// (DeleteUser, LockUser, UnlockUser, SetUserGroups).
func ValidateUserRef(name, markerGroup string) error {
	if err := check.Name("name", name); err != nil {
		return err
	}
	return check.OptionalName("marker_group", markerGroup)
}
