package sshkeys

import (
	"github.com/threefoldtech/hero_codescalers/sdk/check"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// ValidateKeypairSpec checks a keypair request: a valid user, and a
// directory (given, or the home's .ssh).
func ValidateKeypairSpec(s KeypairSpec) error {
	if err := s.User.Validate(); err != nil {
		return err
	}
	if s.Dir == "" {
		if err := check.AbsPath("user.home", s.User.Home); err != nil {
			return sdkerr.Invalid("dir", "is required when the user has no home")
		}
	} else if err := check.AbsPath("dir", s.Dir); err != nil {
		return err
	}
	return check.NoControl("comment", s.Comment, "")
}

// ValidateKeys checks that every key is a well-formed public key line.
func ValidateKeys(keys []string) error {
	for i, k := range keys {
		if _, err := ParseAuthorizedKey(k); err != nil {
			if e, ok := err.(*sdkerr.Error); ok {
				return sdkerr.Invalid("keys", "key %d: %s", i+1, e.Message)
			}
			return err
		}
	}
	return nil
}
