package acl

import (
	"regexp"

	"github.com/threefoldtech/hero_codescalers/sdk/check"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

var (
	permsRE = regexp.MustCompile(`^[rwx-]{0,3}$`)
	idRE    = regexp.MustCompile(`^[0-9]{1,10}$`)
)

// ValidateEntries checks entries: a known tag, a qualifier exactly for the
// named tags (a name or a numeric id), perms from "rwx-" without repeats.
func ValidateEntries(entries []Entry) error {
	for _, e := range entries {
		if err := validateEntry(e); err != nil {
			return err
		}
	}
	return nil
}

func validateEntry(e Entry) error {
	switch e.Tag {
	case TagUser, TagGroup:
		if e.Qualifier == "" {
			return sdkerr.Invalid("entries.qualifier", "a %s entry needs a qualifier", e.Tag)
		}
		if !idRE.MatchString(e.Qualifier) {
			if err := check.Name("entries.qualifier", e.Qualifier); err != nil {
				return err
			}
		}
	case TagUserObj, TagGroupObj, TagMask, TagOther:
		if e.Qualifier != "" {
			return sdkerr.Invalid("entries.qualifier", "a %s entry takes no qualifier", e.Tag)
		}
	default:
		return sdkerr.Invalid("entries.tag", "unknown tag %q", e.Tag)
	}
	return validatePerms(e.Perms)
}

func validatePerms(p string) error {
	if !permsRE.MatchString(p) {
		return sdkerr.Invalid("entries.perms", "%q is not a subset of rwx", p)
	}
	seen := map[rune]bool{}
	for _, r := range p {
		if r != '-' && seen[r] {
			return sdkerr.Invalid("entries.perms", "%q repeats %c", p, r)
		}
		seen[r] = true
	}
	return nil
}

// NormalizePerms renders perms in getfacl's fixed form: "r-x".
func NormalizePerms(p string) string {
	out := []byte("---")
	for i, c := range []byte("rwx") {
		for j := 0; j < len(p); j++ {
			if p[j] == c {
				out[i] = c
			}
		}
	}
	return string(out)
}

// ValidatePathEntries checks a Grant or Revoke request: an absolute, clean
// path and at least one valid entry.
func ValidatePathEntries(path string, entries []Entry) error {
	if err := check.AbsPath("path", path); err != nil {
		return err
	}
	if len(entries) == 0 {
		return sdkerr.Invalid("entries", "at least one entry is required")
	}
	return ValidateEntries(entries)
}
