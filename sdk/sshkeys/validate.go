package sshkeys

import (
	"github.com/threefoldtech/hero_codescalers/sdk/check"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// ValidateKeypairSpec checks a keypair request.
func ValidateKeypairSpec(s KeypairSpec) error {
	if err := check.AbsPath("dir", s.Dir); err != nil {
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
