// Package check holds the input checks every plugin applies before it
// touches the OS. The server adapters run them on each request, so a Go
// plugin never sees a name like "-rf" or a path like "/home/../etc"; plugins
// in other languages must apply the same rules, and sdk/plugintest verifies
// that they do. The checks are a safety floor, not policy: the host refuses
// more (reserved names, upper case) before it calls a plugin.
package check

import (
	"path"
	"regexp"
	"strings"
	"sync"

	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// nameRE admits the user and group names that are safe to hand to any tool:
// no leading "-" (read as an option), no "/" or ".." (read as a path), no ":"
// or newline (field and record separators of /etc/passwd), at most 32 bytes.
// Upper case and "." are admitted because real systems have such accounts
// (Debian-exim); the host's own rule is stricter.
// It is compiled on first use: its bounded repetition is costly to
// compile, and every binary linking the sdk would pay for it at start.
var nameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9._-]{0,31}$`) })

// MaxPath bounds a path's length, as PATH_MAX does.
const MaxPath = 4095

// Name checks a user or group name.
func Name(field, name string) error {
	if name == "" {
		return sdkerr.Invalid(field, "is required")
	}
	if !nameRE().MatchString(name) {
		return sdkerr.Invalid(field, "%q must match %s", name, nameRE())
	}
	return nil
}

// OptionalName checks a name that may be empty.
func OptionalName(field, name string) error {
	if name == "" {
		return nil
	}
	return Name(field, name)
}

// Names checks every name of a list.
func Names(field string, names []string) error {
	for _, n := range names {
		if err := Name(field, n); err != nil {
			return err
		}
	}
	return nil
}

// AbsPath checks that p is absolute, clean (no "." or ".." elements, no
// double or trailing slash), not the root itself and free of NUL and
// newlines, so that the path a plugin acts on is the path the host named.
func AbsPath(field, p string) error {
	switch {
	case p == "":
		return sdkerr.Invalid(field, "is required")
	case len(p) > MaxPath:
		return sdkerr.Invalid(field, "is longer than %d bytes", MaxPath)
	case !strings.HasPrefix(p, "/"):
		return sdkerr.Invalid(field, "%q is not absolute", p)
	case strings.ContainsAny(p, "\x00\n"):
		return sdkerr.Invalid(field, "%q holds a NUL or newline", p)
	case p == "/":
		return sdkerr.Invalid(field, "must not be the root directory")
	case path.Clean(p) != p:
		return sdkerr.Invalid(field, "%q is not clean (want %q)", p, path.Clean(p))
	}
	for elem := range strings.SplitSeq(p, "/") {
		if elem == ".." {
			return sdkerr.Invalid(field, "%q holds ..", p)
		}
	}
	return nil
}

// Mode checks unix permission bits (with setuid, setgid and sticky).
func Mode(field string, mode uint32) error {
	if mode > 0o7777 {
		return sdkerr.Invalid(field, "%#o has bits beyond 07777", mode)
	}
	return nil
}

// NoControl checks free text (a comment, a GECOS field) for control
// characters and the given separators, which would break the file it is
// written into.
func NoControl(field, s, separators string) error {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(separators, r) {
			return sdkerr.Invalid(field, "holds a control character or one of %q", separators)
		}
	}
	return nil
}
